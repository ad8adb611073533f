import Testing
@testable import SupportBotCore

@Suite("SHA256")
struct SHA256Tests {
    @Test("FIPS 180-4 / NIST test vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ("The quick brown fox jumps over the lazy dog",
         "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
    ])
    func vectors(message: String, expected: String) {
        #expect(SHA256.hex(message) == expected)
    }

    /// Lengths around the 55/56/64-byte padding boundaries, checked against coreutils sha256sum.
    @Test("padding boundaries", arguments: [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    ])
    func paddingBoundaries(length: Int, expected: String) {
        #expect(SHA256.hex(String(repeating: "a", count: length)) == expected)
    }

    @Test("one million times 'a'")
    func millionA() {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(bytes) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("strings are hashed as UTF-8 and bytes as given")
    func utf8AndBytes() {
        #expect(SHA256.hex("Caf\u{E9} \u{2615}") == "0c3eecb944c2e450fd5306f55518b2c6bc0bd710732cf11c2baf282f95d594d4")
        #expect(SHA256.hex([0x00, 0xFF, 0x80]) == "f742b965f156c10374bc23aea96e3a8aff8facd6fc079defeaa30219ad86f211")
    }

    @Test("digest is 32 bytes and matches hex")
    func digest() {
        let digest = SHA256.digest(Array("abc".utf8))
        #expect(digest.count == 32)
        #expect(Array(digest.prefix(4)) == [0xBA, 0x78, 0x16, 0xBF])
        #expect(Array(digest.suffix(4)) == [0xF2, 0x00, 0x15, 0xAD])
    }
}
