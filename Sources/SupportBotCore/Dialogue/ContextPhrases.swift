/// Short replies that only make sense in context: "yes", "no", "that didn't help", "the second one".
enum ContextPhrase: Equatable {
    case yes
    case no
    case unhelpful
    case noneOfThese
    case option(Int)

    static func detect(_ words: [String]) -> ContextPhrase? {
        guard !words.isEmpty, words.count <= 7 else { return nil }
        let text = words.joined(separator: " ")
        if let number = optionNumber(words) { return .option(number) }
        if nonePhrases.contains(text) { return .noneOfThese }
        if unhelpfulPhrases.contains(text) || unhelpfulParts.contains(where: { text.containsText($0) }) {
            return .unhelpful
        }
        if yesPhrases.contains(text) { return .yes }
        if noPhrases.contains(text) { return .no }
        return nil
    }

    private static let filler: Set<String> = [
        "number", "option", "the", "one", "choice", "please", "pls", "i", "want", "pick", "choose", "no", "nr", "it", "is",
    ]
    private static let numbers: [String: Int] = [
        "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
        "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "two": 2, "three": 3, "four": 4, "five": 5,
        "last": -1,
    ]

    private static func optionNumber(_ words: [String]) -> Int? {
        guard words.count <= 4 else { return nil }
        var found: Int?
        for word in words {
            if let n = numbers[word] {
                if found != nil { return nil }
                found = n
            } else if word == "one" {
                continue
            } else if !filler.contains(word) {
                return nil
            }
        }
        if found == nil && words == ["one"] { return 1 }
        if found == nil && words.contains("one") && words.count == 2 && words[0] == "number" { return 1 }
        return found
    }

    private static let yesPhrases: Set<String> = [
        "yes", "yeah", "yep", "yup", "ya", "yes please", "yeah please", "sure", "ok yes", "okay yes", "yes i do",
        "yes it is", "yes that is it", "that is it", "that is right", "correct", "right", "exactly", "please do",
        "y", "yea", "yes thanks", "yes thank you", "sure thing", "sounds good",
    ]
    private static let noPhrases: Set<String> = [
        "no", "nope", "nah", "no thanks", "no thank you", "not really", "no i do not", "n", "no that is all",
        "that is all", "nothing else", "no i am good", "no i am fine", "i am good", "i am fine", "all good",
    ]
    private static let nonePhrases: Set<String> = [
        "none", "none of these", "none of them", "neither", "neither of them", "neither of these", "none of those",
        "not those", "something else", "no none of these", "no neither", "other",
    ]
    private static let unhelpfulPhrases: Set<String> = [
        "wrong", "wrong answer", "that is wrong", "not helpful", "unhelpful", "useless", "not what i asked",
        "that is not what i asked", "not what i meant", "that is not what i meant", "that is not it", "not it",
        "no that is not it", "that is not right", "no that is wrong", "you did not answer my question",
    ]
    private static let unhelpfulParts = [
        "did not help", "does not help", "not help me", "was not helpful", "is not helpful", "not what i asked",
        "not what i meant", "did not answer", "does not answer", "not answer my question",
    ]
}

/// A message that carries on from the last answer rather than asking it again: "and to germany?", "what about
/// klarna", "how do i claim" (short), "also, can i pay later".
enum FollowUp {
    private static let openers: [[String]] = [
        ["and"], ["what", "about"], ["how", "about"], ["also"], ["but"], ["ok", "and"], ["okay", "and"], ["so"],
        ["what", "if"], ["then"], ["plus"], ["or"],
    ]

    static func looksLikeOne(_ words: [String]) -> Bool {
        words.count <= 3 || openers.contains { words.starts(with: $0) }
    }

    /// Words that point back at something said before: "how long will *that* take", "can *they* go in the wash".
    private static let pointers: Set<String> = [
        "it", "that", "this", "they", "them", "those", "these", "there", "one", "ones", "its", "then", "though",
        "tho", "instead", "either", "too", "else",
    ]

    /// Whether a message may lean on the question before it: short ("how long do i wait", "who do i email"), opened
    /// like a follow-up, or pointing back ("can i get a copy of it first"). Such a message is also read together with
    /// the earlier question.
    static func leansOnContext(_ words: [String]) -> Bool {
        words.count <= 5 || openers.contains { words.starts(with: $0) } || words.contains(where: pointers.contains)
    }
}

/// A greeting in front of a question ("hi do u deliver to the states"): the question is what to answer.
enum Greeting {
    private static let greetings: [[String]] = [
        ["good", "morning"], ["good", "afternoon"], ["good", "evening"], ["hi", "there"], ["hello", "there"],
        ["hey", "there"], ["hi"], ["hello"], ["hey"], ["hiya"], ["heya"], ["howdy"], ["morning"], ["evening"],
        ["afternoon"], ["hullo"], ["yo"], ["greetings"], ["hi", "hi"], ["dear", "team"], ["hi", "team"],
        ["hello", "team"],
    ].sorted { $0.count > $1.count }

    /// The words after a greeting that opens the message, when at least two are left; nil otherwise.
    static func rest(after words: [String]) -> [String]? {
        guard let greeting = greetings.first(where: { words.starts(with: $0) }) else { return nil }
        let rest = Array(words.dropFirst(greeting.count))
        return rest.count >= 2 ? rest : nil
    }
}

/// A customer taking in an answer, not asking anything: "ok ill try paypal", "fair enough", "good to know",
/// "brilliant, ordering now", "hmm ok, bit disappointing".
enum Acknowledgement {
    private static let openers: Set<String> = [
        "ok", "okay", "k", "kk", "okey", "okie", "alright", "allright", "right", "ah", "ahh", "aha", "oh", "ooh",
        "ha", "haha", "hah", "hmm", "hm", "mm", "fair", "good", "great", "brilliant", "cool", "nice", "perfect",
        "lovely", "shame", "noted", "understood", "sure", "fine", "grand", "gotcha", "super", "excellent", "wonderful",
        "awesome", "sound", "sounds", "pity", "typical", "oops", "whoops", "fab", "ace", "champion", "yay", "phew",
    ]
    private static let endings: Set<String> = ["ok", "okay", "fine", "alright", "then"]
    /// Words that make it a question or a complaint, not a nod.
    private static let questionWords: Set<String> = [
        "how", "what", "when", "where", "why", "who", "which", "whats", "wheres", "whens", "hows", "can", "could",
        "do", "does", "is", "are", "would", "should", "help", "not", "never", "still", "but",
    ]

    static func detect(_ words: [String], text: String) -> Bool {
        guard let first = words.first, let last = words.last, words.count <= 12, !text.contains("?") else {
            return false
        }
        guard openers.contains(first) || (endings.contains(last) && words.count <= 6) else { return false }
        // "bit annoying tbh but ok": a "but" is fine when the message ends in the nod.
        let checked = endings.contains(last) ? words.filter { $0 != "but" } : words
        return !checked.contains(where: questionWords.contains)
    }
}

/// The thanks or goodbye at the end of a message ("ok found it, thanks", "no worries, night").
enum Closing {
    /// Longest first, so "good night" wins over "night".
    private static let closings: [[String]] = [
        ["thank", "you"], ["thanks"], ["thank", "u"], ["thx"], ["ty"], ["cheers"], ["ta"], ["bye"], ["goodbye"],
        ["night"], ["good", "night"], ["many", "thanks"],
        // "bye, have a good day": a farewell, not a follow-up on the last topic.
        ["have", "a", "good", "day"], ["have", "a", "nice", "day"], ["have", "a", "great", "day"],
        ["have", "a", "good", "one"], ["have", "a", "good", "evening"], ["have", "a", "good", "weekend"],
        ["have", "a", "nice", "evening"], ["have", "a", "nice", "weekend"], ["have", "a", "lovely", "day"],
    ].sorted { $0.count > $1.count }

    /// The closing words the message ends with (or starts with, before a comma-free rest of at most three words).
    static func words(in words: [String]) -> [String]? {
        for closing in closings {
            if words.count > closing.count, Array(words.suffix(closing.count)) == closing { return closing }
            if words.count > closing.count, words.count <= closing.count + 3, words.starts(with: closing) {
                return closing
            }
        }
        return nil
    }
}
