import Testing
@testable import SupportBotCore

@Suite("PIIMasker")
struct PIIMaskerTests {
    @Test("e-mail addresses become [email]", arguments: [
        ("Email me at jane.doe@example.com please", "Email me at [email] please"),
        ("jane.doe+shop@example.co.uk", "[email]"),
        ("My mail is JOHN_smith@Mail.Example.com.", "My mail is [email]."),
        ("contact: support-team@sub.domain.org,", "contact: [email],"),
        ("<a.b@c-d.io>", "<[email]>"),
        ("x@y.com,z@w.org", "[email],[email]"),
        ("mail:o.brien99@gmail.com", "mail:[email]"),
        ("(first.last@uni.ac.uk)", "([email])"),
    ])
    func emails(input: String, expected: String) {
        #expect(PIIMasker.mask(input) == expected)
    }

    @Test("Luhn-valid card numbers become [card]", arguments: [
        ("card 4111 1111 1111 1111 exp 12/26", "card [card] exp 12/26"),
        ("4111-1111-1111-1111", "[card]"),
        ("my card is 4111111111111111.", "my card is [card]."),
        ("amex 3782 822463 10005", "amex [card]"),
        ("mastercard 5555 5555 5555 4444 thanks", "mastercard [card] thanks"),
        ("visa 4012888888881881", "visa [card]"),
        ("13 digits 4222222222222", "13 digits [card]"),
        ("card 4111 1111 1111 1111 cvv 123", "card [card] cvv 123"),
        ("card 4111 1111 1111 1111 123", "card [card] 123"),
    ])
    func cards(input: String, expected: String) {
        #expect(PIIMasker.mask(input) == expected)
    }

    @Test("phone numbers become [phone]", arguments: [
        ("call +44 20 7946 0958 please", "call [phone] please"),
        ("mobile 07700 900123", "mobile [phone]"),
        ("07700900123", "[phone]"),
        ("(555) 123-4567", "[phone]"),
        ("US 555.123.4567 or 1-800-555-0199", "US [phone] or [phone]"),
        ("+44 (0)20 7946 0958", "[phone]"),
        ("tel:+447700900123", "tel:[phone]"),
        ("ring me on 020 7946 0958.", "ring me on [phone]."),
        ("+1 (415) 555-2671, after 6pm", "[phone], after 6pm"),
        ("+33 1 23 45 67 89", "[phone]"),
        ("+49-30-1234567", "[phone]"),
        ("07700 900 123 or 07700 900 456", "[phone] or [phone]"),
    ])
    func phones(input: String, expected: String) {
        #expect(PIIMasker.mask(input) == expected)
    }

    @Test("ordinary numbers and text stay as they are", arguments: [
        "Order PP-123456 has not arrived",
        "Order PP-123456789 and #123456789 and ref A1234567890",
        "It cost £49.99 and shipping was $5.00",
        "Refund of £1,234.56 for order 12345",
        "Delivered on 12/03/2025 at 14:30",
        "Dates: 2025-03-12 14:30, 12.03.2025 10:00, 12-03-2025",
        "I bought 3 items in 2024 and 2 in 2025",
        "Tracking 1Z999AA10123456784",
        "router at 192.168.100.200",
        "£123456789 is not a phone",
        "a@b, @handle, me @ home, user@localhost, 5 @ £3 each",
        "Version 10.15.7 of the app",
        "07700900123abc",
        "Postcode SW1A 1AA, flat 12",
        "no digits at all",
        "",
        "card ending 1112, expiry 09/27",
    ])
    func negatives(input: String) {
        #expect(PIIMasker.mask(input) == input)
    }

    @Test("international numbers are phones, never dates or addresses (D4)", arguments: [
        ("+44-20-7946-0958", "[phone]"),
        ("call +49-30-1234-5678 now", "call [phone] now"),
        ("+33-1-2345-6789", "[phone]"),
        ("+81-3-1234-5678", "[phone]"),
        ("+34.91.123.45.67", "[phone]"),
        ("Berlin 030/1234567", "Berlin [phone]"),
    ])
    func internationalPhones(input: String, expected: String) {
        #expect(PIIMasker.mask(input) == expected)
    }

    @Test("card numbers split or written in other ways are still cards (D4)", arguments: [
        ("4111\t1111\t1111\t1111", "[card]"),
        ("4111\u{00A0}1111\u{00A0}1111\u{00A0}1111", "[card]"),
        ("card 4111  1111  1111  1111 ok", "card [card] ok"),
        ("4111/1111/1111/1111", "[card]"),
        ("4111_1111_1111_1111", "[card]"),
        ("visa4111111111111111", "visa[card]"),
        ("my card ４１１１ １１１１ １１１１ １１１１ please", "my card [card] please"),
    ])
    func cardsWrittenOtherWays(input: String, expected: String) {
        #expect(PIIMasker.mask(input) == expected)
    }

    @Test("IBANs become [iban], with or without spaces (D4)", arguments: [
        ("GB82WEST12345698765432", "[iban]"),
        ("pay to GB82 WEST 1234 5698 7654 32 thanks", "pay to [iban] thanks"),
        ("DE89370400440532013000.", "[iban]."),
        ("iban: de89 3704 0044 0532 0130 00", "iban: [iban]"),
    ])
    func ibans(input: String, expected: String) {
        #expect(PIIMasker.mask(input) == expected)
    }

    @Test("not IBANs or cards: a wrong check, ordinary codes, full-width text without numbers", arguments: [
        "GB82WEST12345698765433",
        "Order AB12CDEF34567890 is late",
        "ORD123456789",
        "ｆｕｌｌ ｗｉｄｔｈ ｔｅｘｔ",
        "visa4111111111111112",
        "12/03/2025 and 2025/03/12",
        "send it to SW10 1AE my parcel to flat two has not arrived",
        "SE10 9HT, the parcel for flat 2 never came and I am worried",
        "BA12 leaves at nine and lands at noon, is my bag on it",
    ])
    func notPersonal(input: String) {
        #expect(PIIMasker.mask(input) == input)
    }

    @Test func luhnInvalidSixteenDigitsIsNotACard() {
        #expect(!PIIMasker.mask("4111 1111 1111 1112").contains("[card]"))
    }

    @Test func everythingInOneMessage() {
        let text = "Hi, I'm jane@example.com, card 4111 1111 1111 1111, phone +44 7700 900123, order PP-123456, £49.99"
        #expect(PIIMasker.mask(text) == "Hi, I'm [email], card [card], phone [phone], order PP-123456, £49.99")
    }

    @Test func nonASCIITextSurvives() {
        let text = "Grüße 😀 — écrivez à marie@exemple.fr, merci 🙏"
        #expect(PIIMasker.mask(text) == "Grüße 😀 — écrivez à [email], merci 🙏")
    }

    @Test func maskingIsIdempotent() {
        let once = PIIMasker.mask("jane@example.com 4111111111111111 07700 900123")
        #expect(PIIMasker.mask(once) == once)
    }

    @Test("pathological input finishes and masks nothing it should not", arguments: [
        String(repeating: "1 ", count: 50_000),
        String(repeating: "a", count: 100_000) + "@",
        String(repeating: "a@", count: 50_000),
        String(repeating: "1", count: 100_000),
        String(repeating: "(1)-", count: 25_000),
    ])
    func pathologicalInput(input: String) {
        let masked = PIIMasker.mask(input)
        #expect(!masked.contains("[email]"))
        #expect(masked.count <= input.count)
    }
}

@Suite("PIIMasker: e-mail addresses found")
struct EmailAddressFindingTests {
    @Test("the addresses mask would replace are found, in order; a hint shows the first letter and the domain")
    func findsAddresses() {
        #expect(PIIMasker.emailAddresses(in: "reach me at jo.bloggs@example.com or jo@work.co.uk.")
                == ["jo.bloggs@example.com", "jo@work.co.uk"])
        #expect(PIIMasker.emailAddresses(in: "no address @ here, nor foo@bar").isEmpty)
        #expect(PIIMasker.hint(ofEmail: "jo.bloggs@example.com") == "j•••@example.com")
        #expect(PIIMasker.mask(PIIMasker.hint(ofEmail: "jo@example.com")) == "j•••@example.com")
    }
}
