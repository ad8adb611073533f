import Foundation
import NIOHTTP1
import SupportBotCore
import SupportBotStore

/// The files the web listener serves. They live in `Sources/SupportBotServer/Web/` and are compiled into the
/// binary (SwiftPM `embedInCode`), so `supportbot` stays one file to copy.
struct WebAsset: Sendable {
    let contentType: String
    let bytes: [UInt8]
    /// A strong validator, so browsers can revalidate cheaply (`Cache-Control: no-cache`) and always get the
    /// widget that matches the server.
    let etag: String
    /// Only the widget's files are meant to be loaded by other sites' pages.
    let crossOrigin: Bool
    let isPage: Bool

    init(_ contentType: String, _ bytes: [UInt8], crossOrigin: Bool = false, isPage: Bool = false) {
        self.contentType = contentType
        self.bytes = bytes
        self.etag = "\"" + String(SHA256.hex(bytes).prefix(32)) + "\""
        self.crossOrigin = crossOrigin
        self.isPage = isPage
    }

    static let all: [String: WebAsset] = [
        "/": WebAsset("text/html; charset=utf-8", PackageResources.index_html, isPage: true),
        "/demo.css": WebAsset("text/css; charset=utf-8", PackageResources.demo_css),
        "/widget.js": WebAsset("text/javascript; charset=utf-8", PackageResources.widget_js, crossOrigin: true),
        "/widget.css": WebAsset("text/css; charset=utf-8", PackageResources.widget_css, crossOrigin: true),
        "/agent": WebAsset("text/html; charset=utf-8", PackageResources.agent_html, isPage: true),
        "/agent.js": WebAsset("text/javascript; charset=utf-8", PackageResources.agent_js),
        "/agent.css": WebAsset("text/css; charset=utf-8", PackageResources.agent_css),
    ]
}

/// One HTTP answer.
struct WebResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]

    /// The response head: one response per connection, so it always closes.
    func head(version: HTTPVersion) -> HTTPResponseHead {
        var headers = headers
        headers.replaceOrAdd(name: "Connection", value: "close")
        if status != .noContent && status != .notModified {
            headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }

    static func text(_ status: HTTPResponseStatus, _ message: String) -> WebResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        return WebResponse(status: status, headers: headers, body: Array((message + "\n").utf8))
    }
}

/// Routes a request to a page, a file, the health check, or a plain-English error.
struct WebSite: Sendable {
    let engine: LiveEngine
    /// For the health check: whether the store can write.
    var database: SupportBotDatabase? = nil
    let chat: LineConnections
    let agentConsole: Bool
    let originPolicy: OriginPolicy

    /// Pages may load only the server's own files and talk only to the server.
    static let pagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

    static func path(of uri: String) -> String {
        let end = uri.firstIndex { $0 == "?" || $0 == "#" } ?? uri.endIndex
        let path = String(uri[..<end])
        return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    func respond(to head: HTTPRequestHead) -> WebResponse {
        let path = Self.path(of: head.uri)
        guard head.method == .GET || head.method == .HEAD else {
            var response = WebResponse.text(.methodNotAllowed, "Only GET and HEAD work here.")
            response.headers.add(name: "Allow", value: "GET, HEAD")
            return response
        }
        if head.headers.first(name: "upgrade")?.lowercased() == "websocket" {
            return refusedWebSocket(head, path: path)
        }
        switch path {
        case "/healthz":
            return health()
        case "/chat":
            return .text(.upgradeRequired, "This address is the chat's WebSocket. Open it from the chat widget, "
                + "or put the widget on a page with <script src=\"/widget.js\"></script>.")
        case "/agent" where !agentConsole:
            return .text(.notFound, "The agent console is off because this server has no agent port.")
        case "/favicon.ico":
            return WebResponse(status: .noContent, headers: HTTPHeaders(), body: [])
        default:
            guard let asset = WebAsset.all[path] else {
                return .text(.notFound, "Nothing here. Try / for the demo shop, or /agent for the agent console.")
            }
            return serve(asset, head: head)
        }
    }

    /// A WebSocket request that was not upgraded: the wrong origin, the wrong address, or a broken handshake.
    private func refusedWebSocket(_ head: HTTPRequestHead, path: String) -> WebResponse {
        guard path == "/chat" || (path == "/agent" && agentConsole) else {
            return .text(.notFound, "There is no WebSocket here. Use /chat for customers or /agent for agents.")
        }
        guard originPolicy.allows(head, route: path == "/agent" ? .agent : .chat) else {
            let origin = head.headers.first(name: "origin") ?? ""
            return .text(.forbidden, "Pages from \(origin) may not open the chat. "
                + "To allow them, start the server with --allowed-origin \(origin)")
        }
        return .text(.badRequest, "That WebSocket request is not complete. It needs the headers "
            + "Connection: Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version: 13.")
    }

    private func serve(_ asset: WebAsset, head: HTTPRequestHead) -> WebResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: asset.contentType)
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "ETag", value: asset.etag)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        if asset.isPage {
            headers.add(name: "Content-Security-Policy", value: Self.pagePolicy)
            headers.add(name: "X-Frame-Options", value: "SAMEORIGIN")
        }
        if asset.crossOrigin { headers.add(name: "Cross-Origin-Resource-Policy", value: "cross-origin") }
        if head.headers["if-none-match"].contains(where: { $0.split(separator: ",").contains {
            $0.trimmingCharacters(in: .whitespaces) == asset.etag } }) {
            return WebResponse(status: .notModified, headers: headers, body: [])
        }
        return WebResponse(status: .ok, headers: headers, body: asset.bytes)
    }

    /// 200 and `"status":"ok"` while the server can answer and store; 503 and `"status":"failing"` with the reason
    /// when the latest write to the store failed and none has succeeded since (a full disk, say): chats are then
    /// answered but not stored, which a load balancer or a monitor should hear about.
    private func health() -> WebResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Cache-Control", value: "no-store")
        var fields: [(String, JSONValue)] = [("status", .string("ok"))]
        var status = HTTPResponseStatus.ok
        if let failure = database?.writeFailure {
            status = .serviceUnavailable
            fields = [("status", .string("failing")),
                      ("reason", .string("The database can't be written: \(PIIMasker.mask(failure.reason))")),
                      ("since", .string(ISO8601DateFormatter().string(from: failure.at)))]
        }
        fields += [("kb_version", .int(engine.engine.version)), ("chats", .int(chat.active))]
        var body: [UInt8] = []
        JSONValue.object(fields).write(into: &body)
        return WebResponse(status: status, headers: headers, body: body)
    }
}
