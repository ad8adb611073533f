/// The words and phrases the mood detector looks for, each with the weight it adds and the kind of cue it is.
/// Phrases are written as a customer would type them; they are normalised like customer text (lower case,
/// contractions expanded), so "don't" and "dont" both match "do not".
enum MoodLexicon {
    struct Entry {
        var kind: MoodReason.Kind
        var weight: Double
    }

    /// Cues of anger, keyed by their normalised words.
    static var cues: [[String]: Entry] { table.cues }
    /// Phrases listed twice (after normalising) or empty; a test keeps this empty.
    static var duplicates: [String] { table.duplicates }

    private static let table: (cues: [[String]: Entry], duplicates: [String]) = {
        var table: [[String]: Entry] = [:]
        var duplicates: [String] = []
        func add(_ kind: MoodReason.Kind, _ weight: Double, _ phrases: [String]) {
            for phrase in phrases {
                let words = TextNormalizer.tokens(phrase)
                guard !words.isEmpty, table[words] == nil else {
                    duplicates.append(phrase)
                    continue
                }
                table[words] = Entry(kind: kind, weight: weight)
            }
        }
        add(.angerWord, 0.55, [
            "furious", "livid", "fuming", "outraged", "outrageous", "disgusted", "disgusting", "disgrace", "disgraceful",
            "unacceptable", "ridiculous", "appalling", "atrocious", "shambles", "fed up", "sick of", "sick and tired",
            "had enough", "enough is enough", "pissed", "pissed off", "infuriating", "infuriated", "angry", "very angry",
            "waste of time", "waste of money", "worst", "absurd", "insulting", "disrespectful", "shameful",
            "beyond a joke", "this is a joke", "what a joke", "a joke", "unbelievable", "fobbed off", "ripped off",
            "rip off", "ripoff", "not good enough", "not acceptable", "not on", "how dare", "what the hell",
            // Before "not on the …" (calm: "not on the statement") can take the words.
            "that is not on", "this is not on", "it is not on", "its not on", "that is just not on",
        ])
        add(.angerWord, 0.35, [
            "terrible", "horrible", "awful", "annoyed", "annoying", "frustrated", "frustrating", "shocking", "nonsense",
            "rubbish", "garbage", "trash", "crap", "crappy", "unhappy", "not pleased", "not satisfied",
            "not impressed", "not okay", "not ok", "not fair", "unfair", "hopeless", "lousy", "poor service",
            "bad service", "awful service", "mess", "messed up", "screwed up", "hate", "irritated",
            "upset", "sloppy", "shoddy", "lame", "nightmare",
        ])
        add(.angerWord, 0.45, ["not happy"])
        add(.angerWord, 0.2, ["disappointed", "disappointing", "not helpful", "unhelpful", "no help"])
        add(.insult, 0.6, [
            "bait and switch", "thick as", "as thick as", "useless", "incompetent", "pathetic", "idiot", "idiots", "idiotic", "stupid", "moron", "morons", "clowns",
            "clown", "scam", "scammers", "scammer", "thieves", "thief", "liars", "liar", "you lied", "lying",
            "cowboys", "amateurs", "clueless", "dumb", "joke of a", "crooks", "fraudsters", "con artists", "muppets",
        ])
        add(.profanity, 0.55, [
            "my arse", "my ass", "fuck", "fucking", "fucked", "fuckin", "fck", "fking", "effing", "shit", "shitty", "bullshit", "wtf",
            "ffs", "bollocks", "bastard", "bastards", "asshole", "arsehole", "piss", "dickheads", "damn you",
        ])
        add(.profanity, 0.3, ["bloody", "the hell", "hell is", "goddamn", "damn", "damned", "bs", "arse", "screw you",
                              "sod", "jeez", "omfg"])
        add(.threat, 0.55, [
            "chargeback", "charge back", "dispute the charge", "dispute the payment", "disputing the charge",
            "disputing the payment", "lawyer", "lawyers", "solicitor", "legal action", "sue you", "take you to court", "see you in court",
            "small claims", "trading standards", "ombudsman", "watchdog", "report you", "reporting you",
            "never again", "never order from you", "never buy from you", "never shop", "never use you",
            "taking my business elsewhere", "shop elsewhere", "go elsewhere", "leave a 1 star", "leaving a 1 star", "leave a one star", "leaving a one star", "give you 1 star",
            "give you one star", "bad review",
            "terrible review", "negative review", "tell everyone", "social media", "contact my bank", "call my bank",
            "last chance", "or else", "i am done", "done with you", "done with this", "last time i order",
            "last time i buy", "last time i shop", "give me my money", "i want my money back", "want my money back",
            "better be", "you owe me", "opening a dispute", "open a dispute", "report this", "had your chance",
            "last warning", "never ordering", "never buying", "never shopping", "never using",
        ])
        // Asking to close an account or dispute a charge is often just a request: it adds only a little.
        add(.threat, 0.2, ["cancel my account", "close my account", "delete my account", "dispute"])
        add(.threat, 0.3, ["one star", "1 star", "cancel everything",
                           "refund now", "refund immediately", "money back now", "consumer rights"])
        add(.escalation, 0.5, [
            "manager", "supervisor", "someone in charge", "your boss", "head of", "escalate", "escalating",
            "senior person", "someone senior", "complaints department", "escalated",
        ])
        add(.blame, 0.5, [
            "how is that legal", "is that even legal", "how is this legal", "do not bother", "do you even", "nobody does anything", "what is the point", "how you treat", "lost a loyal customer", "just done", "so done", "sort it out", "sort this out", "do your job", "do your jobs", "read it", "read my message",
            "answer the question", "answer me", "give it back", "you clearly", "do not care",
            "could not care less", "nobody cares", "no one cares", "nobody bothered",
            "no one bothered", "nobody seems to care", "you lie", "you lied to", "lie on your", "lying to",
            "theft", "robbery", "daylight robbery", "stealing", "stole", "harassment", "ruined", "lost a customer",
            "losing my patience", "lost my patience", "lost patience", "round in circles", "not even an",
            "not even a", "are you kidding", "kidding me", "are you serious", "you serious", "how hard is it",
            "how hard can it be", "i swear", "tf", "wth", "genius", "is anyone actually", "anyone even",
            "are you even", "just bots", "automated reply", "stop sending", "stop closing", "stop telling",
            "stop ignoring", "do not send me", "all i get", "or i will", "or i am going", "or i go", "or i am",
            "citizens advice", "why am i the one", "should not have to", "every single day", "funny how",
            "yeah clearly", "what are you selling", "you people", "screw your", "not accepting", "refund it or",
            "i demand", "demand a", "where is my money", "my own money", "explain yourself", "no excuse",
            "no excuses", "incompetence", "rude", "your mistake", "your fault", "your error", "false promises",
            "broken promises", "you promised", "zero help", "no help at all", "waste my time", "wasted my time",
            "wasted enough", "wasting my time",
        ])
        add(.blame, 0.35, [
            "what exactly", "in a row", "fix it", "fix this", "that is it", "i expect", "card provider", "card issuer", "chasing",
            "forever", "typical", "your policy", "never came", "never arrived", "explain why",
            "nobody tells", "nobody told", "no one told", "without telling", "without asking", "promised",
            "treat customers", "treating customers", "anyone there", "can not believe",
            "you want me to", "seriously",
        ])
        add(.calming, -0.5, [
            "no big deal", "nothing urgent", "not urgent", "just checking", "my fault", "my mistake", "my bad",
            "with myself", "take a while", "takes a while", "no hurry", "no rush", "made a mistake", "i made",
            "i know it can", "i understand", "i ruined", "i broke", "i think i",
        ])
        // Hedges: mild annoyance, said calmly ("bit annoying tbh") is upset, not angry.
        add(.calming, -0.2, ["a bit", "bit", "bit of a pain",
                             "slightly", "a little", "kinda", "kind of", "somewhat"])
        add(.repetition, 0.5, [
            "told you", "not asking again", "third time", "3rd time", "fourth time", "4th time", "fifth time", "5th time", "times now",
            "how many times", "how many times can i tell you", "how many times can i say", "how many times can i ask",
            "how many times can i explain", "how many times can i repeat", "already told you", "i told you", "told you already", "keep asking", "keep telling",
            "again and again", "over and over",
            "nobody answers", "nobody replies", "nobody has", "no one answers", "no one replies",
            "no one has", "no reply", "no response", "no answer", "ignored", "ignoring me", "ignoring my",
            "same answer", "nobody did", "no one did", "said that already", "asked already", "already asked", "going in circles",
            "yet again", "once again",
        ])
        // Saying it is not there yet: upset only next to another cue ("still not here after 3 weeks?!").
        add(.repetition, 0.28, ["still no", "still not", "still nothing", "still waiting", "still have not"])
        add(.repetition, 0.25, ["keep getting", "what is going on"])
        // "error every time" describes the error; "every time I order something goes wrong" gets other cues too.
        add(.repetition, 0.35, ["every time"])
        add(.repetition, 0.25, ["again", "second time", "2nd time", "been waiting", "weeks", "for days", "a month",
                                "still", "three times", "3 times", "twice", "every day", "days now", "weeks now",
                                "nothing"])
        add(.sarcasm, 0.55, [
            "love that for me", "oh cheers", "cool cool cool", "thanks for nothing", "thank you for nothing", "yeah right", "oh great", "oh wonderful", "just great",
            "well done", "good job", "nice one", "bravo", "cheers for nothing", "great job", "what a surprise",
            "surprise surprise", "just what i needed", "thanks a lot", "cheers for", "sure sure",
        ])
        // Phrases that look like cues but are not anger; matched first so their words count for nothing.
        add(.angerWord, 0, [
            "hate to", "no problem", "no problems", "no worries", "not bad", "not a problem",
            "not upset", "not angry", "not complaining", "worst case", "no joke", "joking", "dead battery",
            "battery is dead", "still in stock", "still available", "still on", "still open", "still there",
            "still good", "still valid", "still work", "still works", "still deliver", "still get", "still use",
            "stop sending me emails", "stop sending me texts", "stop sending me newsletters",
            "stop sending me offers", "stop sending emails", "stupid me", "silly me", "dumb me", "i am so stupid",
            "i was stupid", "i feel stupid", "i feel so stupid", "i am an idiot", "i am such an idiot", "someone stole", "somebody stole", "how many times can i", "not on my", "not on the", "not on your",
            "not on it", "should i expect", "can i expect", "could i expect", "how do i fix", "how can i fix",
            "how to fix", "can you fix", "can i fix", "was stolen", "been stolen", "got stolen", "is stolen",
            "were stolen", "lost or stolen", "stolen card", "stolen phone", "card stolen", "phone stolen",
            "again please", "try again", "order again", "buy again", "shop again", "once again thank", "can you explain", "explain that", "explain how", "please explain",
            "thanks again", "thank you again", "dying to", "killing it", "kill for", "to die for", "excuse me",
            "tell me a joke", "tell us a joke", "know any jokes", "know a joke", "got a joke",
            // A request, not a demand: "can a person sort this out please".
            "person sort this out", "person sort it out", "you sort this out", "you sort it out",
            "someone sort this out", "someone sort it out",
        ])
        return (table, duplicates)
    }()

    /// For each word a cue can start with, the lengths of the cues that start with it, longest first. At any other
    /// word no cue needs looking up, and at these only cues of these lengths can match.
    static let cueLengths: [String: [Int]] = {
        var lengths: [String: Set<Int>] = [:]
        for cue in table.cues.keys { if let first = cue.first { lengths[first, default: []].insert(cue.count) } }
        return lengths.mapValues { $0.sorted(by: >) }
    }()

    /// Words that turn the following cue around: "not angry", "no problem", "never complained".
    static let negations: Set<String> = ["not", "no", "never", "nothing", "without", "hardly"]

    /// Cue kinds a negation cancels ("not angry", "no joke"). Negated *positive* words are listed as cues
    /// themselves ("not happy"), so they are not cancelled.
    static let negatable: Set<MoodReason.Kind> = [.angerWord, .insult, .sarcasm, .blame]

    /// Words that make the next cue stronger: "really not happy", "so annoyed".
    static let intensifiers: Set<String> = ["really", "very", "so", "extremely", "absolutely", "totally", "utterly",
                                            "completely", "truly", "beyond", "incredibly", "seriously"]

    /// Words of a demand: capitals around them read as shouting.
    static let demanding: Set<String> = ["not", "no", "stop", "where", "why", "now", "demand", "want", "never"]

    /// Friendly, grateful or happy words. With no real anger cue they calm the score ("LOVE it!!!").
    static let positive: Set<String> = [
        "thanks", "thank", "thx", "ty", "love", "loved", "loving", "appreciate", "appreciated", "perfect", "awesome",
        "excellent", "great", "amazing", "brilliant", "fantastic", "wonderful", "happy", "pleased", "glad", "cheers",
        "lovely", "nice", "superb", "helpful", "beautiful", "gorgeous", "delighted", "quick", "fast", "best", "good",
        "cool", "yay", "wow", "cosy", "cozy", "cute", "cuteness", "loving", "adore", "stunning", "gorgeous",
        "comfy", "pretty",
    ]

    /// Praise words that read as sarcasm next to a complaint ("wow, 3 weeks, amazing service").
    static let praise: Set<String> = [
        "great", "amazing", "brilliant", "fantastic", "wonderful", "lovely", "excellent", "superb", "perfect", "wow",
        "impressive", "marvellous", "marvelous", "stellar", "outstanding",
    ]

    /// Words of something gone wrong: praise next to them is sarcasm, capitals around them are shouting.
    /// Sarcasm cues that are plain thanks unless something has gone wrong in the same message.
    static let thanksUnlessTrouble: Set<String> = ["thanks a lot", "cheers for"]

    static let trouble: Set<String> = [
        "weeks", "week", "days", "month", "months", "still", "never", "broken", "broke", "late", "lost", "nobody",
        "waiting", "waited", "missing", "damaged", "wrong", "refund", "useless", "pieces", "leak", "leaks",
        "leaking", "stained", "cracked", "smashed", "delay", "delayed", "ignored", "ignoring", "charged", "cancelled",
        "canceled", "money", "nothing", "hours", "failed", "forever", "another",
    ]

    /// Angry or eye-rolling emoji and what each adds.
    static let angryEmoji: [Character: Double] = [
        "🤬": 0.6, "😡": 0.55, "😠": 0.5, "👿": 0.5, "💢": 0.5, "🖕": 0.6, "😤": 0.4, "🙄": 0.35, "🙃": 0.3,
        "😒": 0.3, "👎": 0.3, "💩": 0.4,
    ]

    static let happyEmoji: Set<Character> = [
        "😍", "❤", "❤️", "🥰", "😊", "🙂", "😀", "😁", "😄", "😃", "👍", "🙏", "🎉", "✨", "💕", "💖", "😘", "🤩", "💚",
        "💙", "😆", "🥳", "👌", "💯", "☺", "☺️",
    ]

    static func friendlyEmoji(in text: String) -> [String] {
        if emojiAreNonASCII && text.isPlainASCII { return [] }
        return text.filter { happyEmoji.contains($0) }.map { String($0) }
    }

    /// No emoji in the lists is plain ASCII, so an ASCII message has none (and its characters need no lookups).
    static let emojiAreNonASCII = angryEmoji.keys.allSatisfy { !$0.isASCII } && happyEmoji.allSatisfy { !$0.isASCII }

    /// A question about products or how to do something: the cue words in it are rarely anger at the shop.
    static func shoppingQuestion(_ words: [String]) -> String? {
        questionPhrases.first(in: words)?.joined(separator: " ")
    }

    private static let questionPhrases = PhraseIndex([
        "do you have", "do you do", "do you sell", "do you stock", "do you make", "do you ship", "do you offer",
        "which one", "which set", "which size", "would you recommend", "can you recommend", "in stock",
        "is it available", "available to order", "how do i", "how can i", "can i exchange", "can i swap",
        "where can i find", "what is the best", "looking for", "buying a gift", "a gift for", "is that possible",
        "is it possible", "would it be possible", "bulk order",
    ].map(TextNormalizer.tokens))

    /// Worry and sadness: upset, but not at us. With no strong anger cue they soften the score.
    static let worry: Set<String> = [
        "worried", "worry", "worrying", "scared", "afraid", "anxious", "nervous", "concerned", "sad", "heartbroken",
        "stressed", "panicking", "panic", "confused", "unsure", "sorry", "hope", "hoping", "unfortunately", "please",
        "help",
    ]

    /// Upper-case words that are names, sizes or codes, not shouting.
    static let acronyms: Set<String> = [
        "UPS", "DHL", "DPD", "USPS", "FEDEX", "TNT", "XL", "XXL", "XS", "UK", "USA", "US", "EU", "ID", "PIN", "FAQ",
        "OK", "PDF", "SMS", "URL", "VAT", "EUR", "GBP", "USD", "ASAP", "PS", "TV", "DIY", "LED", "USB", "ETA", "RMA",
        "GPS", "PM", "AM", "PO", "TBH", "IMO", "FYI", "NB", "ATM", "BBQ", "UV", "HQ", "LOL", "PP", "ISBN", "SKU",
        "CVV", "CVC", "ORDER", "REF",
    ]
}
