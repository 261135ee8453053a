public import Foundation

/// Which yagna API a request goes to; each has its own base URL.
public enum YagnaService: String, Sendable, Hashable, CaseIterable {
    /// The API root (`/me`, `/version/get`).
    case root
    case market
    case activity
    case payment
    case net
    /// The image registry (`GOLEM_REGISTRY_URL`); requests to it carry no app key.
    case registry
}

/// An HTTP method.
public enum HTTPMethod: String, Sendable, Hashable {
    case GET, POST, PUT, DELETE, HEAD
}

/// One request to the daemon, independent of how it travels.
///
/// `path` is relative to the service's base (`/demands/{id}/events` for the market API).
public struct YagnaRequest: Sendable, Hashable {
    /// The operation's name for errors and logs (`market.collectDemandEvents`): the catalog's
    /// name of what the request is (`OperationCatalog`). An in-process simulated node's replay
    /// referee trusts it to pass over reads that teach it nothing, without matching their path.
    public var operation: String
    public var service: YagnaService
    public var method: HTTPMethod
    public var path: String
    public var query: [QueryItem]
    public var headers: [Header]
    /// The body: bytes, or the JSON value the typed clients built it from (its bytes written
    /// when first read: an in-process node reads the value and may never need them).
    public var content: MessageBody?
    /// The server-side long-poll timeout the request asks for; the client waits this long plus
    /// a margin before giving up.
    public var longPoll: Duration?
    /// Whether the request asks for `text/event-stream`.
    public var acceptsEventStream: Bool

    /// The body's bytes. Setting them drops the JSON value.
    public var body: [UInt8]? {
        get { content?.bytes }
        set { content = newValue.map { MessageBody(bytes: $0) } }
    }

    /// The JSON value the body is written from, when the typed clients built it. Setting a value
    /// makes it the body.
    public var json: JSONValue? {
        get { content?.json }
        set {
            if let newValue { content = MessageBody(json: newValue) } else { content?.json = nil }
        }
    }

    public init(
        operation: String, service: YagnaService, method: HTTPMethod, path: String, query: [QueryItem] = [],
        headers: [Header] = [], body: [UInt8]? = nil, longPoll: Duration? = nil, acceptsEventStream: Bool = false
    ) {
        self.operation = operation
        self.service = service
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.content = body.map { MessageBody(bytes: $0) }
        self.longPoll = longPoll
        self.acceptsEventStream = acceptsEventStream
    }

    public static func == (a: YagnaRequest, b: YagnaRequest) -> Bool {
        a.operation == b.operation && a.service == b.service && a.method == b.method && a.path == b.path && a.query == b.query
            && a.headers == b.headers && a.body == b.body && a.longPoll == b.longPoll && a.acceptsEventStream == b.acceptsEventStream
    }

    public func hash(into h: inout Hasher) {
        h.combine(operation)
        h.combine(method)
        h.combine(path)
        h.combine(body)
    }

    /// The path with its percent-encoded query (`/demands/x/events?timeout=5`).
    public var pathWithQuery: String { QueryItem.target(path, query) }
}

/// A query parameter.
public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Whether a query component keeps `byte` as it is: letters, digits and `-._~,:`.
    @inline(__always)
    static func keeps(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ","), UInt8(ascii: ":"): true
        default: false
        }
    }

    /// A path with its percent-encoded query (`/demands/x/events?timeout=5`), or the path alone
    /// when there is no query.
    public static func target(_ path: String, _ query: [QueryItem]) -> String {
        guard !query.isEmpty else { return path }
        // Written as bytes into one buffer, made a string once (appending to a string checks
        // and grows it piece by piece).
        var capacity = path.utf8.count
        for item in query { capacity += item.name.utf8.count + item.value.utf8.count + 2 }
        var out: [UInt8] = []
        out.reserveCapacity(capacity + 16)
        out.append(contentsOf: path.utf8)
        for (i, item) in query.enumerated() {
            out.append(i == 0 ? UInt8(ascii: "?") : UInt8(ascii: "&"))
            escape(item.name, into: &out)
            out.append(UInt8(ascii: "="))
            escape(item.value, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` percent-encoded to `out`.
    static func escape(_ s: String, into out: inout [UInt8]) {
        // Most components need no escape: their bytes go in one piece.
        var text = s
        let plain = text.withUTF8 { bytes -> Bool in
            for byte in bytes where !keeps(byte) { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain { return }
        for byte in s.utf8 {
            if keeps(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 15))
            }
        }
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10 }

    /// Percent-encodes a query component (`+` becomes `%2B`, as yagna needs for timestamps).
    public static func escape(_ s: String) -> String {
        if s.utf8.allSatisfy(keeps) { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 8)
        escape(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a percent-encoded component (`+` read as a space, as form encoding does).
    public static func unescape(_ s: String) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else if b == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `a=1&b=2` into items, decoding each part.
    public static func parse(_ query: Substring) -> [QueryItem] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return QueryItem(unescape(String(parts[0])), parts.count > 1 ? unescape(String(parts[1])) : "")
        }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

/// An HTTP header.
public struct Header: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Whether the header has this name, compared without regard to ASCII case (as HTTP
    /// compares field names), byte by byte: no lowercased copies of either.
    public func named(_ other: String) -> Bool {
        // Spelled alike byte for byte (the usual case): no need to look closer.
        var a = name, b = other
        if a.withUTF8({ x in b.withUTF8 { y in x.count == y.count && (x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) } }) {
            return true
        }
        return name.utf8.count == other.utf8.count
            && zip(name.utf8, other.utf8).allSatisfy { a, b in
                a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= UInt8(ascii: "a") && (a | 0x20) <= UInt8(ascii: "z"))
            }
    }
}

/// A response from the daemon.
public struct YagnaResponse: Sendable, Hashable, HasMessageBody {
    public var status: Int
    public var headers: [Header]
    /// The body: bytes, or the JSON value an answer made in this process (the simulated node's
    /// in-process front end) was built from, its bytes written when first read.
    public var content: MessageBody

    public init(status: Int, headers: [Header] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.content = MessageBody(bytes: body)
    }

    public static func == (a: YagnaResponse, b: YagnaResponse) -> Bool {
        a.status == b.status && a.headers == b.headers && a.body == b.body
    }

    public func hash(into h: inout Hasher) {
        h.combine(status)
        h.combine(body)
    }

    /// The body as JSON: the value it was written from, or the parsed bytes.
    public func jsonBody() throws -> JSONValue {
        if let json { return json }
        return try WireDecoder().value(from: body)
    }

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.named(name) }?.value
    }

    private static let jsonHeaders = [Header("Content-Type", "application/json")]

    /// A JSON response (its bytes written when first read).
    public static func json(_ status: Int, _ value: JSONValue) -> YagnaResponse {
        var r = YagnaResponse(status: status, headers: jsonHeaders)
        r.content = MessageBody(json: value)
        return r
    }

    /// A JSON response made in this process from `typed` (`value` is its JSON): a typed client
    /// asking for the same type takes it as it is (see `MessageBody.typed`).
    package static func json(_ status: Int, _ value: JSONValue, typed: any Sendable) -> YagnaResponse {
        var r = json(status, value)
        r.content.typed = typed
        return r
    }

    /// A JSON response made in this process from `typed`, its JSON made by `make` only when
    /// something reads the body (see `MessageBody.init(deferred:)`).
    package static func json(_ status: Int, deferred make: @escaping @Sendable () -> JSONValue, typed: any Sendable) -> YagnaResponse {
        var r = YagnaResponse(status: status, headers: jsonHeaders)
        r.content = MessageBody(deferred: make)
        r.content.typed = typed
        return r
    }
}

/// How requests reach a yagna daemon: over HTTP, or in-process to a simulated node.
///
/// Transports deliver every response, whatever its status; the typed clients map statuses to
/// `YagnaError`s, so both transports fail the same way. A transport throws only when no
/// response arrived (`YagnaError` with code `.transport` or `.clientTimeout`).
public protocol Transport: Sendable {
    /// Sends a request and returns the daemon's response.
    func send(_ request: YagnaRequest) async throws -> YagnaResponse

    /// Sends a request that asks for `text/event-stream` and returns its frames as they arrive,
    /// or the error response if the daemon answers with something other than a stream.
    func openEventStream(_ request: YagnaRequest) async throws -> EventStreamResponse
}

/// The answer to an event-stream request: frames, or an ordinary (error) response.
public enum EventStreamResponse: Sendable {
    case stream(AsyncThrowingStream<ServerSentEvent, any Error>)
    case response(YagnaResponse)
}
