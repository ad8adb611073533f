/// The bot's own sentences. All of them are short and plain (grade 6 or lower on Flesch-Kincaid);
/// `allSamples` lists them for readability checks.
/// A knowledge base may replace the welcome with a `welcome` setting in `knowledge/_settings.yml`.
public struct BotMessages: Sendable {
    public var welcome: String
    public var email: String?

    public init(settings: [String: String]) {
        if let custom = settings["welcome"], !custom.isEmpty {
            welcome = custom
        } else if let shop = settings["shop_name"], !shop.isEmpty {
            welcome = "Hi! I'm the help bot for \(shop). Ask me a question in a few words, and I will do my best to help."
        } else {
            welcome = "Hi! I'm the help bot. Ask me a question in a few words, and I will do my best to help."
        }
        email = settings["email"]
    }

    static func numbered(_ options: [ReplyOption]) -> String {
        options.map { "\($0.n)) \($0.title)" }.joined(separator: " ")
    }

    func clarify(_ options: [ReplyOption]) -> String {
        if options.count == 1 {
            return "I'm not sure I got that. Did you mean: \(options[0].title)? Say yes, or ask in other words."
        }
        return "I'm not sure I got that. Did you mean: \(Self.numbered(options))? Type a number, or ask in other words."
    }

    func fallback(suggestions: [Suggestion], streak: Int) -> String {
        if streak >= 2 {
            let contact = email.map { " You can also write to us at \($0)." } ?? ""
            return "Sorry, I still don't get it. Please try a few short words, like \"where is my order\".\(contact)"
        }
        let topics = suggestions.isEmpty
            ? ""
            : " Maybe one of these can help: " + suggestions.map(\.title).joined(separator: ", ") + "."
        return "Sorry, I didn't get that. Could you say it in other words?\(topics)"
    }

    let emptyMessage = "Your message looks empty. What can I help you with?"
    let noneOfThese = "Okay. Please tell me a bit more, in other words."
    let unhelpfulNoOptions = "Sorry that did not help. Could you tell me more, in other words?"
    func unhelpful(_ options: [ReplyOption]) -> String {
        "Sorry that did not help. Did you mean one of these? \(Self.numbered(options)) You can also ask in other words."
    }
    func moreOnTopic(_ options: [ReplyOption]) -> String {
        "Sure. Which one? \(Self.numbered(options))"
    }
    let gladToHelp = "Great! What else can I help you with?"
    let anythingElse = "Okay. Is there anything else I can help you with?"
    func badOption(count: Int) -> String {
        "Please pick a number from 1 to \(count), or ask in other words."
    }
    let noOpenQuestion = "There is nothing to pick right now. What can I help you with?"

    /// Every fixed sentence, for the readability linter.
    public var allSamples: [String] {
        let two = [ReplyOption(n: 1, intent: "a", title: "Track my order"),
                   ReplyOption(n: 2, intent: "b", title: "Start a return")]
        let topics = [Suggestion(intent: "a", title: "Track my order")]
        return [welcome, clarify(two), clarify([two[0]]), fallback(suggestions: topics, streak: 1),
                fallback(suggestions: [], streak: 2), emptyMessage, noneOfThese, unhelpfulNoOptions, unhelpful(two),
                moreOnTopic(two), gladToHelp, anythingElse, badOption(count: 3), noOpenQuestion]
    }
}
