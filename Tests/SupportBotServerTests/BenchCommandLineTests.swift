import Foundation
import Testing

/// The benchmarks run end to end (tiny loads, debug build): the figures are not checked, only that they are there.
@Suite("supportbot bench", .timeLimit(.minutes(10)))
struct BenchCommandLineTests {
    private func json(_ arguments: [String]) async throws -> [String: Any] {
        let folder = try TemporaryDirectory()
        let result = try await SupportBotCLI.run(arguments + ["--json"], folder: folder)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                            "not JSON: \(result.stdout)")
    }

    @Test("bench match reports build time, percentiles and memory for the demo knowledge base")
    func match() async throws {
        let object = try await json(["bench", "match", "--passes", "2"])
        for key in ["build_ms", "match_p50_us", "match_p99_us", "match_max_us", "engine_rss_mib", "messages"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let p50 = try #require(object["match_p50_us"] as? Double)
        let p99 = try #require(object["match_p99_us"] as? Double)
        #expect(p50 > 0 && p50 <= p99)
    }

    @Test("bench abuse floods a real server and still serves a customer and an agent")
    func abuse() async throws {
        let object = try await json(["bench", "abuse", "--seconds", "1", "--keep", "40"])
        #expect((object["flood_connections"] as? Int ?? 0) > 40)
        #expect(object["not_served"] as? Int == 0)
        for key in ["customer_ms", "agent_ms"] {
            let summary = try #require(object[key] as? [String: Any], "missing \(key)")
            #expect((summary["max"] as? Double ?? 0) > 0, "\(key): \(summary)")
        }
        #expect(object["target_met"] is Bool)
    }

    @Test("bench server drives the real server and the echo server and loses nothing")
    func server() async throws {
        let object = try await json(["bench", "server", "--connections", "4", "--messages", "400", "--swap-every-ms", "50"])
        #expect(object["lost"] as? Int == 0)
        #expect(object["failed"] as? Int == 0)
        #expect((object["swaps"] as? Int ?? 0) >= 1, "the engine was never swapped during the run")
        #expect(object["stored"] as? Int == 800)
        for key in ["bot_msgs_per_s", "echo_msgs_per_s", "throughput_ratio", "bot_p99_ms", "echo_cpu_us_per_msg",
                    "bot_cpu_us_per_msg", "engine_cpu_us_per_reply", "store_cpu_us_per_exchange"] {
            #expect((object[key] as? Double ?? 0) > 0, "missing or zero \(key)")
        }
        let bound = try #require(object["ratio_bound"] as? Double)
        #expect(bound > 0 && bound < 1)
    }

    @Test("bench idle opens connections to a child server and reports memory per connection")
    func idle() async throws {
        let object = try await json(["bench", "idle", "--connections", "20"])
        #expect(object["connections"] as? Int == 20)
        #expect(object["idle_kib_per_connection"] != nil)
    }
}
