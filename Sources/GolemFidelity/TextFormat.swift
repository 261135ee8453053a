/// The formats of strings that the daemon's answers carry, so ids, timestamps and amounts are
/// compared by format rather than by value.
public enum TextFormat: Hashable, Sendable, CustomStringConvertible {
    case empty
    case uuid
    /// `<hex32>-<hex64>`: market subscriptions (demands and offers).
    case subscription
    /// `R-<hex64>` (a requestor's view) or `P-<hex64>` (a provider's).
    case proposal(Character)
    case hex64
    case hex32
    /// `0x` and 40 hex digits: node ids.
    case address
    /// RFC 3339, with its number of fractional digits and its zone (`Z`, `+00:00`, or none).
    case timestamp(fraction: Int, zone: String)
    /// A decimal amount such as `0.001` or `10`.
    case decimal
    case text

    public var description: String {
        switch self {
        case .empty: "empty"
        case .uuid: "uuid"
        case .subscription: "subscription id"
        case .proposal(let c): "\(c)- proposal id"
        case .hex64: "hex64"
        case .hex32: "hex32"
        case .address: "node id"
        case .timestamp(let f, let z): "timestamp(\(f) fractional digits, zone '\(z)')"
        case .decimal: "decimal"
        case .text: "text"
        }
    }

    static func isHex(_ s: Substring, count: Int) -> Bool {
        s.utf8.count == count && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    public static func classify(_ s: String) -> TextFormat {
        if s.isEmpty { return .empty }
        let sub = Substring(s)
        if isHex(sub, count: 64) { return .hex64 }
        if isHex(sub, count: 32) { return .hex32 }
        if s.hasPrefix("0x"), isHex(sub.dropFirst(2), count: 40) { return .address }
        if (s.hasPrefix("R-") || s.hasPrefix("P-")), isHex(sub.dropFirst(2), count: 64) { return .proposal(s.first!) }
        let dash = s.split(separator: "-", omittingEmptySubsequences: false)
        if dash.count == 2, isHex(dash[0], count: 32), isHex(dash[1], count: 64) { return .subscription }
        if dash.count == 5, [8, 4, 4, 4, 12].enumerated().allSatisfy({ isHex(dash[$0.offset].lowercased()[...], count: $0.element) }) { return .uuid }
        if let t = timestamp(s) { return t }
        if isDecimal(s) { return .decimal }
        return .text
    }

    static func isDecimal(_ s: String) -> Bool {
        var body = Substring(s)
        if body.first == "-" { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f+][Z|±HH:MM]`.
    static func timestamp(_ s: String) -> TextFormat? {
        let u = Array(s.utf8)
        guard u.count >= 19 else { return nil }
        func digits(_ r: Range<Int>) -> Bool { r.allSatisfy { u[$0] >= 48 && u[$0] <= 57 } }
        guard digits(0..<4), u[4] == 45, digits(5..<7), u[7] == 45, digits(8..<10), u[10] == 84 || u[10] == 32,
            digits(11..<13), u[13] == 58, digits(14..<16), u[16] == 58, digits(17..<19)
        else { return nil }
        var i = 19
        var fraction = 0
        if i < u.count, u[i] == 46 {
            i += 1
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1; fraction += 1 }
        }
        let zone = String(decoding: u[i...], as: UTF8.self)
        guard zone.isEmpty || zone == "Z" || (zone.count == 6 && (zone.hasPrefix("+") || zone.hasPrefix("-"))) else { return nil }
        return .timestamp(fraction: fraction, zone: zone)
    }

    /// A short identifier-like value (`Approved`, `ProposalEvent`, `Requestor`): compared exactly.
    static func isEnumeration(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isUppercase, s.count <= 40 else { return false }
        return s.unicodeScalars.allSatisfy { ($0.properties.isAlphabetic && $0.isASCII) || $0 == "_" }
    }

    /// Free text with every id, timestamp and number replaced by its format, for comparing error messages.
    public static func masked(_ text: String) -> String {
        var out = ""
        var token = ""
        func flush() {
            guard !token.isEmpty else { return }
            let format = classify(token)
            switch format {
            case .text:
                out += token.allSatisfy({ $0.isNumber }) ? "<n>" : token
            case .decimal: out += "<n>"
            default: out += "<\(format)>"
            }
            token = ""
        }
        for c in text {
            if c.isLetter || c.isNumber || c == "-" || c == "." || c == ":" || c == "+" {
                token.append(c)
            } else {
                flush()
                out.append(c)
            }
        }
        flush()
        return out
    }
}
