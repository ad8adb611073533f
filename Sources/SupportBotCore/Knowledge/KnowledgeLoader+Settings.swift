import Foundation
import Yams

// knowledge/_settings.yml and intents/_synonyms.yml.

extension KnowledgeLoader.Parser {
    mutating func loadSettings() {
        guard let text = files[KnowledgeLoader.settingsFile] else { return }
        let file = KnowledgeLoader.settingsFile
        guard let root = parseYAML(text, file: file) else { return }
        guard let mapping = root.mapping else {
            issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(root)),
                                         "settings must be a list of `name: value` lines"))
            return
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            if key == "matching" {
                loadMatching(value, file: file)
            } else if key == "handoff" {
                loadHandoff(value, file: file)
            } else if key == "lint" {
                loadLint(value, file: file)
            } else if let scalar = value.scalar {
                settings[key] = scalar.string
            } else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(keyNode)),
                                             "the setting '\(key)' must be a single value, not a list"))
            }
        }
    }

    mutating func loadMatching(_ node: Node, file: String) {
        guard let mapping = node.mapping else {
            issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(node)),
                                         "'matching' must hold `name: number` lines"))
            return
        }
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let location = SourceLocation(file: file, line: line(keyNode))
            guard let number = value.scalar.flatMap({ Double($0.string) }) else {
                issues.append(KnowledgeIssue(location, "matching.\(key) must be a number"))
                continue
            }
            if let problem = matching.set(key, to: number) { issues.append(KnowledgeIssue(location, problem)) }
        }
    }

    mutating func loadLint(_ node: Node, file: String) {
        guard let mapping = node.mapping else {
            issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(node)),
                                         "'lint' must hold `name: number` lines"))
            return
        }
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let location = SourceLocation(file: file, line: line(keyNode))
            guard let number = value.scalar.flatMap({ Double($0.string) }) else {
                issues.append(KnowledgeIssue(location, "lint.\(key) must be a number"))
                continue
            }
            switch key {
            case "max_grade" where (1...20).contains(number): lint.maxGrade = number
            case "max_sentence_words" where number >= 5 && number == number.rounded(): lint.maxSentenceWords = Int(number)
            case "min_examples" where number >= 1 && number == number.rounded(): lint.minExamples = Int(number)
            case "max_grade": issues.append(KnowledgeIssue(location, "lint.max_grade must be from 1 to 20"))
            case "max_sentence_words":
                issues.append(KnowledgeIssue(location, "lint.max_sentence_words must be a whole number, at least 5"))
            case "min_examples":
                issues.append(KnowledgeIssue(location, "lint.min_examples must be a whole number, at least 1"))
            default:
                issues.append(KnowledgeIssue(location, "unknown setting lint.\(key); known: "
                                             + LintSettings.settingNames.joined(separator: ", ")))
            }
        }
    }

    mutating func loadHandoff(_ node: Node, file: String) {
        guard let mapping = node.mapping else {
            issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(node)),
                                         "'handoff' must hold `name: value` lines"))
            return
        }
        var timeZone = handoff.openingHours.timeZone
        var days = handoff.openingHours.days
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let location = SourceLocation(file: file, line: line(keyNode))
            switch key {
            case "mood_threshold":
                guard let number = value.scalar.flatMap({ Double($0.string) }), number > 0, number <= 1 else {
                    issues.append(KnowledgeIssue(location, "handoff.mood_threshold must be a number above 0 and at most 1"))
                    continue
                }
                handoff.moodThreshold = number
            case "timezone":
                guard let name = value.scalar?.string, let zone = TimeZone(identifier: name) else {
                    issues.append(KnowledgeIssue(location, "handoff.timezone must be a time zone name like "
                                                 + "Europe/London or America/New_York"))
                    continue
                }
                timeZone = zone
            case "opening_hours":
                guard let dayMapping = value.mapping else {
                    issues.append(KnowledgeIssue(location, "handoff.opening_hours must hold `day: \"09:00-17:00\"` lines"))
                    continue
                }
                // Days not listed are closed once opening hours are given.
                days = [:]
                for (dayNode, hours) in dayMapping {
                    let dayName = (dayNode.string ?? "").lowercased()
                    let dayLocation = SourceLocation(file: file, line: line(dayNode))
                    let weekdays: [Int]
                    switch dayName {
                    case "weekdays": weekdays = [2, 3, 4, 5, 6]
                    case "weekend": weekdays = [1, 7]
                    case "every_day", "daily": weekdays = Array(1...7)
                    default:
                        guard let index = OpeningHours.dayNames.firstIndex(of: dayName) else {
                            issues.append(KnowledgeIssue(dayLocation, "unknown day '\(dayName)' in handoff.opening_hours; "
                                                         + "use monday … sunday, weekdays, weekend or every_day"))
                            continue
                        }
                        weekdays = [index + 1]
                    }
                    guard let ranges = hours.scalar.flatMap({ OpeningHours.parseDay($0.string) }) else {
                        issues.append(KnowledgeIssue(dayLocation, "opening hours for \(dayName) must look like "
                                                     + "\"09:00-17:00\", \"09:00-12:00, 13:00-17:00\" or closed"))
                        continue
                    }
                    for weekday in weekdays { days[weekday] = ranges }
                }
            default:
                issues.append(KnowledgeIssue(location, "unknown setting handoff.\(key); known: "
                                             + HandoffSettings.settingNames.joined(separator: ", ")))
            }
        }
        handoff.openingHours = OpeningHours(days: days, timeZone: timeZone)
    }

    mutating func loadSynonyms() -> Synonyms {
        let file = KnowledgeLoader.synonymsFile
        guard let text = files[file], let root = parseYAML(text, file: file) else { return Synonyms() }
        guard let mapping = root.mapping else {
            issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(root)),
                                         "synonyms must be `word: [other, words]` lines"))
            return Synonyms()
        }
        var result: [String: String] = [:]
        var variantLines: [String: Int?] = [:]
        for (keyNode, value) in mapping {
            let canonicalTokens = TextNormalizer.tokens(keyNode.string ?? "")
            guard canonicalTokens.count == 1 else {
                issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(keyNode)),
                                             "a synonym must be one word; '\(keyNode.string ?? "")' is not"))
                continue
            }
            let variants = value.sequence.map { Array($0) } ?? [value]
            for variant in variants {
                let tokens = TextNormalizer.tokens(variant.string ?? "")
                guard tokens.count == 1 else {
                    issues.append(KnowledgeIssue(SourceLocation(file: file, line: line(variant)),
                                                 "a synonym must be one word; '\(variant.string ?? "")' is not"))
                    continue
                }
                if let existing = result[tokens[0]], existing != canonicalTokens[0] {
                    issues.append(KnowledgeIssue(
                        SourceLocation(file: file, line: line(variant)),
                        "'\(tokens[0])' is already a synonym of '\(existing)'; a word can have one meaning only"))
                }
                result[tokens[0]] = canonicalTokens[0]
                variantLines[tokens[0]] = line(variant)
            }
        }
        // A chain (box: [parcel], parcel: [package]) would map customers' and writers' words differently.
        for (variant, canonical) in result.sorted(by: { $0.key < $1.key }) {
            if let further = result[canonical], further != canonical {
                issues.append(KnowledgeIssue(
                    SourceLocation(file: file, line: variantLines[variant] ?? nil),
                    "'\(canonical)' has its own synonyms and is also a synonym of '\(further)'. "
                        + "List all of them under one word: \(further): [\(canonical), \(variant), …]"))
            }
        }
        return Synonyms(result)
    }
}
