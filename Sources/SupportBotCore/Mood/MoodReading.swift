import Foundation
import SupportBotData

/// One thing the mood detector noticed, with how much it added.
public struct MoodReason: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case angerWord = "anger word"
        case insult
        case profanity
        case threat = "threat to leave or escalate"
        case escalation = "asks for a manager"
        case repetition = "had to repeat"
        case sarcasm
        case shouting
        case punctuation
        case risingComplaints = "complaints across turns"
        case repeatedMessage = "same message again"
        case blame = "blames or demands"
        case emoji
        /// A learned model raised the score: the support model next to an anger cue, or the general model (people's
        /// labelled messages) alone, as far as an apology.
        case learned = "sounds like angry chats we have seen"
        /// The general model hears no upset: a middling score from the rules is taken down (negative weight).
        case learnedCalm = "sounds like calm chats we have seen"
        // Calming cues: their weight is negative, the share of the score they took away.
        case calming = "calming words"
        case friendly = "friendly words"
        case worry = "worry or sadness"
        case question = "a shopping question"
    }

    public var kind: Kind
    /// The words or signs that were found, e.g. "ridiculous" or "!!!".
    public var evidence: String
    public var weight: Double

    public init(kind: Kind, evidence: String, weight: Double) {
        self.kind = kind
        self.evidence = evidence
        self.weight = weight
    }

    public var summary: String { "\(kind.rawValue): \"\(evidence)\"" }
}

/// How angry or frustrated one message reads, from 0 (calm) to 1, and why.
public struct MessageMood: Sendable, Equatable {
    public var score: Double
    public var reasons: [MoodReason]
}

/// The mood of the conversation so far. Kept with the dialogue context, so it survives a reconnect.
/// Holds no customer text: earlier messages are remembered only as short hashes.
public struct MoodState: Codable, Sendable, Equatable {
    /// Scores of the last few customer messages, oldest first.
    public var recent: [Double] = []
    /// The conversation's score after the last message.
    public var conversation: Double = 0
    /// Hashes of the last few messages, to notice the same message sent again.
    public var recentHashes: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey { case recent, conversation, recentHashes = "recent_hashes" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        recent = try c.decodeIfPresent([Double].self, forKey: .recent) ?? []
        conversation = try c.decodeIfPresent(Double.self, forKey: .conversation) ?? 0
        recentHashes = try c.decodeIfPresent([String].self, forKey: .recentHashes) ?? []
    }
}

/// The result of scoring one message in its conversation.
public struct MoodReading: Sendable, Equatable {
    /// This message alone.
    public var message: Double
    /// The conversation so far, this message included.
    public var conversation: Double
    /// Every cue found in this message, plus conversation cues (rising complaints, the same message again).
    public var reasons: [MoodReason]
    /// The conversation score reached the detector's threshold.
    public var isAngry: Bool
    /// High enough that the bot should apologise before it answers.
    public var isUpset: Bool

    public init(message: Double, conversation: Double, reasons: [MoodReason], isAngry: Bool, isUpset: Bool) {
        self.message = message
        self.conversation = conversation
        self.reasons = reasons
        self.isAngry = isAngry
        self.isUpset = isUpset
    }
}
