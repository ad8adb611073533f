import Foundation
import Testing
@testable import SupportBotCore

private let london = TimeZone(identifier: "Europe/London")!

/// A moment in London. June 2025: British Summer Time all month; the 6th is a Friday.
private func londonTime(day: Int, hour: Int, minute: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = london
    return calendar.date(from: DateComponents(year: 2025, month: 6, day: day, hour: hour, minute: minute))!
}

private func minutes(_ hour: Int, _ minute: Int = 0) -> Int { hour * 60 + minute }

/// Weekdays 08:00-18:00, weekends closed (1 = Sunday … 7 = Saturday).
private let officeHours = OpeningHours(
    days: [2: [minutes(8)..<minutes(18)], 3: [minutes(8)..<minutes(18)], 4: [minutes(8)..<minutes(18)],
           5: [minutes(8)..<minutes(18)], 6: [minutes(8)..<minutes(18)]],
    timeZone: london)

@Suite("OpeningHours")
struct OpeningHoursTests {
    @Test("parseDay reads one or more ranges, sorted, and 'closed'")
    func parseGood() {
        #expect(OpeningHours.parseDay("09:00-17:00") == [minutes(9)..<minutes(17)])
        #expect(OpeningHours.parseDay(" 9:00 - 12:30, 13:30-17:00 ") == [minutes(9)..<minutes(12, 30),
                                                                          minutes(13, 30)..<minutes(17)])
        #expect(OpeningHours.parseDay("13:00-17:00, 09:00-12:00") == [minutes(9)..<minutes(12),
                                                                       minutes(13)..<minutes(17)])
        #expect(OpeningHours.parseDay("00:00-24:00") == [0..<1440])
        #expect(OpeningHours.parseDay("closed") == [])
        #expect(OpeningHours.parseDay("Closed") == [])
    }

    @Test("parseDay refuses what it can't read", arguments: [
        "9-5pm", "17:00-09:00", "09:00-09:00", "25:00-26:00", "09:60-10:00", "09:00", "open", "09:00-17:00-18:00",
        "23:00-24:30", "nine-five", "09:00-12:00, lunch",
    ])
    func parseBad(text: String) {
        #expect(OpeningHours.parseDay(text) == nil)
    }

    @Test("isOpen uses the opening hours' time zone, with the closing minute already closed")
    func isOpen() {
        #expect(officeHours.isOpen(at: londonTime(day: 6, hour: 12)))
        #expect(officeHours.isOpen(at: londonTime(day: 6, hour: 8)))
        #expect(!officeHours.isOpen(at: londonTime(day: 6, hour: 7, minute: 59)))
        #expect(!officeHours.isOpen(at: londonTime(day: 6, hour: 18)))
        #expect(!officeHours.isOpen(at: londonTime(day: 7, hour: 12)), "Saturday")
        #expect(!officeHours.isOpen(at: londonTime(day: 8, hour: 12)), "Sunday")
        // 07:30 UTC is 08:30 in London in June: open. The same hours in UTC would still be closed.
        let morning = londonTime(day: 6, hour: 8, minute: 30)
        #expect(officeHours.isOpen(at: morning))
        var utcHours = officeHours
        utcHours.timeZone = TimeZone(identifier: "UTC")!
        #expect(!utcHours.isOpen(at: morning))
        #expect(OpeningHours.always.isOpen(at: londonTime(day: 7, hour: 3)))
        #expect(OpeningHours.always.isAlwaysOpen)
        #expect(!officeHours.isAlwaysOpen)
    }

    @Test("Friday evening with weekends closed: next opening is Monday at 8 am")
    func fridayEvening() throws {
        let friday = londonTime(day: 6, hour: 19)
        let next = try #require(officeHours.nextOpening(after: friday))
        #expect(next == londonTime(day: 9, hour: 8))
        #expect(officeHours.describe(next, from: friday) == "on Monday at 8 am")
    }

    @Test("after closing on a weekday: tomorrow at 9:30 am; before opening: today")
    func tomorrowAndToday() throws {
        let hours = OpeningHours(days: Dictionary(uniqueKeysWithValues: (1...7).map {
            ($0, [minutes(9, 30)..<minutes(12), minutes(13)..<minutes(17)])
        }), timeZone: london)
        let evening = londonTime(day: 4, hour: 18)
        let next = try #require(hours.nextOpening(after: evening))
        #expect(next == londonTime(day: 5, hour: 9, minute: 30))
        #expect(hours.describe(next, from: evening) == "tomorrow at 9:30 am")

        let early = londonTime(day: 4, hour: 7)
        let later = try #require(hours.nextOpening(after: early))
        #expect(hours.describe(later, from: early) == "today at 9:30 am")

        let lunch = londonTime(day: 4, hour: 12, minute: 15)
        #expect(!hours.isOpen(at: lunch))
        let afterLunch = try #require(hours.nextOpening(after: lunch))
        #expect(afterLunch == londonTime(day: 4, hour: 13))
        #expect(hours.describe(afterLunch, from: lunch) == "today at 1 pm")
    }

    @Test("describe writes noon and midnight as 12")
    func twelveOClock() {
        let morning = londonTime(day: 4, hour: 7)
        #expect(officeHours.describe(londonTime(day: 4, hour: 12), from: morning) == "today at 12 pm")
        #expect(officeHours.describe(londonTime(day: 5, hour: 0, minute: 5), from: morning) == "tomorrow at 12:05 am")
    }

    @Test("never open: no next opening")
    func neverOpen() {
        let closed = OpeningHours(days: [:], timeZone: london)
        #expect(closed.nextOpening(after: londonTime(day: 6, hour: 12)) == nil)
        #expect(!closed.isOpen(at: londonTime(day: 6, hour: 12)))
    }
}

@Suite("KnowledgeLoader: handoff settings")
struct HandoffSettingsLoaderTests {
    static let settings = """
        shop_name: Pebble & Pine
        handoff:
          mood_threshold: 0.7
          timezone: Europe/London
          opening_hours:
            weekdays: "08:00-18:00"
            friday: "09:00-12:00, 13:00-17:00"
            saturday: closed
        """

    @Test("a handoff section sets the threshold, time zone and hours; unlisted days are closed")
    func valid() throws {
        let handoff = try KnowledgeLoader.handoffSettings(settingsYAML: Self.settings)
        #expect(handoff.moodThreshold == 0.7)
        let hours = handoff.openingHours
        #expect(hours.timeZone.identifier == "Europe/London")
        #expect(hours.days[2] == [minutes(8)..<minutes(18)])
        #expect(hours.days[6] == [minutes(9)..<minutes(12), minutes(13)..<minutes(17)], "friday overrides weekdays")
        #expect(hours.days[7] == [])
        #expect((hours.days[1] ?? []).isEmpty, "sunday is not listed")
        #expect(!hours.isOpen(at: londonTime(day: 6, hour: 12, minute: 30)))
        #expect(hours.isOpen(at: londonTime(day: 5, hour: 17, minute: 30)))
    }

    @Test("the whole knowledge base carries the handoff settings into the engine")
    func intoEngine() throws {
        var files = HandoffShop.files
        files["knowledge/_settings.yml"] = Self.settings
        let engine = SupportEngine(knowledgeBase: try KnowledgeLoader.load(files: files), version: 1)
        #expect(engine.moodDetector.threshold == 0.7)
        #expect(engine.handoffPolicy.moodThreshold == 0.7)
        #expect(engine.knowledgeBase.handoff.openingHours.timeZone.identifier == "Europe/London")
    }

    @Test("weekend and every_day set several days")
    func groups() throws {
        let handoff = try KnowledgeLoader.handoffSettings(settingsYAML: """
            handoff:
              opening_hours:
                every_day: "10:00-16:00"
                weekend: closed
            """)
        #expect(handoff.moodThreshold == MoodDetector.defaultThreshold)
        #expect(handoff.openingHours.timeZone.secondsFromGMT() == 0, "UTC when no timezone is given")
        for weekday in 2...6 { #expect(handoff.openingHours.days[weekday] == [minutes(10)..<minutes(16)]) }
        #expect(handoff.openingHours.days[1] == [])
        #expect(handoff.openingHours.days[7] == [])
    }

    @Test("without a handoff section people are always there and the threshold is the default")
    func missing() throws {
        let handoff = try KnowledgeLoader.handoffSettings(settingsYAML: "shop_name: Pebble & Pine\n")
        #expect(handoff == HandoffSettings())
        #expect(handoff.openingHours.isAlwaysOpen)
    }

    @Test("a bad handoff value is reported at its own line", arguments: [
        ("mood_threshold: 2", "mood_threshold"),
        ("mood_threshold: 0", "mood_threshold"),
        ("mood_threshold: high", "mood_threshold"),
        ("timezone: Mars/Olympus", "timezone"),
        ("opening_hours:\n    funday: \"09:00-17:00\"", "funday"),
        ("opening_hours:\n    monday: 9-5pm", "monday"),
        ("opening_hours: always", "opening_hours"),
        ("moodthreshold: 0.5", "moodthreshold"),
    ])
    func badValue(setting: String, mention: String) throws {
        // Lines 1-3 other settings, 4 handoff:, 5 the setting (its sub-key on line 6).
        let yaml = "shop_name: Pebble & Pine\nemail: help@pebble.example\nreturn_days: \"30\"\nhandoff:\n  \(setting)\n"
        let expectedLine = setting.contains("\n") ? 6 : 5
        do {
            _ = try KnowledgeLoader.handoffSettings(settingsYAML: yaml)
            Issue.record("expected \(setting) to be refused")
        } catch let error as KnowledgeBaseError {
            #expect(error.issues.count == 1, "\(error.issues)")
            let issue = try #require(error.issues.first)
            #expect(issue.location.file == "knowledge/_settings.yml")
            #expect(issue.location.line == expectedLine, "\(issue)")
            #expect(issue.message.contains(mention), "\(issue)")
        }
    }

    @Test("bad values are all reported when loading the whole knowledge base")
    func allReported() {
        var files = HandoffShop.files
        files["knowledge/_settings.yml"] = """
            handoff:
              mood_threshold: 2
              timezone: Nowhere/Special
              opening_hours:
                monday: 9-5pm
                someday: closed
              colour: blue
            """
        let issues = loadIssues(files)
        #expect(issues.map(\.location.line) == [2, 3, 5, 6, 7], "\(issues)")
        #expect(issues.allSatisfy { $0.location.file == "knowledge/_settings.yml" })
        #expect(issues.last?.message.contains("unknown setting handoff.colour") == true, "\(issues)")
    }
}
