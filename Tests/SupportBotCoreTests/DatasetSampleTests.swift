import Testing
@testable import SupportBotCore

@Suite("Few-shot samples of a labelled set (eval --per-intent)")
struct DatasetSampleTests {
    static let rows: [LabelledText] = (0..<30).map { i in
        LabelledText(text: "row \(i)", label: ["a", "b", "c", "oos"][i % 4])
    }

    @Test("at most N rows of each label, in their order; out-of-scope rows kept; labels with fewer keep all")
    func sampleKeepsNPerLabel() {
        let sample = DatasetEvaluation.sample(Self.rows, perLabel: 3, seed: 1)
        for label in ["a", "b", "c"] { #expect(sample.filter { $0.label == label }.count == 3) }
        #expect(sample.filter { $0.label == "oos" }.count == Self.rows.filter { $0.label == "oos" }.count)
        let order = sample.compactMap { row in Self.rows.firstIndex(of: row) }
        #expect(order == order.sorted())
        #expect(DatasetEvaluation.sample(Self.rows, perLabel: 100, seed: 1) == Self.rows)
    }

    @Test("the same seed picks the same rows; another seed other rows")
    func seeded() {
        let first = DatasetEvaluation.sample(Self.rows, perLabel: 2, seed: 1)
        #expect(DatasetEvaluation.sample(Self.rows, perLabel: 2, seed: 1) == first)
        let others = (2...6).map { DatasetEvaluation.sample(Self.rows, perLabel: 2, seed: UInt64($0)) }
        #expect(others.contains { $0 != first })
    }
}
