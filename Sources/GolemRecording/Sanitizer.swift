public import YagnaAPI

/// Cleans exchanges before they are written: the app key always (the `Authorization` header and
/// an `authToken` query), and optionally every node id and wallet address (`0x` and 40 hex
/// digits), each replaced by a consistent pseudonym so that references still match.
public struct Sanitizer: Sendable {
    public var pseudonymizeAddresses: Bool
    private let map = Locked([String: String]())

    public init(pseudonymizeAddresses: Bool = false) {
        self.pseudonymizeAddresses = pseudonymizeAddresses
    }

    /// The exchange with secrets removed (and addresses replaced when asked).
    public func clean(_ e: RecordedExchange) -> RecordedExchange {
        var e = e
        e.requestHeaders = e.requestHeaders.map { h in
            h.name.lowercased() == "authorization" ? Header(h.name, "Bearer <redacted>") : Header(h.name, text(h.value))
        }
        e.responseHeaders = e.responseHeaders.map { Header($0.name, text($0.value)) }
        if !e.query.isEmpty {
            let items = QueryItem.parse(Substring(e.query)).map { q in
                q.name == "authToken" ? QueryItem(q.name, "<redacted>") : QueryItem(q.name, text(q.value))
            }
            e.query = items.map { "\(QueryItem.escape($0.name))=\(QueryItem.escape($0.value))" }.joined(separator: "&")
        }
        e.path = text(e.path)
        e.requestBody = bytes(e.requestBody)
        e.responseBody = bytes(e.responseBody)
        e.frames = e.frames.map { f in
            var f = f
            f.event.data = text(f.event.data)
            return f
        }
        return e
    }

    func text(_ s: String) -> String {
        guard pseudonymizeAddresses else { return s }
        return String(decoding: bytes(Array(s.utf8)), as: UTF8.self)
    }

    /// Replaces every `0x` + 40 hex digits (not part of a longer hex run) by its pseudonym.
    func bytes(_ b: [UInt8]) -> [UInt8] {
        guard pseudonymizeAddresses, b.count >= 42 else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "0"), i + 42 <= b.count, b[i + 1] == UInt8(ascii: "x") || b[i + 1] == UInt8(ascii: "X"),
                (i == 0 || !Self.isHex(b[i - 1])), b[(i + 2)..<(i + 42)].allSatisfy(Self.isHex),
                i + 42 == b.count || !Self.isHex(b[i + 42])
            {
                let address = String(decoding: b[(i + 2)..<(i + 42)], as: UTF8.self).lowercased()
                out += Array(pseudonym(address).utf8)
                i += 42
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    func pseudonym(_ address: String) -> String {
        map.withLock { m in
            if let p = m[address] { return p }
            let n = String(m.count + 1, radix: 16)
            let p = "0x" + String(repeating: "0", count: 36 - n.count) + "5eed" + n
            m[address] = p
            return p
        }
    }

    static func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
    }
}
