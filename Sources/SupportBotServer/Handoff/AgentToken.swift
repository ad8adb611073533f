import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SupportBotCore
import SupportBotStore

/// Agent tokens: long random strings shown once; only their SHA-256 is stored.
public enum AgentToken {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return "sbt_" + String((0..<40).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    public static func hash(_ token: String) -> String {
        SHA256.hex(token.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
