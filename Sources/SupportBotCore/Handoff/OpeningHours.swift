import Foundation

/// When people are there to take handed-off chats. Read from `handoff.opening_hours` in `_settings.yml`;
/// without it, people are assumed to be there at all times.
public struct OpeningHours: Sendable, Equatable {
    /// Open minutes of the day per weekday (1 = Sunday … 7 = Saturday, as in `Calendar`).
    public var days: [Int: [Range<Int>]]
    public var timeZone: TimeZone

    public static let dayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// Open all day, every day.
    public static let always = OpeningHours(
        days: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [0..<1440]) }), timeZone: TimeZone(identifier: "UTC")!)

    public init(days: [Int: [Range<Int>]], timeZone: TimeZone) {
        self.days = days
        self.timeZone = timeZone
    }

    public var isAlwaysOpen: Bool { (1...7).allSatisfy { days[$0] == [0..<1440] } }

    /// Parses "08:00-18:00", "9:00-12:30, 13:30-17:00" or "closed". Returns nil if it can't.
    public static func parseDay(_ text: String) -> [Range<Int>]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "closed" { return [] }
        if trimmed.isEmpty { return nil }
        var ranges: [Range<Int>] = []
        for part in trimmed.split(separator: ",") {
            let ends = part.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
            guard ends.count == 2, let start = minutes(ends[0]), let end = minutes(ends[1]), start < end else {
                return nil
            }
            ranges.append(start..<end)
        }
        return ranges.sorted { $0.lowerBound < $1.lowerBound }
    }

    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard (1...2).contains(parts.count), let hours = Int(parts[0]), (0...24).contains(hours) else { return nil }
        let mins = parts.count == 2 ? Int(parts[1]) : 0
        guard let mins, (0..<60).contains(mins), hours * 60 + mins <= 1440 else { return nil }
        return hours * 60 + mins
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    public func isOpen(at date: Date) -> Bool {
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        return (days[parts.weekday ?? 1] ?? []).contains { $0.contains(minute) }
    }

    /// The next time people are there, strictly after `date` when closed now; nil if never open.
    public func nextOpening(after date: Date) -> Date? {
        let calendar = calendar
        let startOfDay = calendar.startOfDay(for: date)
        for offset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: startOfDay) else { continue }
            let weekday = calendar.component(.weekday, from: day)
            for range in days[weekday] ?? [] {
                // By clock time, not minutes after midnight: on a day the clocks change those differ by an hour.
                guard let opening = calendar.date(bySettingHour: range.lowerBound / 60, minute: range.lowerBound % 60,
                                                  second: 0, of: day) else { continue }
                if opening > date { return opening }
            }
        }
        return nil
    }

    /// "today at 8 am", "tomorrow at 9:30 am", "on Monday at 8 am".
    public func describe(_ opening: Date, from now: Date) -> String {
        let calendar = calendar
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: opening)
        let hour = parts.hour ?? 0
        let minute = parts.minute ?? 0
        let clock = (hour % 12 == 0 ? 12 : hour % 12).description
            + (minute == 0 ? "" : String(format: ":%02d", minute)) + (hour < 12 ? " am" : " pm")
        let days = calendar.dateComponents([.day], from: calendar.startOfDay(for: now),
                                           to: calendar.startOfDay(for: opening)).day ?? 0
        switch days {
        case 0: return "today at \(clock)"
        case 1: return "tomorrow at \(clock)"
        default:
            let name = Self.dayNames[(parts.weekday ?? 1) - 1]
            return "on \(name.prefix(1).uppercased() + name.dropFirst()) at \(clock)"
        }
    }
}

/// Settings for handing chats to people, from the `handoff:` section of `knowledge/_settings.yml`.
public struct HandoffSettings: Sendable, Equatable {
    public var moodThreshold: Double = MoodDetector.defaultThreshold
    public var openingHours: OpeningHours = .always

    public init() {}

    public static let settingNames = ["mood_threshold", "timezone", "opening_hours"]
}
