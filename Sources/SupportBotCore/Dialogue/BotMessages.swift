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

    let offerPerson = "If you like, I can pass you to a person on our team. Just say \"talk to a person\"."
    /// The quick reply that takes up that offer (it sends these words, which ask for a person).
    public static let talkToAPerson = "Talk to a person"

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

    // MARK: Handing off to people

    public let apology = "I'm sorry this happened."

    static func isApology(_ text: String) -> Bool {
        let start = text.prefix(20).lowercased()
        return start.hasPrefix("sorry") || start.hasPrefix("i'm sorry") || start.hasPrefix("i'm really sorry")
            || start.hasPrefix("i am sorry")
    }

    /// Where the customer stands in the line, e.g. "You are number 3 in line. The wait is about 4 minutes."
    public func place(position: Int, waitMinutes: Int) -> String {
        let place = position <= 1 ? "You are next in line." : "You are number \(position) in line."
        let wait = waitMinutes <= 1 ? "The wait is about a minute." : "The wait is about \(waitMinutes) minutes."
        return place + " " + wait
    }

    /// Added to the offer of a person out of hours, so the customer knows before they choose.
    public func awayBeforeOffer(backAt: String?) -> String {
        if let backAt { return "\(Self.teamAway) They are back \(backAt)." }
        return "Our team is away right now, and will reply when they are back."
    }

    /// A waiting customer's place while the team is away.
    public func away(backAt: String?) -> String {
        if let backAt { return "\(Self.teamAway) They are back \(backAt). Your chat is saved." }
        return "\(Self.teamAway) Your chat is saved, and they will reply when they are back."
    }

    private static let teamAway = "Our team is away right now."

    /// The first message of a handoff.
    /// - Parameters:
    ///   - away: outside opening hours with no one online.
    ///   - backAt: when people are back ("on Monday at 8 am"), if known.
    public func handoff(reason: HandoffReason, upset: Bool, ticket: Int64, position: Int, waitMinutes: Int,
                        away: Bool = false, backAt: String? = nil) -> String {
        var parts: [String] = []
        if reason == .internalError {
            parts.append("Sorry, something went wrong on our side.")
        } else if upset {
            parts.append(apology)
        } else if reason == .askedForPerson {
            parts.append("Sure.")
        } else if reason == .notUnderstood || reason == .answerDidNotHelp {
            parts.append("Sorry I could not help.")
        }
        parts.append("I'm passing you to a person on our team. Your ticket number is \(ticket).")
        if away, let backAt {
            parts.append("Our team is away right now. They are back \(backAt). Your chat is saved, and they will reply then.")
            parts.append(leaveEmail)
        } else if away {
            parts.append("Our team is away right now. Your chat is saved, and they will reply when they are back.")
            parts.append(leaveEmail)
        } else {
            parts.append(place(position: position, waitMinutes: waitMinutes))
        }
        parts.append("You can add more details here. Say \"never mind\" to go back to the bot.")
        return parts.joined(separator: " ")
    }

    /// A returning customer goes straight back to the person who helped them before.
    public func handoffToKnownAgent(ticket: Int64, agent: String) -> String {
        "I'm passing you to \(agent), who helped you before. Your ticket number is \(ticket)."
    }

    public let addedToTicket = "Thanks. I added that to your chat for our team."
    /// Out of hours: the customer need not keep the chat open.
    public let leaveEmail = "If you'd like the reply by e-mail, type your e-mail address here."
    /// A waiting customer left an address for the reply (`hint` is shown, not the whole address).
    public func replyByEmail(hint: String) -> String {
        "Thanks. Our team will reply to \(hint) by e-mail. You can close this chat if you like."
    }
    public let leftQueue = "Okay, you are out of the line. What else can I help you with?"
    public let stillWaiting = "You are still in line for a person. Say \"never mind\" to go back to the bot."
    public func agentJoined(_ name: String) -> String { "\(name) from our team has joined the chat." }
    public func agentClosed(_ name: String) -> String {
        "\(name) has closed the chat. How did we do? Please rate us from 1 to 5. You can add a comment too."
    }
    public func agentAway(_ name: String) -> String { "\(name) will be back in a moment. Your chat is saved." }
    public func agentLost(_ name: String) -> String {
        "Sorry, we lost \(name) for a moment. You are back at the front of the line."
    }
    public func transferred(_ name: String) -> String {
        "\(name) is passing your chat to a teammate who can help more. You keep your place, and they will see the whole chat."
    }
    public let ratingThanks = "Thank you for your rating! It helps us get better."

    // MARK: The server's own words to customers (errors and connection news)

    public static let unreadableLetters = "Some letters in that message could not be read. Please type it again."
    public static let slowDown = "Please wait a few seconds, then send your next message."
    public static let somethingWentWrong = "Sorry, something went wrong on our side. Please try again in a moment."
    public static let chatNotFound = "We can't find that chat. It may be too old. You can start a new chat here."
    public static let busy = "Sorry, we are very busy right now. Please try again in a few minutes."
    public static let tooManyChats = "We can't open another chat from your network right now. Please try again in a few minutes."
    public static let tooLong = "That message is too long. Please send it in a few shorter parts."
    public static let quietTooLong = "This chat was quiet for a long time, so we closed it. Reconnect to carry on."
    public static let restarting = "We are restarting the chat. Please reconnect in a moment to carry on."
    public static let welcomeBack = "Welcome back! We can carry on where we left off."
    public static let goodbye = "Thanks for chatting with us. Bye for now!"
    public static let openElsewhere = "This chat is now open in another tab. To carry on here, just click in the box below."

    static let serverSamples = [unreadableLetters, slowDown, somethingWentWrong, chatNotFound, busy, tooManyChats, tooLong,
                                quietTooLong, restarting, welcomeBack, goodbye, openElsewhere]

    /// Every fixed sentence, for the readability linter.
    public var allSamples: [String] {
        let two = [ReplyOption(n: 1, intent: "a", title: "Track my order"),
                   ReplyOption(n: 2, intent: "b", title: "Start a return")]
        let topics = [Suggestion(intent: "a", title: "Track my order")]
        return [welcome, clarify(two), clarify([two[0]]), fallback(suggestions: topics, streak: 1),
                fallback(suggestions: [], streak: 2), emptyMessage, noneOfThese, unhelpfulNoOptions, unhelpful(two),
                moreOnTopic(two), gladToHelp, anythingElse, offerPerson, badOption(count: 3), noOpenQuestion, apology,
                handoff(reason: .angry, upset: true, ticket: 12, position: 3, waitMinutes: 4, backAt: nil),
                handoff(reason: .askedForPerson, upset: false, ticket: 12, position: 1, waitMinutes: 1,
                        away: true, backAt: "on Monday at 8 am"),
                handoff(reason: .handoffTopic, upset: false, ticket: 12, position: 1, waitMinutes: 1, away: true),
                handoffToKnownAgent(ticket: 12, agent: "Sam"),
                handoff(reason: .internalError, upset: false, ticket: 12, position: 2, waitMinutes: 2, backAt: nil),
                handoff(reason: .notUnderstood, upset: false, ticket: 12, position: 2, waitMinutes: 2, backAt: nil),
                away(backAt: "tomorrow at 8 am"), away(backAt: nil), addedToTicket, leaveEmail,
                awayBeforeOffer(backAt: "tomorrow at 9 am"), awayBeforeOffer(backAt: nil),
                replyByEmail(hint: "j•••@example.com"), leftQueue, stillWaiting, agentJoined("Sam"), agentClosed("Sam"), agentLost("Sam"),
                transferred("Sam"), agentAway("Sam"), ratingThanks] + Self.serverSamples
    }
}
