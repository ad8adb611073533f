import ArgumentParser
import Foundation
import SupportBotCore

struct ReadabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readability",
        abstract: "Print the Flesch-Kincaid grade, words, sentences and syllables of a text (as textstat 0.7.3 counts them).",
        discussion: """
            supportbot readability draft.md
            echo "Your refund is on its way." | supportbot readability -
            Aim for grade 6 or lower. The hardest sentences are listed first.
            """)

    @Argument(help: "A text file, or - for standard input.")
    var file: String = "-"

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let content = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw UserFacingError("Can't read \(file). Pass a UTF-8 text file, or - to read standard input.")
            }
            text = content
        }
        let whole = Readability(text)
        let hardest = Readability.sentences(of: text)
            .map { ($0.trimmingCharacters(in: .whitespacesAndNewlines), Readability($0)) }
            .filter { $0.1.words > 2 }
            .sorted { $0.1.grade > $1.1.grade }
        if json {
            let object: [String: Any] = [
                "grade": whole.grade, "words": whole.words, "sentences": whole.sentences, "syllables": whole.syllables,
                "hardest": hardest.prefix(3).map { ["sentence": $0.0, "grade": $0.1.grade] },
            ]
            try JSONOutput.print(object)
            return
        }
        print(String(format: "grade %.1f  (%d words, %d sentences, %d syllables)", whole.grade, whole.words,
                     whole.sentences, whole.syllables))
        for (sentence, reading) in hardest.prefix(3) where reading.grade > 6 {
            print(String(format: "  grade %.1f: \"%@\"", reading.grade, sentence))
        }
    }
}
