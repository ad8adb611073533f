/// Everything an operator can tune about the chat listener. Defaults suit a small shop on one machine.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (tests); read the real one from `ChatServer.port`.
    public var port: Int = 7700
    /// Longest accepted line in bytes, not counting the newline.
    public var maxLineBytes: Int = 4096
    public var maxConnections: Int = 10_000
    /// Most connections at once from one client address, on each port (customer and agent ones count TCP and
    /// WebSocket together; the web listener counts its plain-HTTP stage). 0: no limit (behind a proxy every client
    /// has the proxy's address).
    public var maxConnectionsPerAddress: Int = 256
    /// Messages a connection may send in a burst…
    public var rateBurst: Int = 20
    /// …and per second after that.
    public var ratePerSecond: Double = 5
    /// A connection that sends nothing for this long is closed with `idle_timeout`.
    public var idleTimeoutSeconds: Int64 = 600
    /// How many earlier messages a resumed session gets back in its welcome.
    public var resumeHistory: Int = 20
    /// Agent port (0 picks a free one; read the real one from `AgentServer.port`).
    public var agentPort: Int = 7701
    /// Agents' consoles may sit quietly for long stretches…
    public var agentIdleTimeoutSeconds: Int64 = 8 * 3600
    /// …but only once logged in: a connection to the agent port (or `/agent`) that has not logged in this long after
    /// it opened is closed with `login_timeout`.
    public var agentLoginDeadlineSeconds: Int64 = 10
    /// Most agent connections at once (TCP and `/agent` together). When full, a new connection takes the place of the
    /// oldest one that has not logged in yet, so connections that never log in can't lock agents out.
    public var maxAgentConnections: Int = 1_000
    /// Commands an agent connection may send in a burst, and per second after that (`rate_limited` beyond).
    public var agentRateBurst: Int = 50
    public var agentRatePerSecond: Double = 20
    /// Wrong agent tokens one client address may send in a row, and then one more per this many seconds; beyond
    /// that its logins are refused with `login_slowed` (whatever the token) until it waits.
    public var agentLoginFailuresAllowed: Int = 10
    public var agentLoginRetrySeconds: Double = 6

    /// Web listener for browsers: the widget, the demo page, the agent console and their WebSockets
    /// (0 picks a free one; read the real one from `WebServer.port`).
    public var httpPort: Int = 7780
    /// Origins (like `https://shop.example`) whose pages may open the WebSockets, besides the server's own pages;
    /// `*` allows any.
    public var allowedOrigins: [String] = []
    /// Seconds a web connection may stay plain HTTP (its request and answer, or the WebSocket handshake).
    public var webRequestDeadlineSeconds: Int64 = 10
    /// Most web connections at once that are not (yet) WebSockets; more are closed at once.
    public var maxPlainWebConnections: Int = 1_000

    public init() {}
}
