import Synchronization
public import YagnaAPI
import Foundation

/// Golem's LDAP-style constraint language: `(&(a=b)(c>=1)(d=*))`, `|`, `!`, numeric and
/// string comparisons, `*` wildcards, and list-valued properties (a list matches when any of
/// its elements does).
public indirect enum Constraint: Sendable, Hashable {
    case all([Constraint])
    case any([Constraint])
    case not(Constraint)
    case compare(attribute: String, op: Operator, value: String)
    /// `()` or an empty string: matches everything.
    case always

    public enum Operator: String, Sendable, Hashable {
        case equal = "="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    /// Why a constraint text does not parse: the offset and what was expected.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let text: String
        public let offset: Int
        public let message: String
        public var description: String {
            "unsupported constraint syntax at offset \(offset): \(message) in \(text.debugDescription). Supported: (&…), (|…), (!…), (attr=value), (attr=*), (attr=pre*fix), <, <=, >, >="
        }
    }

    /// Expressions parsed so far in this process (a node parses the same few demand and offer
    /// constraints for every counter-proposal).
    private static let parsed = Mutex<[String: Result<Constraint, SyntaxError>]>([:])

    /// `parse`, remembered per expression text (up to 1 024 expressions, then it starts afresh).
    public static func parseCached(_ text: String) throws(SyntaxError) -> Constraint {
        if let known = parsed.withLock({ $0[text] }) { return try known.get() }
        let result: Result<Constraint, SyntaxError>
        do throws(SyntaxError) { result = .success(try parse(text)) } catch { result = .failure(error) }
        parsed.withLock { cache in
            if cache.count >= 1024 { cache.removeAll() }
            cache[text] = result
        }
        return try result.get()
    }

    /// Parses a constraint expression.
    public static func parse(_ text: String) throws(SyntaxError) -> Constraint {
        var p = ConstraintParser(text: text)
        p.skip()
        if p.atEnd { return .always }
        let c = try p.filter()
        p.skip()
        guard p.atEnd else { throw p.error("unexpected text after the expression") }
        return c
    }

    /// How a constraint resolves against a set of properties, as the daemon's matcher reads it:
    /// a comparison on a property the set lacks is undefined (and stays so under `!`), `=*`
    /// on it is false; `&` is false at its first false operand, `|` true at its first true one.
    /// `unresolved` names the properties that kept the result from being true.
    public struct Resolution: Sendable, Hashable {
        /// `true`, `false`, or `nil` for undefined.
        public var value: Bool?
        public var unresolved: [String]
    }

    /// Whether `properties` satisfy the constraint: only a resolution to true is a match (the
    /// daemon offers nothing on an undefined one).
    public func matches(_ properties: Properties) -> Bool {
        resolve(properties).value == true
    }

    public func resolve(_ properties: Properties) -> Resolution {
        switch self {
        case .always: return Resolution(value: true, unresolved: [])
        case .all(let cs):
            var unresolved: [String] = []
            var undefined = false
            for c in cs {
                let r = c.resolve(properties)
                switch r.value {
                case true: continue
                case false: return Resolution(value: false, unresolved: [])
                case nil:
                    undefined = true
                    unresolved += r.unresolved
                }
            }
            return Resolution(value: undefined ? nil : true, unresolved: unresolved)
        case .any(let cs):
            var unresolved: [String] = []
            var undefined = false
            for c in cs {
                let r = c.resolve(properties)
                if r.value == true { return Resolution(value: true, unresolved: []) }
                if r.value == nil { undefined = true }
                unresolved += r.unresolved
            }
            return Resolution(value: undefined ? nil : false, unresolved: unresolved)
        case .not(let c):
            let r = c.resolve(properties)
            switch r.value {
            case true: return Resolution(value: false, unresolved: [])
            case false: return Resolution(value: true, unresolved: [])
            case nil: return r
            }
        case .compare(let attribute, let op, let value):
            guard let property = properties[attribute] else {
                // `(a=*)` asks whether the property is there: a plain no. Any other comparison
                // cannot be decided without it.
                return Resolution(value: op == .equal && value == "*" ? false : nil, unresolved: [attribute])
            }
            if op == .equal && value == "*" { return Resolution(value: true, unresolved: []) }
            let result: Bool
            if case .array(let items) = property {
                // Only equality means anything for a list: an element equal to the value.
                result = op == .equal && items.contains { Self.compare($0, op, value) }
            } else {
                result = Self.compare(property, op, value)
            }
            return Resolution(value: result, unresolved: [])
        }
    }

    static func compare(_ property: JSONValue, _ op: Operator, _ value: String) -> Bool {
        switch property {
        case .number(let n):
            guard let lhs = n.doubleValue, let rhs = Double(value) else { return false }
            switch op {
            case .equal: return lhs == rhs
            case .less: return lhs < rhs
            case .lessOrEqual: return lhs <= rhs
            case .greater: return lhs > rhs
            case .greaterOrEqual: return lhs >= rhs
            }
        case .bool(let b):
            // The daemon reads the value as a Rust bool: exactly `true` or `false`.
            return op == .equal && value == (b ? "true" : "false")
        case .string(let s):
            switch op {
            case .equal: return wildcardMatch(s, value)
            case .less: return s < value
            case .lessOrEqual: return s <= value
            case .greater: return s > value
            case .greaterOrEqual: return s >= value
            }
        default:
            return false
        }
    }

    /// `*` matches any run of characters.
    static func wildcardMatch(_ s: String, _ pattern: String) -> Bool {
        guard pattern.contains("*") else { return s == pattern }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(s)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }
}

struct ConstraintParser {
    let text: String
    let chars: [Character]
    var i = 0

    init(text: String) {
        self.text = text
        self.chars = Array(text)
    }

    var atEnd: Bool { i >= chars.count }

    func error(_ message: String) -> Constraint.SyntaxError {
        Constraint.SyntaxError(text: text, offset: i, message: message)
    }

    mutating func skip() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    mutating func expect(_ c: Character) throws(Constraint.SyntaxError) {
        skip()
        guard i < chars.count, chars[i] == c else { throw error("expected '\(c)'") }
        i += 1
    }

    mutating func filter() throws(Constraint.SyntaxError) -> Constraint {
        try expect("(")
        skip()
        guard i < chars.count else { throw error("unterminated expression") }
        let result: Constraint
        switch chars[i] {
        case "&":
            i += 1
            result = .all(try list())
        case "|":
            i += 1
            result = .any(try list())
        case "!":
            i += 1
            skip()
            result = .not(try filter())
        case ")":
            result = .always
        default:
            result = try item()
        }
        try expect(")")
        return result
    }

    mutating func list() throws(Constraint.SyntaxError) -> [Constraint] {
        var out: [Constraint] = []
        skip()
        while i < chars.count, chars[i] == "(" {
            out.append(try filter())
            skip()
        }
        // An empty operand list is valid: `(&)` matches everything, as the daemon's matcher reads it.
        return out
    }

    mutating func item() throws(Constraint.SyntaxError) -> Constraint {
        let start = i
        while i < chars.count, !"=<>!~()".contains(chars[i]) { i += 1 }
        let attribute = String(chars[start..<i]).trimmingSpaces
        guard !attribute.isEmpty else { throw error("expected an attribute name") }
        guard i < chars.count else { throw error("expected an operator") }
        let op: Constraint.Operator
        switch chars[i] {
        case "=": op = .equal; i += 1
        case "<":
            i += 1
            if i < chars.count, chars[i] == "=" { op = .lessOrEqual; i += 1 } else { op = .less }
        case ">":
            i += 1
            if i < chars.count, chars[i] == "=" { op = .greaterOrEqual; i += 1 } else { op = .greater }
        default:
            throw error("operator '\(chars[i])' is not supported")
        }
        let valueStart = i
        var depth = 0
        while i < chars.count {
            if chars[i] == "(" { depth += 1 }
            if chars[i] == ")" { if depth == 0 { break }; depth -= 1 }
            i += 1
        }
        let value = String(chars[valueStart..<i]).trimmingSpaces
        return .compare(attribute: attribute, op: op, value: value)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
