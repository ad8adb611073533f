import Foundation
import Testing
@testable import SupportBotCore
import SupportBotData

/// The hand-labelled mood sets in Tests/Fixtures/mood (see the README there).
enum MoodFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("mood")

    static func load(_ name: String) throws -> [LabelledText] {
        let url = folder.appendingPathComponent(name)
        let content = try String(contentsOf: url, encoding: .utf8)
        return try LabelledCSV.parse(content, file: name, labelColumn: "angry")
    }

    /// The detector the demo shop's engine uses: its learned models adapted to the demo's questions (intents/ and
    /// knowledge/ at the repository root), as the sets are support chats to that shop.
    static let demoShop: MoodDetector = {
        let root = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let knowledgeBase = try! KnowledgeLoader.load(intentsDirectory: root.appendingPathComponent("intents").path,
                                                      knowledgeDirectory: root.appendingPathComponent("knowledge").path)
        return MoodDetector(shopQuestions: MoodDetector.shopQuestions(of: knowledgeBase))
    }()

    static func evaluate(_ name: String) throws -> MoodEvaluation {
        let report = try MoodEvaluation.run(demoShop, on: try load(name))
        print(String(format: "Mood detector on %@ (threshold %.2f, %d messages): precision %.3f, recall %.3f, F1 %.3f",
                     name, report.threshold, report.total, report.precision, report.recall, report.f1))
        return report
    }
}

/// Reads one message in a fresh conversation, as the demo shop's engine would.
private func reading(_ text: String, detector: MoodDetector = MoodFixtures.demoShop) -> MoodReading {
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
        for (example, labelled) in zip(MoodTrainingData.examples, expected) {
            #expect(example.text == labelled.text && example.angry == (labelled.label == "1"),
                    "run python3 scripts/generate-mood-training-data.py")
        }
        // Nothing else: a shop's questions are taught by its own engine (MoodDetector.shopQuestions).
        #expect(MoodTrainingData.examples.count == expected.count, "run python3 scripts/generate-mood-training-data.py")
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
        // Training (and adapting) twice from the same data gives the same model.
        let trained = MoodModel(examples: MoodTrainingData.examples, iterations: 40)
        #expect(MoodModel(examples: MoodTrainingData.examples, iterations: 40) == trained)
        let calm = ["how much is a bike service", "do you fix punctures"]
        #expect(trained.adapted(calm: calm, anchor: MoodTrainingData.examples)
                == trained.adapted(calm: calm, anchor: MoodTrainingData.examples))
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

@Suite("MoodDetector: the learned model alone never hands off on one message")
struct MoodModelGateTests {
    @Test("plain questions stay calm whatever the model thinks", arguments: [
        "i want to send something back", "what are your opening hours", "is this a bot i'm chatting with",
        "remove me from your mailing list", "how is your day going",
    ])
    func plainQuestionsStayCalm(text: String) {
        let reading = reading(text)
        #expect(!reading.isAngry, "\(reading)")
        #expect(!reading.isUpset, "\(reading)")
    }

    @Test("the general model alone can make the bot say sorry, never hand off", arguments: [
        "I paid for next day delivery. It's day 4. Explain.", "so I just lose £60 then? great.",
    ])
    func aloneItOnlyApologises(text: String) {
        // No anger cue the rules know: only the general model hears it.
        let detector = MoodDetector()
        #expect(detector.ruleScore(text) == 0)
        #expect(detector.learnedProbability(text) >= MoodDetector.upsetProbability)
        let read = reading(text, detector: detector)
        #expect(read.isUpset && !read.isAngry, "\(read)")
        #expect(read.reasons.contains { $0.kind == .learned })
        #expect(read.message <= 0.45)
    }

    @Test("a shop's lower handoff threshold: the general model alone still stays under it")
    func aloneStaysUnderALowThreshold() {
        let text = "I paid for next day delivery. It's day 4. Explain."
        for threshold in [0.4, 0.45] {
            let detector = MoodDetector(threshold: threshold)
            let read = reading(text, detector: detector)
            #expect(read.isUpset && !read.isAngry, "\(threshold): \(read)")
            #expect(read.message <= threshold - MoodDetector.belowThreshold, "\(threshold): \(read)")
        }
        // So low that the bot says sorry from the threshold itself: the general model alone does not speak.
        let touchy = MoodDetector(threshold: 0.3)
        #expect(!reading(text, detector: touchy).isAngry)
    }

    @Test("a lenient threshold keeps the apology for a loud message the general model hears as calm")
    func lenientThresholdKeepsApology() {
        let text = "CAN I GET THE DAMN BLUE TEAPOT IN A LARGER SIZE"
        let detector = MoodDetector(threshold: 0.8)
        #expect(detector.ruleScore(text) >= MoodDetector.standsAnyway, "\(detector.ruleScore(text))")
        let read = reading(text, detector: detector)
        #expect(read.isUpset && !read.isAngry, "\(read)")
        #expect(!read.reasons.contains { $0.kind == .learnedCalm }, "\(read.reasons)")
    }

    @Test("mood --eval's levels: a plain complaint counts at the upset level, not at the angry one")
    func evaluationLevels() throws {
        let rows = [LabelledText(text: "I paid for next day delivery. It's day 4. Explain.", label: "1"),
                    LabelledText(text: "what are your opening hours", label: "0")]
        let detector = MoodDetector()
        let upset = try MoodEvaluation.run(detector, on: rows, level: .upset)
        #expect(upset.truePositives == 1 && upset.trueNegatives == 1, "\(upset)")
        #expect(upset.threshold == detector.apologyThreshold)
        let angry = try MoodEvaluation.run(detector, on: rows, level: .angry)
        #expect(angry.falseNegatives == 1 && angry.trueNegatives == 1, "\(angry)")
        #expect(angry.threshold == detector.threshold)
    }

    @Test("plain complaints that keep coming add up to a handoff, as complaints the rules hear do")
    func plainComplaintsAddUp() throws {
        let detector = MoodDetector()
        let complaints = ["I paid for next day delivery. It's day 4. Explain.",
                          "I paid for next day delivery and it is day 5 now. Explain.",
                          "I paid for next day delivery. Now it is day 6. Explain."]
        var state = MoodState()
        var readings: [MoodReading] = []
        for text in complaints {
            #expect(detector.ruleScore(text) == 0, "\(text)")
            readings.append(detector.read(text, state: &state))
        }
        #expect(readings.allSatisfy { $0.isUpset && $0.message < detector.threshold }, "\(readings)")
        #expect(!readings[0].isAngry && !readings[1].isAngry, "\(readings)")
        #expect(readings[2].isAngry, "\(readings[2])")
        #expect(readings[2].reasons.contains { $0.kind == .risingComplaints }, "\(readings[2].reasons)")
    }

    @Test("capitals or a weak cue are taken down when the general model hears no upset", arguments: [
        "HI THERE CAN I ORDER A REPLACEMENT LID FOR THE BLUE TEAPOT",
        "the gift card code isn't working at checkout, did I type it wrong? PPG 2290 KA",
    ])
    func calmModelTakesEmphasisDown(text: String) {
        let detector = MoodFixtures.demoShop
        #expect(detector.ruleScore(text) >= detector.apologyThreshold)
        let read = reading(text, detector: detector)
        #expect(!read.isUpset, "\(read)")
        #expect(read.reasons.contains { $0.kind == .learnedCalm }, "\(read.reasons)")
    }

    @Test("cues aimed at the shop stand whatever the general model hears")
    func pointedCuesStand() {
        let threat = reading("If this isn't sorted by Friday you'll be hearing from my solicitor.")
        #expect(threat.isUpset, "\(threat)")
        #expect(!threat.reasons.contains { $0.kind == .learnedCalm }, "\(threat.reasons)")
        let notHappy = reading("i am not happy at all with this")
        #expect(notHappy.isAngry, "\(notHappy)")
    }

    @Test("a placeholder for masked text is not shouting", arguments: [
        "[NAME] is right, thanks [NAME]", "I sent it to [email] last week", "call me on [phone] please",
    ])
    func placeholdersAreNotShouting(text: String) {
        #expect(!reading(text).reasons.contains { $0.kind == .shouting }, "\(reading(text).reasons)")
        #expect(MoodDetector.withoutPlaceholders(text).contains("[") == false)
    }

    @Test("ordinary questions with complaint-like words stay calm", arguments: [
        "When should I expect my card?", "how do I top up my money automatically", "my card was stolen, what do I do",
        "how do I fix this error on the app", "how do i close my account", "I want to dispute a charge",
        "can you explain the exchange rate", "stop sending me emails", "stupid me, i put the wrong postcode in",
        "how many times can i use the code", "the refund is not on my statement", "when can I expect to get it",
    ])
    func ordinaryQuestionsStayCalm(text: String) {
        #expect(!reading(text).isUpset, "\(reading(text))")
    }

    @Test("the demands those words were for still count", arguments: [
        "I want my money back", "where is my money", "you stole my money", "I expect a refund today",
        "fix this now, it's the third time", "stop sending me the same useless answer", "you are stupid",
        // Longer than the calm phrases inside them ("how many times can i …", "not on the …", "expect to").
        "how many times can I tell you, it is broken", "that's not on. the courier lied", "i expect to be refunded today",
    ])
    func demandsStillCount(text: String) {
        #expect(reading(text).isUpset, "\(reading(text))")
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


@Suite("MoodDetector: learns the questions of the shop it serves")
struct MoodShopAdaptationTests {
    static let bikes = MoodFixtures.folder.deletingLastPathComponent().appendingPathComponent("shops")
        .appendingPathComponent("bikes")

    static func bikeShop() throws -> KnowledgeBase {
        try KnowledgeLoader.load(intentsDirectory: bikes.appendingPathComponent("intents").path,
                                 knowledgeDirectory: bikes.appendingPathComponent("knowledge").path)
    }

    @Test("a bike shop's question reads as upset to the general model and calm to the shop's")
    func bikeShopQuestionIsCalm() throws {
        let shop = try Self.bikeShop()
        let questions = MoodDetector.shopQuestions(of: shop)
        let text = "what time do you shut on saturday"
        #expect(questions.contains(text))
        let general = MoodDetector()
        #expect(general.learnedProbability(text) >= MoodDetector.upsetProbability)
        #expect(reading(text, detector: general).isUpset)
        let adapted = MoodDetector(shopQuestions: questions)
        #expect(adapted.learnedProbability(text) < general.learnedProbability(text))
        #expect(!reading(text, detector: adapted).isUpset)
        // Anger in the same shop is still heard.
        for angry in ["this is the third time my bike came back worse, absolutely useless",
                      "you damaged my frame and nobody replies to my emails. I want a refund now"] {
            #expect(reading(angry, detector: adapted).isAngry, "\(reading(angry, detector: adapted))")
        }
        // The engine uses the adapted model.
        let engine = SupportEngine(knowledgeBase: shop, version: 1)
        #expect(engine.moodDetector.learnedProbability(text) == adapted.learnedProbability(text))
    }

    @Test("the questions taught as calm leave out handoff topics and examples the rules hear as upset")
    func shopQuestionsLeaveOutComplaints() {
        let knowledgeBase = KnowledgeBase(intents: [
            Intent(id: "shop.hours", title: "Opening hours", examples: ["when are you open", "what time do you close"],
                   response: .reply("ok")),
            Intent(id: "feedback.complaint", title: "Make a complaint",
                   examples: ["this is not good enough", "i want to complain"], response: .reply("ok")),
            Intent(id: "contact.human", title: "Talk to a person", examples: ["talk to a person"],
                   response: .reply("ok"), handoff: true),
        ])
        let questions = MoodDetector.shopQuestions(of: knowledgeBase)
        #expect(questions.contains("when are you open") && questions.contains("i want to complain"))
        #expect(!questions.contains("this is not good enough"))
        #expect(!questions.contains("talk to a person"))
    }
}
