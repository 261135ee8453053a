/// One Server-Sent Events frame.
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String?
    public var data: String
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }

    /// The frame's wire text, ending with a blank line.
    public var wireText: String {
        var out = ""
        if let event { out += "event: \(event)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { out += "data: \(line)\n" }
        if let id { out += "id: \(id)\n" }
        return out + "\n"
    }
}

/// An incremental SSE parser: feed it chunks as they arrive (split anywhere, even inside a
/// UTF-8 sequence or a line ending) and it returns the complete frames. Comment lines such as
/// `:ping` are skipped.
public struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    private var event: String?
    private var dataLines: [String] = []
    private var id: String?
    private var sawField = false
    private var pendingCR = false

    public init() {}

    /// Consumes a chunk and returns the frames it completed.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [ServerSentEvent] {
        var frames: [ServerSentEvent] = []
        for byte in chunk {
            if pendingCR {
                pendingCR = false
                if byte == 0x0A { continue }
            }
            if byte == 0x0A || byte == 0x0D {
                if byte == 0x0D { pendingCR = true }
                if let frame = line(buffer) { frames.append(frame) }
                buffer.removeAll(keepingCapacity: true)
            } else {
                buffer.append(byte)
            }
        }
        return frames
    }

    /// Ends the stream: a frame not yet closed by a blank line is dropped, as the SSE spec says.
    public mutating func finish() -> [ServerSentEvent] {
        buffer.removeAll()
        reset()
        return []
    }

    private mutating func reset() {
        event = nil
        dataLines = []
        id = nil
        sawField = false
    }

    private mutating func line(_ bytes: [UInt8]) -> ServerSentEvent? {
        if bytes.isEmpty {
            defer { reset() }
            guard sawField, !dataLines.isEmpty else { return nil }
            return ServerSentEvent(event: event, data: dataLines.joined(separator: "\n"), id: id)
        }
        if bytes.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = text[...]
            value = ""
        }
        sawField = true
        switch field {
        case "event": event = String(value)
        case "data": dataLines.append(String(value))
        case "id": id = String(value)
        default: break
        }
        return nil
    }
}
