/// The mood models' vocabulary: n-gram hash → feature index, in a flat open-addressing table. A message's few
/// hundred lookups each cost one multiply and (nearly always) one probe, not a hash of the key as a `Dictionary`'s
/// does; reading a message's mood was a third of an answer's time.
struct GramTable: Sendable, Equatable {
    /// The n-gram hash of each feature, by index (0, 1, 2…): the table's content.
    let grams: [UInt64]
    private let slots: [Int32]
    private let shift: UInt64

    /// - Returns: nil when a gram appears twice.
    init?(grams: [UInt64]) {
        self.grams = grams
        var bits: UInt64 = 4
        while (1 << bits) < max(16, grams.count * 2) { bits += 1 }
        shift = 64 - bits
        var slots = [Int32](repeating: -1, count: 1 << bits)
        let mask = (1 << bits) - 1
        for (index, gram) in grams.enumerated() {
            var slot = Int(truncatingIfNeeded: (gram &* Self.multiplier) >> shift)
            while slots[slot] >= 0 {
                if grams[Int(slots[slot])] == gram { return nil }
                slot = (slot + 1) & mask
            }
            slots[slot] = Int32(index)
        }
        self.slots = slots
    }

    var count: Int { grams.count }

    subscript(gram: UInt64) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: (gram &* Self.multiplier) >> shift)
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            if grams[Int(index)] == gram { return Int(index) }
            slot = (slot + 1) & mask
        }
    }

    static func == (lhs: GramTable, rhs: GramTable) -> Bool { lhs.grams == rhs.grams }

    /// Fibonacci hashing: the top bits of the product spread any set of keys evenly.
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
}
