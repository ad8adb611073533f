import Foundation
import Testing
@testable import SupportBotCore
import SupportBotData

@Suite("What a matcher learned, handed to a later build of the same knowledge base")
struct MatcherLearningTests {
    static let demo = Result { try DemoKnowledgeBase.load() }
    /// One fresh build of the demo, shared by the tests below (learning it takes about a second in a debug build).
    static let fresh = Result { SupportEngine(knowledgeBase: try demo.get(), version: 1) }

    static let questions = [
        "where is my parcel", "wher is my packge??", "how long does a refund take", "do you sell gift cards",
        "what is the capital of france", "this is a joke, where is my refund", "can i pay with klarna", "hi",
    ]

    @Test("a kept learning gives the same weights, scores and doubts as learning afresh, to the last bit")
    func keptLearningAnswersAsAFreshOne() throws {
        let fresh = try Self.fresh.get()
        let learning = fresh.matcher.learning
        #expect(learning.classifier != nil && learning.doubtModel != nil, "the demo learns both parts")
        let bytes = learning.serialized(key: "demo")
        let read = try #require(MatcherLearning(serialized: bytes, key: "demo"))
        #expect(read == learning)
        let kept = SupportEngine(knowledgeBase: try Self.demo.get(), version: 1, learned: read)
        #expect(kept.matcher.learning == learning)
        for question in Self.questions + fresh.matcher.examples.map(\.text) {
            #expect(kept.matcher.match(question) == fresh.matcher.match(question), "\(question)")
        }
    }

    @Test("the kept learning is what the matcher uses: a changed doubt model changes the doubt")
    func keptLearningIsUsed() throws {
        let fresh = try Self.fresh.get()
        var altered = fresh.matcher.learning
        let model = try #require(altered.doubtModel)
        altered.doubtModel = DoubtModel(mean: model.mean, spread: model.spread, weights: model.weights, bias: model.bias + 3)
        let kept = SupportEngine(knowledgeBase: try Self.demo.get(), version: 1, learned: altered)
        let doubt = try #require(kept.matcher.match("where is my parcel").doubt)
        let freshDoubt = try #require(fresh.matcher.match("where is my parcel").doubt)
        #expect(doubt > freshDoubt)
    }

    @Test("bytes that are cut, damaged or kept under another key are not read")
    func damagedBytesAreRefused() throws {
        let bytes = try Self.fresh.get().matcher.learning.serialized(key: "demo")
        #expect(MatcherLearning(serialized: bytes, key: "other") == nil)
        for length in [0, 4, 8, 20, 40, bytes.count / 2, bytes.count - 1] {
            #expect(MatcherLearning(serialized: Array(bytes.prefix(length)), key: "demo") == nil, "cut at \(length)")
        }
        #expect(MatcherLearning(serialized: bytes + [0], key: "demo") == nil, "a byte too many")
        var badMagic = bytes
        badMagic[0] ^= 0xFF
        #expect(MatcherLearning(serialized: badMagic, key: "demo") == nil)
        // A huge count in the first array's length must not be believed (or allocated).
        var hugeCount = bytes
        let countOffset = 8 + 4 + 8 + "demo".utf8.count + 8 + 8 + 1 + 1
        for i in 0..<8 { hugeCount[countOffset + i] = i == 7 ? 0x7F : 0xFF }
        #expect(MatcherLearning(serialized: hugeCount, key: "demo") == nil)
    }

    @Test("a classifier learned for other intents is not taken: the matcher learns its own")
    func classifierOfAnotherShapeIsLearnedAgain() throws {
        let shop = ShopKnowledge.knowledgeBase
        let fresh = Matcher(knowledgeBase: shop)
        let other = try Self.fresh.get().matcher.learning
        let given = Matcher(knowledgeBase: shop, learned: MatcherLearning(
            classifier: other.classifier, doubtModel: nil, learnedDoubt: false,
            featureCount: other.featureCount, intentCount: other.intentCount))
        #expect(given.learning.classifier == fresh.learning.classifier)
        #expect(given.match("where is my refund") == fresh.match("where is my refund"))
    }

    @Test("the key follows the files and the program that learned them")
    func keyFollowsFilesAndBuild() throws {
        let demo = try Self.demo.get()
        let key = try #require(MatcherLearning.key(for: demo, build: "a"))
        #expect(MatcherLearning.key(for: demo, build: "a") == key)
        #expect(MatcherLearning.key(for: demo, build: "b") != key)
        var edited = demo.files
        let first = try #require(edited.keys.sorted().first)
        edited[first]! += "\n# a comment\n"
        #expect(MatcherLearning.key(for: KnowledgeBase(intents: [], files: edited), build: "a") != key)
        #expect(MatcherLearning.key(for: KnowledgeBase(intents: ShopKnowledge.intents), build: "a") == nil,
                "no files, nothing to key by")
    }
}

@Suite("The mood model's shipped weights")
struct MoodModelWeightsTests {
    @Test("were learned from the training data compiled in (else run scripts/generate-mood-model.sh)")
    func shippedWeightsMatchTheTrainingData() {
        #expect(MoodModelWeights.fingerprint == MoodModel.fingerprint(of: MoodTrainingData.examples),
                "MoodModelWeights.swift is out of date: run scripts/generate-mood-model.sh")
        #expect(MoodSupportModelWeights.fingerprint == MoodModel.fingerprint(of: MoodTrainingData.examples),
                "MoodSupportModelWeights.swift is out of date: run scripts/generate-mood-model.sh")
        #expect(MoodDetector.shipsCurrentModel)
    }

    @Test("of the support model are exactly what training afresh gives (else run scripts/generate-mood-model.sh)")
    func freshSupportTrainingGivesTheShippedWeights() throws {
        let shipped = try #require(MoodModel.shippedSupport, "MoodSupportModelWeights.swift does not read back")
        let fresh = MoodModel(examples: MoodTrainingData.examples)
        #expect(fresh == shipped, "training now gives other weights: run scripts/generate-mood-model.sh")
        #expect(MoodModel(encoded: fresh.encoded.text, bias: Double(bitPattern: fresh.encoded.bias)) == fresh)
    }

    @Test("read back and write out the same, bit for bit")
    func weightsRoundTrip() throws {
        let shipped = try #require(MoodModel.shipped, "MoodModelWeights.swift does not read back")
        let encoded = shipped.encoded
        #expect(encoded.bias == MoodModelWeights.bias)
        #expect(encoded.text == MoodModelWeights.encoded.split(whereSeparator: \.isWhitespace).joined(separator: "\n"))
        #expect(MoodModel(encoded: encoded.text, bias: Double(bitPattern: encoded.bias)) == shipped)
    }

    /// `../shared/datasets`, beside the repository (not in a clone elsewhere).
    static let datasets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/datasets")
    static let generalDataIsHere = ["goemotions/train.csv", "banking77/train.csv"].allSatisfy {
        FileManager.default.isReadableFile(atPath: datasets.appendingPathComponent($0).path)
    }

    @Test("were learned from GoEmotions' and BANKING77's training splits", .enabled(if: generalDataIsHere,
          "needs ../shared/datasets beside the repository"))
    func learnedFromTheGeneralData() throws {
        let file = Self.datasets.appendingPathComponent("goemotions/train.csv")
        let content = try String(contentsOf: file, encoding: .utf8)
        let questions = try String(contentsOf: Self.datasets.appendingPathComponent("banking77/train.csv"), encoding: .utf8)
        let rows = try LabelledCSV.parse(content, file: "train.csv", labelColumn: "angry")
        #expect(rows.count == 43_410)
        let calm = try LabelledCSV.parse(questions, file: "train.csv", labelColumn: "label")
        #expect(calm.count == 10_003)
        let examples = rows.map { (text: $0.text, angry: $0.label == "1") } + calm.map { (text: $0.text, angry: false) }
        #expect(MoodModel.fingerprint(of: examples) == MoodModelWeights.generalFingerprint,
                "the weights were not learned from \(file.path): run scripts/generate-mood-model.sh")
    }

    @Test("the fingerprint changes with any example, label or setting")
    func fingerprintFollowsTheData() {
        let examples: [(text: String, angry: Bool)] = [("where is my parcel", false), ("useless", true)]
        let print = MoodModel.fingerprint(of: examples)
        #expect(MoodModel.fingerprint(of: [examples[0], ("useless", false)]) != print)
        #expect(MoodModel.fingerprint(of: [examples[0], ("useless!", true)]) != print)
        #expect(MoodModel.fingerprint(of: Array(examples.reversed())) != print)
        #expect(MoodModel.fingerprint(of: examples) == print)
    }
}
