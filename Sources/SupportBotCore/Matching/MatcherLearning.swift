/// What a matcher learned from its knowledge base: the intent classifier's weights and the doubt model.
///
/// Learning them is most of an engine's build (the doubt model alone builds eight smaller matchers), so a process
/// that builds the engine of the same files again can be handed what an earlier build learned
/// (`SupportEngine(knowledgeBase:version:build:learned:)`) and keep it (`matcher.learning`). The same knowledge base
/// always teaches the same weights, to the last bit, so a kept learning answers exactly as a fresh one.
/// Where a learning is kept is up to the caller (the store keeps it in a folder, keyed by `key(for:build:)`).
public struct MatcherLearning: Sendable, Equatable {
    var classifier: IntentClassifier?
    var doubtModel: DoubtModel?
    /// Whether the doubt model was learned at all (it is not with `doubt_threshold: 1`); a nil model after learning
    /// means the knowledge base was too small to learn one from.
    var learnedDoubt: Bool
    /// The shape of the matcher it was learned by: only a matcher with the same features and intents takes it.
    var featureCount: Int
    var intentCount: Int

    /// Changes whenever the byte layout below changes.
    static let formatVersion: UInt32 = 1
    private static let magic = Array("SBLEARN1".utf8)

    /// The key to keep a learning under: the knowledge base's content hash and the program that learned it (its
    /// `build` identity, from the caller: a rebuilt program may learn differently, so it never reads an older
    /// program's weights). Nil for a knowledge base that was not read from files (nothing to key it by).
    public static func key(for knowledgeBase: KnowledgeBase, build: String) -> String? {
        guard !knowledgeBase.files.isEmpty else { return nil }
        // What was read from the files too, so a knowledge base changed after loading (intents held out, other
        // settings) does not share the key of the files it came from.
        let examples = knowledgeBase.intents.reduce(0) { $0 + $1.examples.count }
        let read = "\(knowledgeBase.intents.count) intents \(examples) examples \(knowledgeBase.matching)"
        return SHA256.hex("supportbot learning \(formatVersion)\n\(build)\n\(knowledgeBase.contentHash)\n\(read)")
    }

    /// Whether a matcher of this shape can use it.
    func fits(featureCount: Int, intentCount: Int) -> Bool {
        self.featureCount == featureCount && self.intentCount == intentCount
            && (classifier?.fits(featureCount: featureCount, intentCount: intentCount) ?? true)
            && (doubtModel?.isWellFormed ?? true)
    }

    // MARK: - Bytes

    /// The learning as bytes, headed by `key` (little-endian numbers, floats by their bit patterns).
    public func serialized(key: String) -> [UInt8] {
        var out = LearningWriter()
        out.bytes(Self.magic)
        out.uint32(Self.formatVersion)
        out.string(key)
        out.int(featureCount)
        out.int(intentCount)
        out.bool(learnedDoubt)
        out.bool(classifier != nil)
        if let classifier {
            out.int32s(classifier.rowStart)
            out.int32s(classifier.rowIntent)
            out.floats(classifier.rowWeight)
        }
        out.bool(doubtModel != nil)
        if let doubtModel {
            out.doubles(doubtModel.mean)
            out.doubles(doubtModel.spread)
            out.doubles(doubtModel.weights)
            out.doubles([doubtModel.bias])
        }
        return out.data
    }

    /// Reads `serialized(key:)` back; nil when the bytes are not a whole learning kept under `key`.
    public init?(serialized bytes: [UInt8], key: String) {
        var reader = LearningReader(bytes)
        guard reader.bytes(Self.magic.count) == Self.magic, reader.uint32() == Self.formatVersion,
              reader.string() == key,
              let featureCount = reader.int(), let intentCount = reader.int(),
              let learnedDoubt = reader.bool(), let hasClassifier = reader.bool() else { return nil }
        var classifier: IntentClassifier?
        if hasClassifier {
            guard let rowStart = reader.int32s(), let rowIntent = reader.int32s(), let rowWeight = reader.floats()
            else { return nil }
            classifier = IntentClassifier(rowStart: rowStart, rowIntent: rowIntent, rowWeight: rowWeight)
        }
        guard let hasDoubt = reader.bool() else { return nil }
        var doubtModel: DoubtModel?
        if hasDoubt {
            guard let mean = reader.doubles(), let spread = reader.doubles(), let weights = reader.doubles(),
                  let bias = reader.doubles(), bias.count == 1 else { return nil }
            doubtModel = DoubtModel(mean: mean, spread: spread, weights: weights, bias: bias[0])
        }
        guard reader.isAtEnd else { return nil }
        self.init(classifier: classifier, doubtModel: doubtModel, learnedDoubt: learnedDoubt,
                  featureCount: featureCount, intentCount: intentCount)
        guard fits(featureCount: featureCount, intentCount: intentCount) else { return nil }
    }

    init(classifier: IntentClassifier?, doubtModel: DoubtModel?, learnedDoubt: Bool, featureCount: Int,
         intentCount: Int) {
        self.classifier = classifier
        self.doubtModel = doubtModel
        self.learnedDoubt = learnedDoubt
        self.featureCount = featureCount
        self.intentCount = intentCount
    }
}

private struct LearningWriter {
    var data: [UInt8] = []

    mutating func bytes(_ bytes: [UInt8]) { data.append(contentsOf: bytes) }
    mutating func uint32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { data.append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func uint64(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { data.append(UInt8(truncatingIfNeeded: value >> shift)) } }
    mutating func int(_ value: Int) { uint64(UInt64(bitPattern: Int64(value))) }
    mutating func bool(_ value: Bool) { data.append(value ? 1 : 0) }
    mutating func string(_ value: String) {
        int(value.utf8.count)
        data.append(contentsOf: value.utf8)
    }
    mutating func int32s(_ values: [Int32]) {
        int(values.count)
        for value in values { uint32(UInt32(bitPattern: value)) }
    }
    mutating func floats(_ values: [Float]) {
        int(values.count)
        for value in values { uint32(value.bitPattern) }
    }
    mutating func doubles(_ values: [Double]) {
        int(values.count)
        for value in values { uint64(value.bitPattern) }
    }
}

/// Reads what `LearningWriter` wrote; every read checks that the bytes are there (a cut or damaged file gives nil).
private struct LearningReader {
    private let data: [UInt8]
    private var position = 0

    init(_ data: [UInt8]) { self.data = data }

    var isAtEnd: Bool { position == data.count }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, data.count - position >= count else { return nil }
        defer { position += count }
        return Array(data[position..<(position + count)])
    }

    mutating func uint32() -> UInt32? {
        guard data.count - position >= 4 else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(data[position + i]) << (8 * i) }
        position += 4
        return value
    }

    mutating func uint64() -> UInt64? {
        guard data.count - position >= 8 else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(data[position + i]) << (8 * i) }
        position += 8
        return value
    }

    mutating func int() -> Int? { uint64().map { Int(truncatingIfNeeded: Int64(bitPattern: $0)) } }

    mutating func bool() -> Bool? {
        guard let byte = bytes(1)?.first, byte <= 1 else { return nil }
        return byte == 1
    }

    mutating func string() -> String? { count(width: 1).flatMap { bytes($0) }.map { String(decoding: $0, as: UTF8.self) } }

    /// A count of items `width` bytes wide that the rest of the data can hold.
    private mutating func count(width: Int) -> Int? {
        guard let count = int(), count >= 0, count <= (data.count - position) / width else { return nil }
        return count
    }

    mutating func int32s() -> [Int32]? {
        guard let count = count(width: 4) else { return nil }
        return (0..<count).map { _ in Int32(bitPattern: uint32()!) }
    }

    mutating func floats() -> [Float]? {
        guard let count = count(width: 4) else { return nil }
        return (0..<count).map { _ in Float(bitPattern: uint32()!) }
    }

    mutating func doubles() -> [Double]? {
        guard let count = count(width: 8) else { return nil }
        return (0..<count).map { _ in Double(bitPattern: uint64()!) }
    }
}
