public import Foundation
import YagnaAPI

/// Where a VPN TCP tunnel (`GET /net-api/v1/net/{id}/tcp/{ip}/{port}`, or the v2 root) leads:
/// the activity deployed at that address and the service its provider runs on that port. No
/// service (nothing listens, or the activity is not running) means the WebSocket opens and
/// closes at once, as the daemon's does when the TCP connection inside the network fails.
public struct TunnelTarget: Sendable, Hashable {
    public var activityId: String
    public var service: TunnelService?
}

extension NodeCore {
    /// The tunnel a request asks for, when it is one the daemon would open; `nil` for anything
    /// else (another path, no app key, an unknown network or address), which the ordinary
    /// request path then answers as the daemon does.
    public func tunnelTarget(_ request: NodeRequest) -> TunnelTarget? {
        guard request.method == .GET, authorized(request) else { return nil }
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let rest: ArraySlice<String>
        if parts.count == 8, parts[1] == "net-api", parts[2] == "v1" { rest = parts[3...] }
        else if parts.count == 9, parts[1] == "net-api", parts[2] == "v2", parts[3] == "vpn" { rest = parts[4...] }
        else { return nil }
        let p = Array(rest)
        guard p[0] == "net", p[2] == "tcp", let port = UInt16(p[4]), port > 0, case .success(let network) = netState.owned(p[1]),
            let nodeId = network.nodes[p[3]]
        else { return nil }
        guard let provider = providers.firstIndex(where: { $0.id == nodeId }) else { return nil }
        let running = activities.values.filter {
            $0.provider == provider && $0.destroyed == nil && $0.networkAddresses.contains(p[3]) && $0.state == .ready
        }.max { ($0.created, $0.id) < ($1.created, $1.id) }
        guard let running else { return TunnelTarget(activityId: "", service: nil) }
        return TunnelTarget(activityId: running.id, service: providers[provider].spec.services.first { $0.port == Int(port) })
    }

    /// The HTTP answer of a tunnel's service to one request, from its routes or the activity's
    /// files at `now`.
    public mutating func tunnelAnswer(_ request: TunnelHTTPRequest, _ target: TunnelTarget, now: Date) -> [UInt8] {
        guard let service = target.service else { return TunnelHTTPRequest.response(502, "text/plain", Array("no service\n".utf8), head: false) }
        let head = request.method == "HEAD"
        let path = String(request.target.prefix { $0 != "?" && $0 != "#" })
        if let route = service.routes.first(where: { $0.path == path && ($0.method == nil || $0.method == request.method || (head && $0.method == "GET")) }) {
            if let file = route.save, var activity = activities[target.activityId] {
                var line = request.body
                if let field = route.saveField {
                    line = Array((TunnelHTTPRequest.formField(field, in: request.body) ?? "").utf8)
                }
                activity.files[file] = (activity.files[file] ?? []) + line + [10]
                activities[target.activityId] = activity
            }
            var body = route.body
            if route.bodyIsTemplate, let activity = activities[target.activityId] {
                let provider = providers[activity.provider].spec.name
                let template = Template(now: now, provider: provider, activityId: activity.id) { name in
                    let file = ActivityPath.normalise(name)
                    return activity.periodic[file].map { Array($0.content(at: now).utf8) } ?? activity.files[file]
                }
                body = Array(template.expand(String(decoding: route.body, as: UTF8.self)).utf8)
            }
            return TunnelHTTPRequest.response(route.status, route.contentType, body, head: head, extra: route.headers)
        }
        if let root = service.filesRoot, ["GET", "HEAD"].contains(request.method), let activity = activities[target.activityId] {
            let decoded = path.removingPercentEncoding ?? path
            var file = ActivityPath.normalise(root + "/" + decoded)
            if decoded.hasSuffix("/") || file == root { file += file.hasSuffix("/") ? "index.html" : "/index.html" }
            if file.hasPrefix(root + "/") {
                let bytes = activity.periodic[file].map { Array($0.content(at: now).utf8) } ?? activity.files[file]
                if let bytes { return TunnelHTTPRequest.response(200, TunnelHTTPRequest.mediaType(file), bytes, head: head) }
            }
        }
        return TunnelHTTPRequest.response(404, "text/html", Array("<html><body><h1>404 Not Found</h1></body></html>\n".utf8), head: head)
    }
}

/// One HTTP/1.x request read from a tunnel's bytes.
public struct TunnelHTTPRequest: Sendable, Hashable {
    public var method: String
    public var target: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The client asked to close after the answer (`Connection: close`, or HTTP/1.0 without keep-alive).
    public var closes: Bool

    public static func == (a: TunnelHTTPRequest, b: TunnelHTTPRequest) -> Bool {
        a.method == b.method && a.target == b.target && a.body == b.body && a.closes == b.closes
            && a.headers.map { $0.0 + ":" + $0.1 } == b.headers.map { $0.0 + ":" + $0.1 }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(target)
    }

    static let reasons = [200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 400: "Bad Request",
                          401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 502: "Bad Gateway"]

    static func response(_ status: Int, _ type: String, _ body: [UInt8], head: Bool, extra: [String: String] = [:]) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(reasons[status] ?? "Status")\r\nServer: golem-sim\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { text += "\(k): \(v)\r\n" }
        return Array((text + "\r\n").utf8) + (head ? [] : body)
    }

    /// A field of an `application/x-www-form-urlencoded` body, decoded (`+` is a space).
    static func formField(_ name: String, in body: [UInt8]) -> String? {
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            if parts.count == 2, decode(parts[0]) == name { return decode(parts[1]) }
        }
        return nil
    }

    static func mediaType(_ path: String) -> String {
        switch path.split(separator: ".").last?.lowercased() {
        case "html", "htm": "text/html"
        case "css": "text/css"
        case "js": "application/javascript"
        case "json": "application/json"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "txt", "log": "text/plain"
        default: "application/octet-stream"
        }
    }
}

/// A tunnel connection's byte stream as the service on the provider sees it, without I/O:
/// bytes in, what to send back out. HTTP services parse requests (pipelined, with
/// `Content-Length` bodies) for the node to answer; echo and banner services answer themselves.
public struct TunnelConnection: Sendable {
    public enum Event: Sendable, Hashable {
        /// Send these bytes to the client.
        case send([UInt8])
        /// A complete HTTP request for the node to answer.
        case request(TunnelHTTPRequest)
        /// Close the connection (after what came before).
        case close
    }

    let service: TunnelService?
    var buffer: [UInt8] = []
    /// Requests larger than this are refused (413-like 400) and the connection closes.
    static let maxRequest = 64 << 20

    public init(service: TunnelService?) { self.service = service }

    /// What happens as the connection opens: a banner, or a close when nothing listens.
    public func opening() -> [Event] {
        guard let service else { return [.close] }
        if let banner = service.banner { return [.send(Array(banner.utf8))] }
        return []
    }

    public mutating func receive(_ bytes: [UInt8]) -> [Event] {
        guard let service else { return [.close] }
        if service.echo { return bytes.isEmpty ? [] : [.send(bytes)] }
        guard service.isHTTP else { return [] }
        buffer += bytes
        var events: [Event] = []
        while let request = nextRequest() {
            switch request {
            case .failure:
                buffer.removeAll()
                return events + [.send(TunnelHTTPRequest.response(400, "text/plain", Array("bad request\n".utf8), head: false)), .close]
            case .success(let r):
                events.append(.request(r))
                if r.closes { return events + [.close] }
            }
        }
        if buffer.count > Self.maxRequest {
            buffer.removeAll()
            return events + [.send(TunnelHTTPRequest.response(400, "text/plain", Array("request too large\n".utf8), head: false)), .close]
        }
        return events
    }

    struct Malformed: Error {}

    /// The next complete request in the buffer (removed from it), `nil` while incomplete.
    mutating func nextRequest() -> Result<TunnelHTTPRequest, Malformed>? {
        guard let end = headerEnd() else { return nil }
        let headText = String(decoding: buffer[..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { return .failure(Malformed()) }
        var headers: [(String, String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .failure(Malformed()) }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        var length = 0
        if let value = header("content-length") {
            guard let n = Int(value), n >= 0 else { return .failure(Malformed()) }
            length = n
        }
        if header("transfer-encoding")?.lowercased().contains("chunked") == true { return .failure(Malformed()) }
        let bodyStart = end + 4
        guard buffer.count >= bodyStart + length else { return nil }
        let body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        let connection = header("connection")?.lowercased()
        let closes = connection == "close" || (requestLine[2] == "HTTP/1.0" && connection != "keep-alive")
        return .success(TunnelHTTPRequest(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body, closes: closes))
    }

    func headerEnd() -> Int? { Self.blankLine(in: buffer) }

    /// Where the first CRLF CRLF (the end of an HTTP head) starts in `bytes`, if anywhere.
    static func blankLine(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }

    /// An HTTP response as a server's TCP writes would carry it through the tunnel: the head
    /// (status line and headers, up to the blank line) on its own, then the body in pieces of at
    /// most `maxFrame` bytes. (One message for everything made yapapi 0.13.1's tunnel proxy stall
    /// on a body that holds a blank line of its own: it reads only the first piece after the head.)
    public static func frames(_ response: [UInt8], maxFrame: Int = 64 << 10) -> [[UInt8]] {
        let end = blankLine(in: response).map { $0 + 4 } ?? response.count
        var out = [Array(response[..<end])]
        var at = end
        while at < response.count {
            let next = min(at + max(1, maxFrame), response.count)
            out.append(Array(response[at..<next]))
            at = next
        }
        return out.filter { !$0.isEmpty }
    }
}
