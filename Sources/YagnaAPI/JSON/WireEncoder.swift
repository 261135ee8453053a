public import Foundation

/// Encodes `Encodable` values into `JSONValue`s and JSON bytes, the way yagna writes them:
/// `Decimal` as a decimal string, `Double` always as a float literal, keys sorted,
/// `UnknownFields` merged back into their object.
public struct WireEncoder: Sendable {
    public init() {}

    public func encodeValue(_ value: some Encodable) throws -> JSONValue {
        try WireEncoder.box(value, codingPath: [])
    }

    public func encode(_ value: some Encodable) throws -> Data {
        Data(JSONWriter.bytes(try encodeValue(value)))
    }

    static func box<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> JSONValue {
        // Types are told apart by comparing metatypes (a pointer comparison) rather than by
        // casting: most values are structs, which every failed cast used to cost a runtime
        // conformance lookup. Each `unsafeBitCast` is to the very type `T` was just found to be.
        let type = T.self
        if type == String.self { return .string(unsafeBitCast(value, to: String.self)) }
        if type == Int.self { return .int(unsafeBitCast(value, to: Int.self)) }
        if type == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
        if type == JSONValue.self { return unsafeBitCast(value, to: JSONValue.self) }
        if type == [String: JSONValue].self { return .object(unsafeBitCast(value, to: [String: JSONValue].self)) }
        if type == [String].self { return .array(unsafeBitCast(value, to: [String].self).map { .string($0) }) }
        if type == Double.self { return try number(unsafeBitCast(value, to: Double.self), codingPath) }
        if type == Decimal.self { return .string(unsafeBitCast(value, to: Decimal.self).wireString) }
        if type == Float.self { return try number(Double(unsafeBitCast(value, to: Float.self)), codingPath) }
        if type == URL.self { return .string(unsafeBitCast(value, to: URL.self).absoluteString) }
        if integerTypes.contains(where: { $0 == type }), let v = value as? any FixedWidthInteger {
            return .number(JSONNumber(literal: "\(v)"))
        }
        let encoder = _Encoder(codingPath: codingPath)
        try value.encode(to: encoder)
        return encoder.node.resolved
    }

    /// The standard library's integer types other than `Int`, written as JSON integers.
    static let integerTypes: [any Any.Type] = [
        Int8.self, Int16.self, Int32.self, Int64.self, Int128.self, UInt.self, UInt8.self, UInt16.self, UInt32.self, UInt64.self, UInt128.self,
    ]

    static func number(_ v: Double, _ codingPath: [any CodingKey]) throws -> JSONValue {
        guard v.isFinite else {
            throw EncodingError.invalidValue(v, .init(codingPath: codingPath, debugDescription: "JSON cannot hold \(v)"))
        }
        return .double(v)
    }
}

extension Decimal {
    /// The plain decimal text yagna uses for amounts (`0.0012`, never an exponent).
    public var wireString: String { DecimalText.plain(self) ?? NSDecimalNumber(decimal: self).stringValue }
}

/// Writes a `Decimal` whose significand fits 64 bits as Foundation's `stringValue` does, a
/// hundred times cheaper (an amount is written for every debit note, invoice and allocation).
///
/// It reads the value's memory, laid out as `NSDecimal` is: the exponent (a signed byte), the
/// significand's length in 16-bit words (high nibble) with the negative and compact flags, two
/// reserved bytes, then eight little-endian words. Foundation does not promise that layout: it
/// is checked once against Foundation's own text for values of every shape, and if any differs
/// every value is written by Foundation.
enum DecimalText {
    static func plain(_ value: Decimal) -> String? {
        guard layoutChecked else { return nil }
        return read(value)
    }

    static func read(_ value: Decimal) -> String? {
        withUnsafeBytes(of: value) { raw -> String? in
            guard raw.count == 20 else { return nil }
            let exponent = Int(Int8(bitPattern: raw[0]))
            let length = Int(raw[1] >> 4)
            let negative = raw[1] & 0x08 != 0
            // Length 0 is zero, or NaN when negative.
            if length == 0 { return negative ? nil : "0" }
            guard length <= 4 else { return nil }
            var significand: UInt64 = 0
            for w in stride(from: length - 1, through: 0, by: -1) {
                significand = significand << 16 | UInt64(raw[4 + 2 * w]) | UInt64(raw[5 + 2 * w]) << 8
            }
            for w in length..<8 where raw[4 + 2 * w] != 0 || raw[5 + 2 * w] != 0 { return nil }
            var digits = String(significand)
            return digits.withUTF8 { d -> String in
                var out: [UInt8] = []
                out.reserveCapacity(d.count + abs(exponent) + 3)
                if negative { out.append(UInt8(ascii: "-")) }
                if exponent >= 0 {
                    out.append(contentsOf: d)
                    if significand != 0 { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: exponent)) }
                } else if d.count + exponent > 0 {
                    let point = d.count + exponent
                    out.append(contentsOf: d[..<point])
                    out.append(UInt8(ascii: "."))
                    out.append(contentsOf: d[point...])
                } else {
                    out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
                    out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -(d.count + exponent)))
                    out.append(contentsOf: d)
                }
                return String(decoding: out, as: UTF8.self)
            }
        }
    }

    /// Values of every shape the fast path writes: whole, fractional, below one, negative,
    /// large exponents, one to four words, and arithmetic results that are not compacted.
    static var samples: [Decimal] {
        var out: [Decimal] = [0, 1, 7, 65535, 65536, Decimal(UInt64.max), Decimal(sign: .minus, exponent: -3, significand: 1500)]
        for text in ["1.5", "-1.20", "0.0001", "100", "1e3", "0.000000000000000000000001", "4294967296.5", "281474976710656.25", "9e20"] {
            if let d = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) { out.append(d) }
        }
        out += [Decimal(150) / 100, Decimal(string: "0.25")! * 36000, Decimal(2) / 3, Decimal(1) / 8 - 1]
        return out
    }

    static let layoutChecked: Bool = samples.allSatisfy { d in read(d).map { $0 == NSDecimalNumber(decimal: d).stringValue } ?? true }
        && read(Decimal(string: "1.5")!) == "1.5"
}

/// A mutable tree built while encoding. Values boxed whole (the common case) are kept as
/// they are; only nested containers, which are written after they are handed out, get nodes.
final class _Node {
    struct Object {
        var values: [String: JSONValue] = [:]
        var nested: [String: _Node] = [:]
        var unknown = UnknownFields()
    }
    enum Item {
        case value(JSONValue)
        case node(_Node)
    }
    enum Kind { case empty, value(JSONValue), object(Object), array([Item]) }
    var kind: Kind = .empty

    var resolved: JSONValue {
        switch kind {
        case .empty: return .object([:])
        case .value(let v): return v
        case .array(let items):
            return .array(items.map { item in
                switch item {
                case .value(let v): v
                case .node(let n): n.resolved
                }
            })
        case .object(let o):
            var object = o.values
            for (key, node) in o.nested { object[key] = node.resolved }
            for (key, value) in o.unknown.values where object[key] == nil { object[key] = value }
            return .object(object)
        }
    }

    /// Changes the object in place: the enum lets go of it first, so that the change does not
    /// copy its dictionaries (which made every object quadratic in its number of keys).
    private func withObject(_ change: (inout Object) -> Void) {
        var object = Object()
        if case .object(let o) = kind { object = o }
        kind = .empty
        change(&object)
        kind = .object(object)
    }

    func child(forKey key: String) -> _Node {
        let node = _Node()
        withObject { o in
            o.values.removeValue(forKey: key)
            o.nested[key] = node
        }
        return node
    }

    func set(_ value: JSONValue, forKey key: String) {
        withObject { o in
            if !o.nested.isEmpty { o.nested.removeValue(forKey: key) }
            o.values[key] = value
        }
    }

    func merge(_ unknown: UnknownFields) {
        withObject { o in
            for (k, v) in unknown.values { o.unknown.values[k] = v }
        }
    }

    private func withItems(_ change: (inout [Item]) -> Void) {
        var items: [Item] = []
        if case .array(let existing) = kind { items = existing }
        kind = .empty  // as in `withObject`: append without copying the array
        change(&items)
        kind = .array(items)
    }

    func append() -> _Node {
        let node = _Node()
        withItems { $0.append(.node(node)) }
        return node
    }

    func append(_ value: JSONValue) {
        withItems { $0.append(.value(value)) }
    }

    var arrayCount: Int { if case .array(let items) = kind { return items.count } else { return 0 } }
}

final class _Encoder: Encoder {
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any] = [:]
    let node: _Node

    /// An encoder writing into `node` (a new one by default; a super-encoder writes into its
    /// container's child).
    init(codingPath: [any CodingKey], node: _Node = _Node()) {
        self.codingPath = codingPath
        self.node = node
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .empty = node.kind { node.kind = .object(_Node.Object()) }
        return KeyedEncodingContainer(_KeyedEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .empty = node.kind { node.kind = .array([]) }
        return _UnkeyedEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        _SingleEncoder(node: node, codingPath: codingPath)
    }
}

struct _KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: _Node
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.set(.null, forKey: key.stringValue) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.set(.bool(value), forKey: key.stringValue) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.set(.string(value), forKey: key.stringValue) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.set(.int(value), forKey: key.stringValue) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        node.set(try WireEncoder.number(value, codingPath + [key]), forKey: key.stringValue)
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if T.self == UnknownFields.self { node.merge(unsafeBitCast(value, to: UnknownFields.self)); return }
        node.set(try WireEncoder.box(value, codingPath: codingPath + [key]), forKey: key.stringValue)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = node.child(forKey: key.stringValue)
        child.kind = .object(_Node.Object())
        return KeyedEncodingContainer(_KeyedEncoder<NestedKey>(node: child, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.child(forKey: key.stringValue)
        child.kind = .array([])
        return _UnkeyedEncoder(node: child, codingPath: codingPath + [key])
    }
    /// Writes under `super`, as Foundation's encoder does, whatever the container's keys.
    mutating func superEncoder() -> any Encoder {
        _Encoder(codingPath: codingPath + [AnyKey("super")], node: node.child(forKey: "super"))
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        _Encoder(codingPath: codingPath + [key], node: node.child(forKey: key.stringValue))
    }
}

struct _UnkeyedEncoder: UnkeyedEncodingContainer {
    let node: _Node
    let codingPath: [any CodingKey]
    var count: Int { node.arrayCount }

    mutating func encodeNil() throws { node.append(.null) }
    mutating func encode(_ value: Bool) throws { node.append(.bool(value)) }
    mutating func encode(_ value: String) throws { node.append(.string(value)) }
    mutating func encode(_ value: Int) throws { node.append(.int(value)) }
    mutating func encode(_ value: Double) throws { node.append(try WireEncoder.number(value, codingPath)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        node.append(try WireEncoder.box(value, codingPath: codingPath + [IndexKey(count)]))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = node.append()
        child.kind = .object(_Node.Object())
        return KeyedEncodingContainer(_KeyedEncoder<NestedKey>(node: child, codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = node.append()
        child.kind = .array([])
        return _UnkeyedEncoder(node: child, codingPath: codingPath)
    }
    mutating func superEncoder() -> any Encoder {
        let key = IndexKey(count)
        return _Encoder(codingPath: codingPath + [key], node: node.append())
    }
}

struct _SingleEncoder: SingleValueEncodingContainer {
    let node: _Node
    let codingPath: [any CodingKey]
    mutating func encodeNil() throws { node.kind = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.kind = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.kind = .value(.string(value)) }
    mutating func encode(_ value: Int) throws { node.kind = .value(.int(value)) }
    mutating func encode(_ value: Double) throws { node.kind = .value(try WireEncoder.number(value, codingPath)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        node.kind = .value(try WireEncoder.box(value, codingPath: codingPath))
    }
}

/// A coding key for an array position.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "[\(intValue ?? 0)]" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}
