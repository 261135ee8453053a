public import Foundation
import YagnaAPI

/// Where a VPN TCP tunnel (`GET /net-api/v1/net/{id}/tcp/{ip}/{port}`, or the v2 root) leads:
/// the activity deployed at that address and the service its provider runs on that port. No
/// service (nothing listens, or the activity is not running) means the WebSocket opens and
/// closes at once, as the daemon's does when the TCP connection inside the network fails.
public struct TunnelTarget: Sendable, Hashable {
    public var activityId: String
    public var service: TunnelService?
    /// Why nothing answers, when no service does (for the node's log: the journal shows only
    /// the WebSocket's opening).
    public var nothingListens: String?
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
        let spec = providers[provider].spec
        guard let running else {
            return TunnelTarget(activityId: "", service: nil, nothingListens: "no activity of \(spec.name) is running at \(p[3]) (deploy it in the network first)")
        }
        guard let service = spec.services.first(where: { $0.port == Int(port) }) else {
            let declared = spec.services.map { String($0.port) }.joined(separator: ", ")
            return TunnelTarget(
                activityId: running.id, service: nil,
                nothingListens: "nothing listens on port \(port) of \(spec.name) at \(p[3]): the scenario declares \(declared.isEmpty ? "no services" : "services on port(s) \(declared)") (add one under the provider's 'services:')")
        }
        return TunnelTarget(activityId: running.id, service: service)
    }

    /// The HTTP answer of a tunnel's service to one request, from its routes or the activity's
    /// files at `now`.
    public mutating func tunnelAnswer(_ request: TunnelHTTPRequest, _ target: TunnelTarget, now: Date) -> [UInt8] {
        guard let service = target.service else { return TunnelHTTPRequest.response(502, "text/plain", Array("no service\n".utf8), head: false) }
        let head = request.method == "HEAD"
        let path = String(request.target.prefix { $0 != "?" && $0 != "#" })
        for route in service.routes where route.method == nil || route.method == request.method || (head && route.method == "GET") {
            guard let values = route.match(path) else { continue }
            return routeAnswer(route, values, request, target, now: now, head: head)
        }
        if let root = service.filesRoot, ["GET", "HEAD"].contains(request.method), let activity = activities[target.activityId] {
            let decoded = path.removingPercentEncoding ?? path
            var file = ActivityPath.normalise(root + "/" + decoded)
            if decoded.hasSuffix("/") || file == root { file += file.hasSuffix("/") ? "index.html" : "/index.html" }
            if file.hasPrefix(root + "/"), let bytes = activity.content(of: file, at: now) {
                return TunnelHTTPRequest.response(200, TunnelHTTPRequest.mediaType(file), bytes, head: head)
            }
        }
        return TunnelHTTPRequest.notFound(head: head)
    }

    /// One route's answer: what it stores first (a line, uploaded files), then its body or file.
    mutating func routeAnswer(_ route: HTTPRoute, _ values: [String: String], _ request: TunnelHTTPRequest, _ target: TunnelTarget, now: Date, head: Bool) -> [UInt8] {
        guard var activity = activities[target.activityId] else { return TunnelHTTPRequest.notFound(head: head) }
        if let file = route.save {
            var line = request.body
            if let field = route.saveField { line = Array((request.formField(field) ?? "").utf8) }
            activity.files[file] = (activity.files[file] ?? []) + line + [10]
        }
        if let dir = route.upload {
            let uploads = request.multipartFiles().filter { route.saveField == nil || $0.field == route.saveField }
            guard !uploads.isEmpty else {
                return TunnelHTTPRequest.response(400, "text/plain", Array("no file in the upload (a multipart/form-data body with a filename)\n".utf8), head: head)
            }
            for upload in uploads { activity.files[dir + "/" + upload.name] = upload.bytes }
        }
        activities[target.activityId] = activity
        let template = Template(now: now, provider: providers[activity.provider].spec.name, activityId: activity.id, values: values,
                                read: { activity.content(of: ActivityPath.normalise($0), at: now) },
                                list: { activity.files(in: $0) })
        let headers = route.headers.mapValues { template.expand($0) }
        if let file = route.file {
            let path = ActivityPath.normalise(template.expand(file))
            guard let bytes = activity.content(of: path, at: now) else { return TunnelHTTPRequest.notFound(head: head) }
            let type = route.contentTypeGiven ? route.contentType : TunnelHTTPRequest.mediaType(path)
            return TunnelHTTPRequest.response(route.status, type, bytes, head: head, extra: headers)
        }
        let body = route.bodyIsTemplate ? Array(template.expand(String(decoding: route.body, as: UTF8.self)).utf8) : route.body
        return TunnelHTTPRequest.response(route.status, route.contentType, body, head: head, extra: headers)
    }
}

extension ActivityRecord {
    /// A file's bytes at `now`: what a background loop last wrote, or what is stored.
    func content(of file: String, at now: Date) -> [UInt8]? {
        periodic[file].map { Array($0.content(at: now).utf8) } ?? files[file]
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

    static func notFound(head: Bool) -> [UInt8] {
        response(404, "text/html", Array("<html><body><h1>404 Not Found</h1></body></html>\n".utf8), head: head)
    }

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }

    /// A form field of the body: `multipart/form-data` (a part without a file name) or
    /// `application/x-www-form-urlencoded`.
    func formField(_ name: String) -> String? {
        if let boundary = multipartBoundary {
            return Self.parts(of: body, boundary: boundary).first { $0.field == name && $0.filename == nil }
                .map { String(decoding: $0.bytes, as: UTF8.self) }
        }
        return Self.formField(name, in: body)
    }

    /// The files of a `multipart/form-data` body: the form field, a safe file name (as
    /// werkzeug's `secure_filename` makes it) and the bytes. Parts without a file name, or whose
    /// name is nothing once made safe, are left out.
    func multipartFiles() -> [(field: String, name: String, bytes: [UInt8])] {
        guard let boundary = multipartBoundary else { return [] }
        return Self.parts(of: body, boundary: boundary).compactMap { part in
            guard let filename = part.filename, let safe = Self.safeFileName(filename) else { return nil }
            return (part.field, safe, part.bytes)
        }
    }

    var multipartBoundary: String? {
        guard let type = header("content-type"), type.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in type.split(separator: ";").dropFirst() {
            let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == "boundary" {
                let value = kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") && kv[1].count >= 2 ? String(kv[1].dropFirst().dropLast()) : kv[1]
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    /// The parts of a multipart body: each part's form field, file name (if any) and bytes.
    /// A body that does not follow the format yields the parts read before the fault.
    static func parts(of body: [UInt8], boundary: String) -> [(field: String, filename: String?, bytes: [UInt8])] {
        let delimiter = Array(("--" + boundary).utf8)
        var out: [(field: String, filename: String?, bytes: [UInt8])] = []
        guard var at = find(delimiter, in: body, from: 0) else { return [] }
        while true {
            at += delimiter.count
            // "--" after the delimiter closes the body.
            if at + 1 < body.count, body[at] == 45, body[at + 1] == 45 { break }
            guard at + 1 < body.count, body[at] == 13, body[at + 1] == 10 else { break }
            let headStart = at + 2
            guard let headEnd = find([13, 10, 13, 10], in: body, from: headStart) else { break }
            // The delimiter ends a part only where it is followed by "--", a line break or
            // padding; anything else is content that happens to start like it.
            var search = headEnd + 4
            var found: Int?
            while let candidate = find([13, 10] + delimiter, in: body, from: search) {
                let after = candidate + 2 + delimiter.count
                let closing = after + 1 < body.count && body[after] == 45 && body[after + 1] == 45
                if after >= body.count || closing || body[after] == 13 || body[after] == 32 || body[after] == 9 {
                    found = candidate
                    break
                }
                search = candidate + 1
            }
            guard let next = found else { break }
            let head = String(decoding: body[headStart..<headEnd], as: UTF8.self)
            var field = ""
            var filename: String?
            for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                field = dispositionParameter("name", in: line) ?? ""
                filename = dispositionParameter("filename", in: line)
            }
            out.append((field, filename, Array(body[(headEnd + 4)..<next])))
            at = next + 2
        }
        return out
    }

    /// `name="value"` (or unquoted) in a `Content-Disposition` line.
    static func dispositionParameter(_ name: String, in line: String) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].lowercased() == name else { continue }
            return kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") && kv[1].count >= 2 ? String(kv[1].dropFirst().dropLast()) : kv[1]
        }
        return nil
    }

    static func safeFileName(_ name: String) -> String? {
        // As werkzeug's secure_filename: accents folded to ASCII, `/` a separator like a space,
        // whitespace runs joined by `_`, anything but letters, digits, `_`, `.`, `-` dropped,
        // leading and trailing `.` and `_` stripped.
        let folded = name.folding(options: [.diacriticInsensitive, .widthInsensitive], locale: nil).replacingOccurrences(of: "/", with: " ")
        let joined = folded.split(whereSeparator: \.isWhitespace).joined(separator: "_")
        let kept = joined.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }
        let trimmed = String(kept.drop { $0 == "." || $0 == "_" }.reversed().drop { $0 == "." || $0 == "_" }.reversed())
        return trimmed.isEmpty ? nil : trimmed
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
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
    static func blankLine(in bytes: [UInt8]) -> Int? { TunnelHTTPRequest.find([13, 10, 13, 10], in: bytes, from: 0) }

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
