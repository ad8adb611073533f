import Foundation

// Ranking a message against a matcher's index: the query's features (and related words) through the inverted
// index, each intent's closest example and centroid, follow-ups in context, and the evidence for the doubt model.

extension MatcherIndex {
    /// One intent's figures for a message, as `rank` sorts them.
    typealias Scored = (intent: Int32, score: Double, example: Int32, similarity: Double, probability: Double,
                        closest: Double)

    /// Ranks intents for a message (see `Matcher.match`).
    /// - Parameters:
    ///   - lastIntent: the intent answered just before; follow-up intents (`after:`) are only eligible right after it…
    ///   - topic: …or while the conversation is still on their parent (after a sibling follow-up).
    ///   - limit: how many candidates to return.
    ///   - earlierStems: stems of the question that set the conversation's topic (`topicStems(of:)`), read together
    ///     with the message: "how long do i wait" after "my account is locked". Word pairs don't cross from one to
    ///     the other.
    func match(_ text: String, lastIntent: String? = nil, topic: String? = nil, earlierStems: [String] = [],
               limit: Int = 5) -> MatchResult {
        let tokens = analyzer.analyze(text)
        let ranked = rank(stems: tokens.map(\.stem), earlierStems: earlierStems,
                          context: [lastIntent, topic].compactMap { $0 }, limit: limit, withEvidence: doubtModel != nil)
        var result = MatchResult(tokens: tokens, candidates: ranked.candidates)
        if let doubtModel, let evidence = ranked.evidence {
            (result.doubt, result.doubtFactors) = doubtModel.verdict(evidence)
        }
        return result
    }

    /// How much a related word counts for a word of the message (0: not at all): the relation's weight times
    /// `relatedWordWeight`, times `knownRelatedShare` when some example has the message's word.
    func relatedCount(_ relation: RelatedFeature, wordIsKnown: Bool) -> Float {
        let counted = Float(config.relatedWordWeight) * relation.weight * (wordIsKnown ? Matcher.knownRelatedShare : 1)
        return counted >= Matcher.minimumRelatedWeight ? counted : 0
    }

    /// What each word of a read message (`MatchResult.tokens`) counted as, beside itself, as `rank` widens it: for
    /// `--explain`, worked out only when asked.
    func relatedWords(for tokens: [TokenTrace]) -> [RelatedWordUse] {
        guard !relatedFeatures.isEmpty else { return [] }
        var uses: [RelatedWordUse] = []
        var seen = Set<String>()
        for token in tokens where seen.insert(token.stem).inserted {
            guard let related = relatedFeatures[token.stem] else { continue }
            let known = unigramIDs[token.stem] != nil
            for relation in related {
                let counted = relatedCount(relation, wordIsKnown: known)
                guard counted > 0 else { continue }
                uses.append(RelatedWordUse(word: token.synonym ?? token.corrected ?? token.word,
                                           related: relation.word, kind: relation.kind,
                                           weight: (Double(counted) * 1000).rounded() / 1000))
            }
        }
        return uses
    }

    /// The stems of a read message that some example has, in order: what a later follow-up is read with. Words no
    /// example has (names, numbers, addresses) are left out, so nothing a customer typed beyond the knowledge base's
    /// own words is kept.
    func topicStems(of tokens: [TokenTrace]) -> [String] {
        tokens.map(\.stem).filter { unigramIDs[$0] != nil }
    }

    /// The top intent for a message asked without context, and the evidence about it (for the doubt model).
    func evidence(for text: String) -> (intent: String, evidence: MatchEvidence)? {
        let ranked = rank(stems: analyzer.analyze(text).map(\.stem), earlierStems: [], context: [], limit: 1,
                          withEvidence: true)
        guard let top = ranked.candidates.first, let evidence = ranked.evidence else { return nil }
        return (top.intent, evidence)
    }

    /// The example texts with their intent ids, in index order.
    var examples: [(intent: String, text: String)] {
        zip(exampleIntent, exampleText).map { (intents[Int($0.0)].id, $0.1) }
    }

    /// - Parameter withEvidence: also gather the evidence about the top intent (for the doubt model), unless it is a
    ///   follow-up.
    func rank(stems: [String], earlierStems: [String], context: [String], limit: Int, withEvidence: Bool)
        -> (candidates: [Candidate], evidence: MatchEvidence?) {
        // Query features: known ones take part in the dot product; unknown ones only lower the norm.
        var queryCounts: [Int32: Int] = [:]
        var unknownNormSquared: Float = 0
        // Examples' words related to the message's words, as weights in the query: the strongest relation for each,
        // times its share, and never weighing more than the message's own word would (its idf, or an unknown word's).
        var relatedWeights: [Int32: Float] = [:]
        for part in [earlierStems, stems] where !part.isEmpty {
            var termIDs: [Int32?] = []
            termIDs.reserveCapacity(part.count)
            for stem in part {
                let id = unigramIDs[stem]
                var covered: Float = 0
                if !relatedFeatures.isEmpty, let related = relatedFeatures[stem] {
                    let own = id.map { idf[Int($0)] } ?? unknownUnigramWeight
                    for relation in related {
                        let counted = relatedCount(relation, wordIsKnown: id != nil)
                        guard counted > 0 else { continue }
                        let weight = counted * min(idf[Int(relation.feature)], own)
                        relatedWeights[relation.feature] = max(relatedWeights[relation.feature] ?? 0, weight)
                        covered = max(covered, counted)
                    }
                }
                if let id {
                    queryCounts[id, default: 0] += 1
                } else {
                    // An unknown word lowers the score less when related words stood in for it.
                    let left = unknownUnigramWeight * (1 - covered)
                    unknownNormSquared += left * left
                }
                termIDs.append(id)
            }
            for (a, b) in zip(termIDs, termIDs.dropFirst()) {
                if let a, let b, let id = bigramIDs[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] {
                    queryCounts[id, default: 0] += 1
                } else {
                    unknownNormSquared += unknownBigramWeight * unknownBigramWeight
                }
            }
        }
        let stems = earlierStems + stems
        // The message's own features, sorted: the follow-up check and the shared terms look at these only.
        let ownFeatures = queryCounts.keys.sorted()
        for feature in relatedWeights.keys where queryCounts[feature] == nil {
            queryCounts[feature] = 0  // a placeholder: its weight is set below
        }
        // Sorted, so float sums always add up in the same order: same message, same scores, to the last bit.
        var query: [(Int32, Float)] = queryCounts.sorted { $0.key < $1.key }.map {
            $0.value > 0 ? ($0.key, (1 + Float(log(Double($0.value)))) * idf[Int($0.key)]) : ($0.key, relatedWeights[$0.key] ?? 0)
        }
        let norm = sqrt(query.reduce(unknownNormSquared) { $0 + $1.1 * $1.1 })
        guard norm > 0, !query.isEmpty else { return ([], nil) }
        query = query.map { ($0.0, $0.1 / norm) }

        // Dot products through the inverted index. Every weight is above 0, so an example shares a feature with the
        // message exactly when its dot product is above 0. (The hot loop of the matcher: no bounds checks.)
        var dot = [Float](repeating: 0, count: exampleText.count)
        dot.withUnsafeMutableBufferPointer { dot in
            postingStart.withUnsafeBufferPointer { starts in
                postingExample.withUnsafeBufferPointer { examples in
                    postingWeight.withUnsafeBufferPointer { weights in
                        for (feature, weight) in query {
                            var p = Int(starts[Int(feature)])
                            let end = Int(starts[Int(feature) + 1])
                            while p < end {
                                dot[Int(examples[p])] += weight * weights[p]
                                p += 1
                            }
                        }
                    }
                }
            }
        }

        // Per intent: the closest example (the first one on a tie), and the cosine with the sum of all its examples.
        // An intent's examples are stored together, so this is one pass over the dot products, in order.
        let byContext = intents.map { eligible($0, context: context) }
        var isEligible = byContext
        var best = [Float](repeating: 0, count: intents.count)
        var sum = [Float](repeating: 0, count: intents.count)
        var bestExample = [Int32](repeating: -1, count: intents.count)
        var hitIntents: [Int32] = []
        // A follow-up (`after:`) out of its context is still reached when the message says enough on its own: close
        // to one of its examples, with topic words in common ("tracking says delivered but theres nothing here"),
        // not only the shape of a question ("how long does it take"). Only the message itself can say so: read with an
        // earlier question's words (`earlierStems`), those words would count too.
        let mayStandAlone = earlierStems.isEmpty
        dot.withUnsafeBufferPointer { dot in
            for i in intents.indices where mayStandAlone && !isEligible[i] {
                var top: Float = 0, topExample = -1
                for e in Int(intentExampleStart[i])..<Int(intentExampleStart[i + 1]) where dot[e] > top {
                    top = dot[e]
                    topExample = e
                }
                guard Double(top) >= Matcher.standaloneFollowUpSimilarity else { continue }
                isEligible[i] = ownFeatures.withUnsafeBufferPointer { topicWordsShared(example: topExample, query: $0) }
                    >= Matcher.standaloneFollowUpWords
            }
            for i in intents.indices where isEligible[i] {
                // Without branches (most dot products are 0 and the rest come in no order a CPU can guess).
                var top: Float = 0, total: Float = 0, topExample = -1
                for e in Int(intentExampleStart[i])..<Int(intentExampleStart[i + 1]) {
                    let score = dot[e]
                    total += score
                    let better = score > top
                    top = better ? score : top
                    topExample = better ? e : topExample
                }
                guard topExample >= 0 else { continue }
                hitIntents.append(Int32(i))
                best[i] = top
                sum[i] = total
                bestExample[i] = Int32(topExample)
            }
        }

        let exampleWeight = config.exampleWeight
        // The classifier's view: a softmax over the linear scores of the eligible intents.
        var probability: [Float] = []
        var linear: [Float] = []
        var entropy = 0.0, weightedLogits = 0.0
        if let classifier {
            linear = [Float](repeating: 0, count: intents.count)
            classifier.score(query, into: &linear)
            let temperature = Float(config.classifierTemperature)
            var maximum = -Float.infinity
            for c in intents.indices where isEligible[c] {
                maximum = max(maximum, linear[c])
            }
            var total: Float = 0
            probability = [Float](repeating: 0, count: intents.count)
            for c in intents.indices where isEligible[c] {
                let logit = (linear[c] - maximum) / temperature
                probability[c] = exp(logit)
                total += probability[c]
                weightedLogits += Double(probability[c] * logit)
            }
            if total > 0 {
                for c in probability.indices { probability[c] /= total }
                // The softmax's entropy, −Σ p·log p, without a log per intent.
                entropy = log(Double(total)) - weightedLogits / Double(total)
            }
        }
        let classifierWeight = classifier == nil ? 0 : config.classifierWeight
        var scored: [Scored] = hitIntents.map { intent in
            let i = Int(intent)
            let centroid = Self.centroidCosine(sum[i], sumNormSquared: intentSumNormSquared[i])
            let similarity = exampleWeight * Double(best[i]) + (1 - exampleWeight) * centroid
            let chance = classifierWeight > 0 ? Double(probability[Int(intent)]) : 0
            var score = (1 - classifierWeight) * similarity + classifierWeight * chance
            if !intents[Int(intent)].after.isEmpty && byContext[Int(intent)] { score += Matcher.followUpBonus }
            return (intent, min(1, max(0, score)), bestExample[i], similarity, chance, Double(best[i]))
        }
        // Only the best `limit` are needed, in order: keep them in a short sorted list instead of sorting all.
        func ranksAbove(_ a: (intent: Int32, score: Double), _ b: (intent: Int32, score: Double)) -> Bool {
            a.score != b.score ? a.score > b.score : a.intent < b.intent
        }
        let keep = max(limit, 2)  // the evidence looks at the runner-up
        var leaders: [Scored] = []
        leaders.reserveCapacity(keep + 1)
        for item in scored {
            if leaders.count == keep, let last = leaders.last, !ranksAbove((item.intent, item.score), (last.intent, last.score)) {
                continue
            }
            var position = leaders.count
            while position > 0, ranksAbove((item.intent, item.score), (leaders[position - 1].intent, leaders[position - 1].score)) {
                position -= 1
            }
            leaders.insert(item, at: position)
            if leaders.count > keep { leaders.removeLast() }
        }
        scored = leaders

        var evidence: MatchEvidence?
        if withEvidence, let top = scored.first, intents[Int(top.intent)].after.isEmpty {
            let t = Int(top.intent)
            let runnerUp = scored.dropFirst().first
            func centroid(_ i: Int) -> Double { Self.centroidCosine(sum[i], sumNormSquared: intentSumNormSquared[i]) }
            var otherCentroid = 0.0, nearest: Float = 0, nearestIntent = -1
            for intent in hitIntents {
                let i = Int(intent)
                if i != t { otherCentroid = max(otherCentroid, centroid(i)) }
                if best[i] > nearest { nearest = best[i]; nearestIntent = i }
            }
            var otherLinear = -Double.infinity, linearTotal = 0.0, eligibleCount = 0.0
            if !linear.isEmpty {
                for c in intents.indices where isEligible[c] {
                    if c != t { otherLinear = max(otherLinear, Double(linear[c])) }
                    linearTotal += Double(linear[c])
                    eligibleCount += 1
                }
            }
            let topLinear = linear.isEmpty ? 0 : Double(linear[t])
            if otherLinear == -.infinity { otherLinear = topLinear }
            evidence = MatchEvidence(plain: [
                top.score, top.score - (runnerUp?.score ?? 0), top.probability, top.closest, top.similarity,
                centroid(t), otherCentroid, runnerUp?.closest ?? 0, runnerUp?.similarity ?? 0, entropy,
                log(1 + Double(hitIntents.count)), Double(1 - unknownNormSquared / (norm * norm)), topLinear,
                otherLinear, eligibleCount > 0 ? linearTotal / eligibleCount : 0, Double(nearest),
                nearestIntent == t ? 1 : 0, log(1 + Double(query.count)), log(1 + Double(stems.count)),
                topLinear >= otherLinear ? 1 : 0, centroid(t) - intentTypicalCentroid[t],
                topLinear - intentTypicalLinear[t],
            ])
        }

        let candidates = ownFeatures.withUnsafeBufferPointer { queryFeatures in
            scored.prefix(limit).map { item in
                let info = intents[Int(item.intent)]
                return Candidate(intent: info.id, title: info.title, score: (item.score * 1000).rounded() / 1000,
                                 similarity: (item.similarity * 1000).rounded() / 1000,
                                 probability: (item.probability * 1000).rounded() / 1000,
                                 closest: (item.closest * 1000).rounded() / 1000,
                                 example: exampleText[Int(item.example)],
                                 sharedTerms: sharedTerms(example: Int(item.example), query: queryFeatures))
            }
        }
        return (candidates, evidence)
    }

    /// Follow-ups (`after:`) are only eligible right after one of their parents.
    func eligible(_ info: IntentInfo, context: [String]) -> Bool {
        info.after.isEmpty || context.contains(where: info.after.contains)
    }

    /// How many topic words the example shares with the message: single words (not word pairs) that are neither
    /// function words nor the shape of a question (`questionShapeStems`: "how long does it take" has none).
    func topicWordsShared(example: Int, query: UnsafeBufferPointer<Int32>) -> Int {
        sharedTerms(example: example, query: query).filter {
            !$0.utf8.contains(UInt8(ascii: " ")) && !Matcher.functionStems.contains($0) && !Matcher.questionShapeStems.contains($0)
        }.count
    }

    /// The features an example shares with the message, in the order they appear in the example.
    /// - Parameter query: the message's feature ids, sorted and distinct.
    func sharedTerms(example: Int, query: UnsafeBufferPointer<Int32>) -> [String] {
        var shared: [(order: Int32, feature: Int32)] = []
        var t = Int(termStart[example]), q = 0
        let end = Int(termStart[example + 1])
        while t < end && q < query.count {  // both sorted: one merge
            let feature = termFeature[t]
            if feature < query[q] {
                t += 1
            } else if feature > query[q] {
                q += 1
            } else {
                shared.append((termOrder[t], feature))
                t += 1
                q += 1
            }
        }
        shared.sort { $0.order < $1.order }
        return shared.map { featureNames[Int($0.feature)] }
    }
}
