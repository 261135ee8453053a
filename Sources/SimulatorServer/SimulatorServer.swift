public import Hummingbird
public import YagnaSimulator
import Foundation
import YagnaAPI
import NIOCore
public import Logging
import HTTPTypes
import HummingbirdWebSocket

/// The simulator's HTTP front end: every request goes to the same `SimulatedNode` handlers the
/// in-process transport uses, with yagna's status codes and bodies.
public enum SimulatorServer {
    /// Serves `node` on `host:port` (port 0 picks a free one) until cancelled or sent
    /// SIGINT/SIGTERM, then stops gracefully (`StoppingServers`). `onListening` gets the real
    /// port once the server accepts connections.
    public static func run(
        node: SimulatedNode, host: String = "127.0.0.1", port: Int = 7465, logger: Logger = Logger(label: "golem-sim"),
        handleSignals: Bool = true, onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let app = application(node: node, host: host, port: port, logger: logger, onListening: onListening)
        try await StoppingServers.run(app, handleSignals: handleSignals, logger: logger)
    }

    /// The Hummingbird application serving `node`.
    public static func application(
        node: SimulatedNode, host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await respond(node: node, request: request) },
            server: .http1WebSocketUpgrade(configuration: .init(maxFrameSize: 1 << 20)) { head, _, _ in
                guard let tunnel = await tunnel(node: node, head: head) else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in try await serveTunnel(node: node, tunnel, inbound: inbound, outbound: outbound) }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "golem-sim"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// The tunnel an upgrade request opens, if the node opens one; otherwise the request is
    /// served as an ordinary one (and answered as the daemon answers it).
    static func tunnel(node: SimulatedNode, head: HTTPRequest) async -> TunnelTarget? {
        guard let method = HTTPMethod(rawValue: head.method.rawValue), let target = head.path else { return nil }
        let path = String(target.prefix { $0 != "?" })
        let query = target.firstIndex(of: "?").map { QueryItem.parse(target[target.index(after: $0)...]) } ?? []
        let headers = head.headerFields.map { Header($0.name.rawName, $0.value) }
        return node.openTunnel(NodeRequest(method: method, path: path, query: query, headers: headers, body: []))
    }

    /// Carries a tunnel's bytes: binary messages in, the provider's service's bytes out.
    static func serveTunnel(node: SimulatedNode, _ target: TunnelTarget, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        if let why = target.nothingListens {
            FileHandle.standardError.write(Data("golem-sim: a tunnel opened and closed at once: \(why)\n".utf8))
        }
        var connection = TunnelConnection(service: target.service)
        func perform(_ events: [TunnelConnection.Event]) async throws -> Bool {
            for event in events {
                switch event {
                case .send(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                case .request(let request):
                    let answer = node.tunnelAnswer(request, target)
                    for frame in TunnelConnection.frames(answer) { try await outbound.write(.binary(ByteBuffer(bytes: frame))) }
                case .close: return false
                }
            }
            return true
        }
        guard try await perform(connection.opening()) else { return }
        for try await message in inbound.messages(maxSize: 64 << 20) {
            let bytes: [UInt8]
            switch message {
            case .binary(let buffer): bytes = Array(buffer: buffer)
            case .text(let text): bytes = Array(text.utf8)
            }
            guard try await perform(connection.receive(bytes)) else { return }
        }
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
