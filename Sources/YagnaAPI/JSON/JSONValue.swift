/// A JSON value that keeps what the wire said: number literals stay as written (`0.0` stays a
/// float, `240` an integer), and objects keep every key, known or not.
///
/// Objects serialise with sorted keys so that every encoding is deterministic.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

/// A JSON number kept as its literal text, so integer and float forms survive a round trip.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal as it appears on the wire (`1`, `0.0`, `1.5e-3`).
    public let literal: String

    /// Wraps a literal that is already valid JSON number text.
    public init(literal: String) { self.literal = literal }

    public init(_ value: Int) { self.literal = String(value) }
    public init(_ value: Int64) { self.literal = String(value) }

    /// A float literal: always written with a fraction or exponent, so `0` becomes `0.0`
    /// (yapapi rejects integer pricing coefficients).
    public init(_ value: Double) {
        precondition(value.isFinite, "JSON cannot hold \(value)")
        var text = "\(value)"
        if !text.contains(".") && !text.contains("e") && !text.contains("E") { text += ".0" }
        self.literal = text
    }

    /// Whether the literal is written as a float (has a fraction or an exponent).
    public var isFloatLiteral: Bool { literal.contains { $0 == "." || $0 == "e" || $0 == "E" } }

    public var doubleValue: Double? { Double(literal) }

    /// The integer value, if the literal denotes one exactly (`3` or `3.0`).
    public var intValue: Int? {
        if let value = Int(literal) { return value }
        guard let double = Double(literal), double.rounded() == double, abs(double) < 9.0e15 else { return nil }
        return Int(double)
    }

    public var description: String { literal }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    public static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    public static func double(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var intValue: Int? { if case .number(let n) = self { return n.intValue } else { return nil } }
    public var doubleValue: Double? { if case .number(let n) = self { return n.doubleValue } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// Looks a key up in an object value; `nil` for anything else.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] } else { return nil }
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value, keys sorted.
    public var description: String { JSONWriter.string(self) }
}
