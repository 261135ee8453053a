public import YagnaAPI

/// One exchange the node served, in order: the request, the answer, and for streams the frames
/// sent. Offsets are nanoseconds of the node's clock since it started.
public struct JournalEntry: Sendable, Hashable {
    public var sequence: Int
    public var startOffset: Int64
    public var endOffset: Int64
    public var method: String
    /// The path with its query.
    public var target: String {
        get {
            switch requestTarget {
            case .text(let text): text
            case .parts(let path, let query): QueryItem.target(path, query)
            }
        }
        set { requestTarget = .text(newValue) }
    }
    /// The target as it came: text, or (a request served in this process) its path and query
    /// items, written as text only when read.
    private var requestTarget: Target
    private enum Target: Sendable {
        case text(String)
        case parts(path: String, query: [QueryItem])
    }
    /// The request's body: bytes, or (in-process) the JSON value they are written from.
    public var request: MessageBody
    public var status: Int
    /// The answer's body: bytes, or (in-process) the JSON value they are written from.
    public var response: MessageBody
    /// SSE frames with their offsets, for streamed answers.
    public var frames: [(offset: Int64, event: ServerSentEvent)]
    /// The catalog's match of the request, when a replay's referee judged it (found once, read
    /// again when the exchange completes). Not part of equality or hashing.
    var judged: Judged?

    struct Judged: Sendable {
        let match: OperationCatalog.Match?
    }

    public init(
        sequence: Int, startOffset: Int64, endOffset: Int64, method: String, target: String, request: MessageBody, status: Int,
        response: MessageBody, frames: [(offset: Int64, event: ServerSentEvent)]
    ) {
        self.sequence = sequence
        self.startOffset = startOffset
        self.endOffset = endOffset
        self.method = method
        self.requestTarget = .text(target)
        self.request = request
        self.status = status
        self.response = response
        self.frames = frames
    }

    /// An exchange whose target is `path` and `query`, written as text only when read.
    init(
        sequence: Int, startOffset: Int64, endOffset: Int64, method: String, path: String, query: [QueryItem], request: MessageBody,
        status: Int, response: MessageBody, frames: [(offset: Int64, event: ServerSentEvent)]
    ) {
        self.init(
            sequence: sequence, startOffset: startOffset, endOffset: endOffset, method: method, target: "", request: request,
            status: status, response: response, frames: frames)
        self.requestTarget = .parts(path: path, query: query)
    }

    public init(
        sequence: Int, startOffset: Int64, endOffset: Int64, method: String, target: String, requestBody: [UInt8], status: Int,
        responseBody: [UInt8], frames: [(offset: Int64, event: ServerSentEvent)]
    ) {
        self.init(
            sequence: sequence, startOffset: startOffset, endOffset: endOffset, method: method, target: target,
            request: MessageBody(bytes: requestBody), status: status, response: MessageBody(bytes: responseBody), frames: frames)
    }

    /// The request's bytes (written from its JSON value the first time, in-process).
    public var requestBody: [UInt8] {
        get { request.bytes }
        set { request.bytes = newValue }
    }

    /// The answer's bytes (written from its JSON value the first time, in-process).
    public var responseBody: [UInt8] {
        get { response.bytes }
        set { response.bytes = newValue }
    }

    /// The JSON value the request's body was written from, when it came in-process.
    public var requestJSON: JSONValue? { request.json }
    /// The JSON value the answer was written from, when the node made it as one.
    public var responseJSON: JSONValue? { response.json }

    public static func == (a: JournalEntry, b: JournalEntry) -> Bool {
        a.sequence == b.sequence && a.startOffset == b.startOffset && a.endOffset == b.endOffset && a.method == b.method
            && a.target == b.target && a.requestBody == b.requestBody && a.status == b.status && a.responseBody == b.responseBody
            && a.frames.map(\.offset) == b.frames.map(\.offset) && a.frames.map(\.event) == b.frames.map(\.event)
    }

    public func hash(into h: inout Hasher) {
        h.combine(sequence)
        h.combine(target)
    }

    /// The path without its query.
    public var path: String {
        // A path with a `?` in it (an id that has one) reads as its target does: up to the `?`.
        if case .parts(let path, _) = requestTarget, !path.utf8.contains(UInt8(ascii: "?")) { return path }
        let target = target
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[..<q])
    }

    /// The query without `?` (empty if none).
    public var query: String {
        if case .parts(let path, let query) = requestTarget, query.isEmpty, !path.utf8.contains(UInt8(ascii: "?")) { return "" }
        let target = target
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return "" }
        return String(target[target.index(after: q)...])
    }
}

/// A stable 64-bit FNV-1a digest of the ordered journal, as 16 hex digits: the same run gives
/// the same hash in every process and on every machine.
public func traceHash(_ journal: [JournalEntry]) -> String {
    var h = TraceHasher()
    for e in journal {
        h.mix(e.startOffset)
        h.mix(e.endOffset)
        h.mix(e.method)
        h.mix(e.target)
        h.mix(e.requestBody)
        h.mix(Int64(e.status))
        h.mix(e.responseBody)
        for f in e.frames {
            h.mix(f.offset)
            h.mix(f.event.wireText)
        }
    }
    let s = String(h.value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// FNV-1a over the journal's fields, each followed by a 0xFF separator; numbers count as their
/// decimal text. Works on the bytes in place (no text made for numbers, no copies of bodies).
struct TraceHasher {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    private mutating func mix(_ bytes: UnsafeBufferPointer<UInt8>) {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        value = (h ^ 0xFF) &* 0x100_0000_01B3
    }

    mutating func mix(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { mix($0) } }

    mutating func mix(_ text: String) {
        var text = text
        text.withUTF8 { mix($0) }
    }

    /// The number's decimal text, as `String(n)` writes it.
    mutating func mix(_ n: Int64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { digits in
            var magnitude = n.magnitude
            var at = 21
            repeat {
                at -= 1
                digits[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if n < 0 {
                at -= 1
                digits[at] = UInt8(ascii: "-")
            }
            mix(UnsafeBufferPointer(rebasing: digits[at...]))
        }
    }
}
