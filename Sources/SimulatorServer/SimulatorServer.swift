public import Hummingbird
public import YagnaSimulator
import YagnaAPI
import NIOCore
public import Logging
import HTTPTypes

/// The simulator's HTTP front end: every request goes to the same `SimulatedNode` handlers the
/// in-process transport uses, with yagna's status codes and bodies.
public enum SimulatorServer {
    /// Serves `node` on `host:port` (port 0 picks a free one) until cancelled or sent
    /// SIGINT/SIGTERM. `onListening` gets the real port once the server accepts connections.
    public static func run(
        node: SimulatedNode, host: String = "127.0.0.1", port: Int = 7465, logger: Logger = Logger(label: "golem-sim"),
        handleSignals: Bool = true, onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let app = application(node: node, host: host, port: port, logger: logger, onListening: onListening)
        if handleSignals { try await app.runService() } else { try await app.runService(gracefulShutdownSignals: []) }
    }

    /// The Hummingbird application serving `node`.
    public static func application(
        node: SimulatedNode, host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await respond(node: node, request: request) },
            configuration: .init(address: .hostname(host, port: port), serverName: "golem-sim"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    struct DropConnection: Error {}

    static func respond(node: SimulatedNode, request: Request) async throws -> Response {
        var request = request
        let body = Array(buffer: try await request.collectBody(upTo: 64 << 20))
        guard let method = HTTPMethod(rawValue: request.method.rawValue) else {
            return text(405, #"{"message":"method not allowed"}"#, type: "application/json")
        }
        let query = request.uri.query.map { QueryItem.parse(Substring($0)) } ?? []
        var headers = request.headers.map { Header($0.name.rawName, $0.value) }
        if let authority = request.head.authority { headers.append(Header("Host", authority)) }
        let nodeRequest = NodeRequest(method: method, path: request.uri.path, query: query, headers: headers, body: body)
        switch await node.handle(nodeRequest) {
        case .response(let r):
            var fields = HTTPFields()
            for h in r.headers { if let name = HTTPField.Name(h.name) { fields.append(HTTPField(name: name, value: h.value)) } }
            if r.status == 204 { return Response(status: .noContent, headers: fields) }
            return Response(status: .init(code: r.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: r.body)))
        case .drop:
            return Response(status: .ok, body: ResponseBody { _ in throw DropConnection() })
        case .stream(let frames):
            var fields = HTTPFields()
            fields[.contentType] = "text/event-stream"
            fields[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: fields, body: ResponseBody { writer in
                for try await frame in frames { try await writer.write(ByteBuffer(string: frame.wireText)) }
                try await writer.finish(nil)
            })
        }
    }

    static func text(_ status: Int, _ body: String, type: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = type
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
