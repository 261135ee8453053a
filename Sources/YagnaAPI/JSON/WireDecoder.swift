public import Foundation

/// Decodes `Decodable` values from `JSONValue`s or JSON bytes, the way yagna writes them:
/// `Decimal` from a decimal string or a number, integers only from integral numbers,
/// `UnknownFields` filled with the keys a model did not read.
public struct WireDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try WireDecoder.unbox(type, from: value, codingPath: [])
    }

    public func decode<T: Decodable>(_ type: T.Type, from data: some Collection<UInt8>) throws -> T {
        try decode(type, from: try value(from: data))
    }

    /// Parses JSON bytes; a syntax error is thrown as the `DecodingError` `decode` throws.
    public func value(from data: some Collection<UInt8>) throws -> JSONValue {
        do { return try JSONParser.parse(data) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: error.description, underlyingError: error))
        }
    }

    static func unbox<T: Decodable>(_ type: T.Type, from value: JSONValue, codingPath: [any CodingKey]) throws -> T {
        // Metatype comparisons, not casts (see `WireEncoder.box`); each `unsafeBitCast` is from
        // the very type `T` was just found to be.
        if T.self == String.self {
            guard case .string(let s) = value else { throw mismatch(String.self, value, codingPath) }
            return unsafeBitCast(s, to: T.self)
        }
        if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
        // Property maps and string lists: the values as they are (what Codable would build
        // entry by entry); anything else goes the long way, for its error.
        if T.self == [String: JSONValue].self, case .object(let o) = value { return unsafeBitCast(o, to: T.self) }
        if T.self == [String].self, let strings = value.fastStrings { return unsafeBitCast(strings, to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try integer(Int.self, value, codingPath), to: T.self) }
        if T.self == Bool.self {
            guard case .bool(let b) = value else { throw mismatch(Bool.self, value, codingPath) }
            return unsafeBitCast(b, to: T.self)
        }
        if T.self == Decimal.self { return unsafeBitCast(try decimal(value, codingPath), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(value, codingPath), to: T.self) }
        if WireEncoder.integerTypes.contains(where: { $0 == T.self }), let integer = T.self as? any FixedWidthInteger.Type {
            return try self.integer(integer, value, codingPath) as! T
        }
        if T.self == Float.self { return unsafeBitCast(Float(try double(value, codingPath)), to: T.self) }
        if T.self == URL.self {
            guard case .string(let s) = value, let url = URL(string: s) else { throw mismatch(URL.self, value, codingPath) }
            return unsafeBitCast(url, to: T.self)
        }
        return try T(from: _Decoder(value: value, codingPath: codingPath))
    }

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ codingPath: [any CodingKey]) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(type) but found \(value.typeName)"))
    }

    /// The bytes an amount may hold: digits, `.`, signs and an exponent.
    private static func isDecimalByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
            || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
    }

    static func decimal(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Decimal {
        let text: String
        switch value {
        case .string(let s): text = s
        case .number(let n): text = n.literal
        default: throw mismatch(Decimal.self, value, codingPath)
        }
        guard !text.isEmpty, text.utf8.allSatisfy(isDecimalByte), let d = Decimal(wireText: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "'\(text)' is not a decimal amount"))
        }
        return d
    }

    static func double(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Double {
        guard case .number(let n) = value, let d = n.doubleValue else { throw mismatch(Double.self, value, codingPath) }
        return d
    }

    static func integer<I: FixedWidthInteger>(_ type: I.Type, _ value: JSONValue, _ codingPath: [any CodingKey]) throws -> I {
        let i = try int(value, codingPath)
        guard let v = I(exactly: i) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(i) does not fit \(I.self)"))
        }
        return v
    }

    static func int(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Int {
        guard case .number(let n) = value else { throw mismatch(Int.self, value, codingPath) }
        guard let i = n.intValue else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(n.literal) is not an integer"))
        }
        return i
    }
}

/// A coding key for any string.
public struct AnyKey: CodingKey, Hashable, Sendable {
    public let stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { return nil }
}

struct _Decoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw WireDecoder.mismatch([String: JSONValue].self, value, codingPath) }
        return KeyedDecodingContainer(_KeyedDecoder<Key>(object: object, codingPath: codingPath, read: ReadKeys(capacity: object.count)))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw WireDecoder.mismatch([JSONValue].self, value, codingPath) }
        return _UnkeyedDecoder(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { _SingleDecoder(value: value, codingPath: codingPath) }
}

/// The keys a keyed container has read so far; what is left becomes `UnknownFields`.
///
/// A list, not a set: objects have a few keys, most short enough to compare as two words, so
/// looking through the list costs less than hashing every key read.
final class ReadKeys {
    private var keys: [String] = []
    init(capacity: Int) { keys.reserveCapacity(capacity) }
    func insert(_ key: String) { keys.append(key) }
    func contains(_ key: String) -> Bool { keys.contains(key) }
}

struct _KeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: JSONValue]
    let codingPath: [any CodingKey]
    let read: ReadKeys

    var allKeys: [Key] { object.keys.sorted().compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        read.insert(key.stringValue)
        return object[key.stringValue] != nil
    }

    private func value(_ key: Key) throws -> JSONValue {
        read.insert(key.stringValue)
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing field '\(key.stringValue)'"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        read.insert(key.stringValue)
        return object[key.stringValue]?.isNull ?? true
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let v = try value(key)
        guard case .bool(let b) = v else { throw WireDecoder.mismatch(type, v, codingPath + [key]) }
        return b
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        let v = try value(key)
        guard case .string(let s) = v else { throw WireDecoder.mismatch(type, v, codingPath + [key]) }
        return s
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try WireDecoder.int(try value(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try WireDecoder.double(try value(key), codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        if T.self == UnknownFields.self {
            let leftover = object.filter { !read.contains($0.key) || $0.value.isNull }
            return UnknownFields(leftover) as! T
        }
        return try WireDecoder.unbox(type, from: try value(key), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try _Decoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try _Decoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    /// The value under `super` (null when absent), as Foundation's decoder reads it.
    func superDecoder() throws -> any Decoder {
        read.insert("super")
        return _Decoder(value: object["super"] ?? .null, codingPath: codingPath + [AnyKey("super")])
    }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        read.insert(key.stringValue)
        return _Decoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

struct _UnkeyedDecoder: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "array too short"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return true }
        if items[currentIndex].isNull { currentIndex += 1; return true }
        return false
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, path) = try next()
        return try WireDecoder.unbox(type, from: v, codingPath: path)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, path) = try next()
        return try _Decoder(value: v, codingPath: path).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, path) = try next()
        return try _Decoder(value: v, codingPath: path).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let (v, path) = try next()
        return _Decoder(value: v, codingPath: path)
    }
}

struct _SingleDecoder: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw WireDecoder.mismatch(type, value, codingPath) }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw WireDecoder.mismatch(type, value, codingPath) }
        return s
    }
    func decode(_ type: Int.Type) throws -> Int { try WireDecoder.int(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try WireDecoder.double(value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try WireDecoder.unbox(type, from: value, codingPath: codingPath) }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let d = decoder as? _Decoder { self = d.value; return }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): if let i = Int(n.literal) { try c.encode(i) } else { try c.encode(n.doubleValue ?? 0) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension DecodingError {
    /// The dotted path of the field at fault (`proposal.state`, `[2].index`).
    public var fieldPath: String {
        let context: Context
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        case .keyNotFound(let key, let c): return (c.codingPath + [key]).dottedPath
        @unknown default: return ""
        }
        return context.codingPath.dottedPath
    }

    /// What went wrong, in one line.
    public var reason: String {
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c), .keyNotFound(_, let c):
            return c.debugDescription
        @unknown default: return "\(self)"
        }
    }
}

extension [any CodingKey] {
    var dottedPath: String {
        var out = ""
        for key in self {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return out.isEmpty ? "(root)" : out
    }
}
