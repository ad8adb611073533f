import Foundation
import Testing
@testable import SupportBotCore

/// The hand-labelled mood sets in Tests/Fixtures/mood (see the README there).
enum MoodFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("mood")

    static func load(_ name: String) throws -> [LabelledText] {
        let url = folder.appendingPathComponent(name)
        let content = try String(contentsOf: url, encoding: .utf8)
        return try LabelledCSV.parse(content, file: name, labelColumn: "angry")
    }

    static func evaluate(_ name: String) throws -> MoodEvaluation {
        let report = try MoodEvaluation.run(MoodDetector(), on: try load(name))
        print(String(format: "Mood detector on %@ (threshold %.2f, %d messages): precision %.3f, recall %.3f, F1 %.3f",
                     name, report.threshold, report.total, report.precision, report.recall, report.f1))
        return report
    }
}

/// Reads one message in a fresh conversation.
private func reading(_ text: String, detector: MoodDetector = MoodDetector()) -> MoodReading {
    var state = MoodState()
    return detector.read(text, state: &state)
}

private func kinds(_ reading: MoodReading) -> [MoodReason.Kind] { reading.reasons.map(\.kind) }

@Suite("MoodDetector: labelled sets")
struct MoodDetectorLabelledSetTests {
    // messages.csv and holdout.csv are what the detector was tuned on and what its learned model is trained on
    // (MoodTrainingData.swift is generated from them): high figures here only show the rules and the model agree
    // with their own teaching data.
    @Test("the training sets (messages.csv, holdout.csv) meet the issue's targets: precision ≥ 0.90, recall ≥ 0.85")
    func trainingSets() throws {
        let report = try MoodFixtures.evaluate("messages.csv")
        #expect(report.total == 345)
        #expect(report.truePositives + report.falseNegatives == 120)
        #expect(report.threshold == MoodDetector.defaultThreshold)
        #expect(report.precision >= 0.90, "precision \(report.precision)")
        #expect(report.recall >= 0.85, "recall \(report.recall)")
        let holdout = try MoodFixtures.evaluate("holdout.csv")
        #expect(holdout.total == 200)
        #expect(holdout.precision >= 0.90, "precision \(holdout.precision)")
        #expect(holdout.recall >= 0.85, "recall \(holdout.recall)")
    }

    // fresh.csv was written after tuning, by someone who had seen neither the other sets nor the code, and is never
    // trained on: it is the honest figure (precision 0.875, recall 0.583 when written). The floors below only
    // catch a regression.
    @Test("the fresh set (fresh.csv, never trained on) stays above a regression floor: precision ≥ 0.85, recall ≥ 0.55")
    func freshSet() throws {
        let report = try MoodFixtures.evaluate("fresh.csv")
        #expect(report.total == 219)
        #expect(report.truePositives + report.falseNegatives == 72)
        #expect(report.precision >= 0.85, "precision \(report.precision)")
        #expect(report.recall >= 0.55, "recall \(report.recall)")
    }

    @Test("the generated training data starts with the CSV files it is made from")
    func trainingDataIsCurrent() throws {
        let expected = try MoodFixtures.load("messages.csv") + MoodFixtures.load("holdout.csv")
        #expect(MoodTrainingData.examples.count > expected.count, "run python3 scripts/generate-mood-training-data.py")
        for (example, labelled) in zip(MoodTrainingData.examples, expected) {
            #expect(example.text == labelled.text && example.angry == (labelled.label == "1"),
                    "run python3 scripts/generate-mood-training-data.py")
        }
        // After them come the demo shop's calm intent examples.
        #expect(MoodTrainingData.examples.dropFirst(expected.count).allSatisfy { !$0.angry })
        // Three short messages ("thanks!", "do gift cards expire?", "absolute joke of a company") were written
        // independently into fresh.csv as well; no other fresh message may appear in the training data.
        let fresh = Set(try MoodFixtures.load("fresh.csv").map(\.text))
        #expect(MoodTrainingData.examples.prefix(expected.count).filter { fresh.contains($0.text) }.count == 3,
                "fresh.csv must never be trained on")
    }

    @Test("a label that is neither 0 nor 1 names its row")
    func badLabel() throws {
        let examples = try LabelledCSV.parse("text,angry\nhello,0\nwhere is it,maybe\n", labelColumn: "angry")
        #expect {
            _ = try MoodEvaluation.run(MoodDetector(), on: examples)
        } throws: { error in
            "\(error)".contains("row 3") && "\(error)".contains("maybe")
        }
    }
}

@Suite("MoodDetector: single messages")
struct MoodDetectorMessageTests {
    @Test("thanks is thanks, a polite request is calm, mild annoyance is upset; sarcasm about trouble is anger")
    func closingsRequestsAndAnnoyance() {
        #expect(reading("cheers, thanks a lot for your help").message < 0.3)
        #expect(reading("thanks a lot").message < 0.3)
        #expect(reading("can a person sort this out please").message < 0.3)
        #expect(!reading("tell me a joke").isAngry)
        let annoyed = reading("my parcel still hasnt arrived, bit annoying tbh")
        #expect(annoyed.isUpset && !annoyed.isAngry, "\(annoyed)")
        #expect(reading("oh great, thanks a lot, the parcel is lost again").isAngry)
        #expect(reading("gift card says invalid. I paid £50 for it. sort it out").isAngry)
    }

    @Test("worry is not anger; a sarcastic demand for a refund is")
    func worryVersusAnger() {
        let worried = reading("my parcel is lost and I'm worried")
        #expect(!worried.isAngry, "\(worried)")
        #expect(worried.message < MoodDetector.defaultThreshold)

        let angry = reading("this is a joke, where is my refund?!")
        #expect(angry.isAngry, "\(angry)")
        #expect(angry.message >= MoodDetector.defaultThreshold)
    }

    @Test("'not bad at all' is calm; 'not happy at all' is angry with that phrase as the reason")
    func negation() throws {
        let notBad = reading("not bad at all")
        #expect(!notBad.isAngry)
        #expect(notBad.message == 0, "\(notBad.reasons)")

        let notHappy = reading("not happy at all")
        #expect(notHappy.isAngry, "\(notHappy)")
        let reason = try #require(notHappy.reasons.first { $0.evidence.contains("not happy") }, "\(notHappy.reasons)")
        #expect(reason.kind == .angerWord)
        #expect(reason.weight > 0)
    }

    @Test("asking how to cancel is calm; cancelling in anger is angry")
    func cancelling() {
        let question = reading("how do I cancel my subscription?")
        #expect(!question.isAngry, "\(question)")
        #expect(question.message < 0.2)

        let leaving = reading("cancel my account, I'm done with you")
        #expect(leaving.isAngry, "\(leaving)")
        #expect(kinds(leaving).contains(.threat))
    }

    @Test("capitals: a shouted demand is angry, a size name or a happy shout is not")
    func capitals() {
        let shouted = reading("WHERE IS MY PARCEL I WANT MY MONEY")
        #expect(shouted.isAngry, "\(shouted)")
        #expect(kinds(shouted).contains(.shouting))

        let size = reading("is the XL size in stock")
        #expect(!size.isAngry)
        #expect(!kinds(size).contains(.shouting), "\(size.reasons)")

        let love = reading("LOVE the new mugs!!!")
        #expect(!love.isAngry, "\(love)")
        #expect(love.message < 0.3, "\(love)")
        #expect(kinds(love).contains(.friendly))
    }

    @Test("asking for a manager is an escalation; 'third time' is repetition")
    func escalationAndRepetition() throws {
        let manager = reading("I want a manager")
        let escalation = try #require(manager.reasons.first { $0.kind == .escalation }, "\(manager.reasons)")
        #expect(escalation.evidence == "manager")

        let third = reading("this is the third time I ask")
        let repetition = try #require(third.reasons.first { $0.kind == .repetition }, "\(third.reasons)")
        #expect(repetition.evidence == "third time")
    }

    @Test("every reason carries the words or signs it found")
    func evidence() {
        let angry = reading("this is a joke, where is my refund?!")
        #expect(!angry.reasons.isEmpty)
        for reason in angry.reasons {
            #expect(!reason.evidence.isEmpty, "\(reason)")
            #expect(reason.summary.contains(reason.evidence))
        }
        let evidence = angry.reasons.map(\.evidence)
        #expect(evidence.contains("this is a joke"), "\(evidence)")
        #expect(evidence.contains("?!"), "\(evidence)")
    }

    @Test("the same text always gives the same reading")
    func deterministic() {
        for text in ["this is a joke, where is my refund?!", "LOVE the new mugs!!!", "not happy at all",
                     "my parcel is lost and I'm worried"] {
            let first = reading(text)
            #expect(reading(text) == first)
            #expect(MoodDetector().score(text) == MoodDetector().score(text))
        }
        // Training the learned model twice from the same data gives the same model.
        let retrained = MoodModel(examples: MoodTrainingData.examples)
        for text in ["where is my refund?! it's been 3 weeks", "so I just lose £60 then? great."] {
            #expect(retrained.read(text).probability == MoodModel.shared.read(text).probability)
        }
    }

    @Test("the lexicon lists no phrase twice")
    func lexiconHasNoDuplicates() {
        #expect(MoodLexicon.duplicates.isEmpty, "\(MoodLexicon.duplicates)")
    }
}

/// Plain ASCII messages take byte-level fast paths for capitals, "!?" runs and emoji; a trailing "·" (not a letter,
/// digit, mark or emoji) sends the same message down the Unicode path, which must find the same shouting and marks.
@Suite("MoodDetector: ASCII fast path")
struct MoodDetectorASCIITests {
    @Test("capitals and runs of marks read the same on both paths", arguments: [
        "WHERE IS MY ORDER", "where is my ORDER!!", "I SAID NOW?!", "is the NASA DVD in stock??", "ok!.!!", "what?? why!!!",
        "NOT GOOD, where is my CARD?! WTF ASAP", "HI, IS THE BLUE JUG IN STOCK", "!!\t!! ?", "ABC", "AB", "I'M FURIOUS!!!",
        "This is a JOKE. REFUND ME NOW!!!", "fine", "",
    ])
    func samePaths(text: String) {
        let detector = MoodDetector()
        func typography(_ message: String) -> [MoodReason] {
            detector.score(message).reasons.filter { $0.kind == .shouting || $0.kind == .punctuation }
        }
        #expect(typography(text) == typography(text + " \u{00B7}"), "\(text)")
    }
}

@Suite("MoodDetector: conversations")
struct MoodDetectorConversationTests {
    @Test("three mild complaints in a row make an angry conversation, though none is angry alone")
    func risingComplaints() throws {
        let detector = MoodDetector()
        let complaints = ["that's a bit annoying", "I'm quite disappointed", "the box was a bit of a mess"]
        for text in complaints {
            let alone = detector.score(text).score
            #expect(alone >= 0.2 && alone < detector.threshold, "\(text): \(alone)")
        }
        var state = MoodState()
        let first = detector.read(complaints[0], state: &state)
        let second = detector.read(complaints[1], state: &state)
        let third = detector.read(complaints[2], state: &state)
        #expect(!first.isAngry && !second.isAngry, "\(first.conversation), \(second.conversation)")
        #expect(third.isAngry, "\(third.conversation)")
        #expect(third.message < detector.threshold)
        let rising = try #require(third.reasons.first { $0.kind == .risingComplaints }, "\(third.reasons)")
        #expect(rising.kind.rawValue == "complaints across turns")
        #expect(!kinds(second).contains(.risingComplaints))
    }

    @Test("the same complaint sent twice adds a 'same message again' reason; thanks sent twice does not")
    func repeatedMessage() throws {
        let detector = MoodDetector()
        var state = MoodState()
        let complaint = "where is my parcel?? still nothing"
        let first = detector.read(complaint, state: &state)
        let second = detector.read(complaint, state: &state)
        #expect(!kinds(first).contains(.repeatedMessage))
        let again = try #require(second.reasons.first { $0.kind == .repeatedMessage }, "\(second.reasons)")
        #expect(again.kind.rawValue == "same message again")
        #expect(second.message > first.message)
        // Only a short hash of the words is kept, never the text.
        #expect(state.recentHashes == Array(repeating: MoodDetector.fingerprint(TextNormalizer.tokens(complaint)), count: 2))

        var polite = MoodState()
        for _ in 0..<4 { _ = detector.read("thank you", state: &polite) }
        let thanks = detector.read("thank you", state: &polite)
        #expect(thanks.message == 0 && !thanks.isUpset, "\(thanks)")
    }

    @Test("'… not' is sarcasm in a statement, not in a question")
    func notQuestion() {
        #expect(kinds(reading("great service, NOT")).contains(.sarcasm))
        #expect(!reading("are the hiking boots good or not").isAngry)
        #expect(!kinds(reading("is the blanket good or not?")).contains(.sarcasm))
    }

    @Test("a calm message after an angry one lowers the conversation's score")
    func calming() {
        let detector = MoodDetector()
        var state = MoodState()
        let angry = detector.read("this is a joke, where is my refund?!", state: &state)
        let calm = detector.read("ok thanks, I found the tracking link", state: &state)
        #expect(angry.isAngry)
        #expect(calm.message < 0.2, "\(calm)")
        #expect(calm.conversation < angry.conversation)
        #expect(state.conversation == calm.conversation)
    }
}

@Suite("MoodDetector: the learned model only backs up evidence")
struct MoodModelGateTests {
    @Test("plain questions stay calm whatever the model thinks", arguments: [
        "i want to send something back", "what are your opening hours", "is this a bot i'm chatting with",
        "remove me from your mailing list", "how is your day going",
    ])
    func plainQuestionsStayCalm(text: String) {
        var state = MoodState()
        let reading = MoodDetector().read(text, state: &state)
        #expect(!reading.isAngry, "\(reading)")
        #expect(!reading.reasons.contains { $0.kind == .learned })
    }

    @Test("shouting evidence never quotes an e-mail address or a phone number (D5)")
    func evidenceIsMasked() {
        var state = MoodState()
        let reading = MoodDetector().read("WHY IS NOBODY ANSWERING. WRITE TO JOHN.SMITH@EXAMPLE.COM OR CALL +44 20 7946 0958",
                                          state: &state)
        #expect(reading.reasons.contains { $0.kind == .shouting }, "\(reading.reasons)")
        for reason in reading.reasons {
            #expect(!reason.evidence.contains("JOHN") && !reason.evidence.contains("@") && !reason.evidence.contains("7946"),
                    "\(reason.evidence)")
        }
    }
}

