import Foundation
import SupportBotData

/// The general and the support model, as one detector uses them.
struct MoodModels: Sendable, Equatable {
    var general: MoodModel
    var support: MoodModel
}

/// A detector's learned models, adapted to its shop's questions at first use. Copies of the detector share it.
final class LearnedMoodModels: @unchecked Sendable {
    private let lock = NSLock()
    private let shopQuestions: @Sendable () -> [String]
    private var ready: MoodModels?

    init(shopQuestions: @escaping @Sendable () -> [String]) { self.shopQuestions = shopQuestions }

    var models: MoodModels {
        lock.withLock {
            if let ready { return ready }
            let models = AdaptedModels.shared.models(for: shopQuestions())
            ready = models
            return models
        }
    }
}

/// Models adapted to a shop's questions, by a fingerprint of the questions: an engine is built for every version
/// of a knowledge base, and most versions keep the examples.
final class AdaptedModels: @unchecked Sendable {
    static let shared = AdaptedModels()
    private static let angryChats = MoodTrainingData.examples.filter(\.angry)
        .map { (grams: MoodModel.gramHashes($0.text), angry: true) }
    private let lock = NSLock()
    private var models: [String: MoodModels] = [:]

    func models(for questions: [String]) -> MoodModels {
        guard !questions.isEmpty else { return MoodModels(general: .general, support: .support) }
        let key = MoodModel.fingerprint(of: questions.map { ($0, false) })
        if let known = lock.withLock({ models[key] }) { return known }
        // The angry support chats keep them from unlearning what anger looks like.
        let examples = Self.angryChats + questions.map { (grams: MoodModel.gramHashes($0), angry: false) }
        let model = MoodModels(general: MoodModel.general.adapted(examples: examples),
                               support: MoodModel.support.adapted(examples: examples))
        lock.withLock {
            if models.count >= 64 { models.removeAll() }
            models[key] = model
        }
        return model
    }
}
