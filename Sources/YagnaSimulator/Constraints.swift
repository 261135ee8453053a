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

    /// Whether `properties` satisfy the constraint. A missing attribute fails every comparison.
    public func matches(_ properties: Properties) -> Bool {
        switch self {
        case .always: return true
        case .all(let cs): return cs.allSatisfy { $0.matches(properties) }
        case .any(let cs): return cs.contains { $0.matches(properties) }
        case .not(let c): return !c.matches(properties)
        case .compare(let attribute, let op, let value):
            guard let property = properties[attribute] else { return false }
            if op == .equal && value == "*" { return true }
            if case .array(let items) = property { return items.contains { Self.compare($0, op, value) } }
            return Self.compare(property, op, value)
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
            return op == .equal && value.lowercased() == (b ? "true" : "false")
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
