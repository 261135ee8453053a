public import YagnaAPI

/// FlexBuffers, the schema-less binary format yagna's service bus carries its messages in
/// (serde of the Rust types), read into and written from `JSONValue`.
///
/// Reading covers the whole format: scalars of every width, strings, keys, blobs, maps, untyped
/// and typed vectors (fixed-length ones too) and indirect scalars. Writing produces maps, untyped
/// vectors, strings and 64-bit scalars, all slots 8 bytes wide: larger than the smallest
/// encoding but valid for every reader.
///
/// Numbers: integers are written as signed (as serde writes them) unless they only fit
/// unsigned; a number written with a fraction or exponent is a 64-bit float. A blob reads as
/// an array of byte values.
public enum FlexBuffers {
    /// Why bytes are not a FlexBuffer.
    public struct DecodingError: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String
        public let offset: Int
        init(_ description: String, at offset: Int) {
            self.description = "flexbuffers: \(description) at byte \(offset)"
            self.offset = offset
        }
    }

    enum ValueType: UInt8 {
        case null = 0, int, uint, float, key, string, indirectInt, indirectUInt, indirectFloat, map, vector
        case vectorInt, vectorUInt, vectorFloat, vectorKey, vectorStringDeprecated
        case vectorInt2, vectorUInt2, vectorFloat2, vectorInt3, vectorUInt3, vectorFloat3, vectorInt4, vectorUInt4, vectorFloat4
        case blob, bool
        case vectorBool = 36
    }

    // MARK: - Reading

    /// The value a FlexBuffer holds.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> JSONValue {
        guard bytes.count >= 3 else { throw DecodingError("a buffer of \(bytes.count) bytes is too short", at: 0) }
        let rootWidth = Int(bytes[bytes.count - 1])
        guard [1, 2, 4, 8].contains(rootWidth) else { throw DecodingError("root width \(rootWidth) is not 1, 2, 4 or 8", at: bytes.count - 1) }
        let packed = bytes[bytes.count - 2]
        let slot = bytes.count - 2 - rootWidth
        guard slot >= 0 else { throw DecodingError("the root does not fit the buffer", at: 0) }
        var reader = Reader(bytes: bytes)
        return try reader.value(at: slot, width: rootWidth, packed: packed)
    }

    struct Reader {
        let bytes: [UInt8]
        /// Nesting depth, bounded so a hostile buffer cannot exhaust the stack.
        var depth = 0

        func check(_ offset: Int, _ count: Int) throws(DecodingError) {
            guard offset >= 0, count >= 0, offset <= bytes.count - count else {
                throw DecodingError("\(count) bytes at \(offset) run past the end of a \(bytes.count)-byte buffer", at: max(0, offset))
            }
        }

        func uint(_ offset: Int, _ width: Int) throws(DecodingError) -> UInt64 {
            try check(offset, width)
            var v: UInt64 = 0
            for i in (0..<width).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
            return v
        }

        func int(_ offset: Int, _ width: Int) throws(DecodingError) -> Int64 {
            let u = try uint(offset, width)
            let shift = UInt64(64 - width * 8)
            return Int64(bitPattern: u << shift) >> Int64(shift)
        }

        func float(_ offset: Int, _ width: Int) throws(DecodingError) -> Double {
            switch width {
            case 4: return Double(Float(bitPattern: UInt32(try uint(offset, 4))))
            case 8: return Double(bitPattern: try uint(offset, 8))
            default: throw DecodingError("a float of \(width) bytes", at: offset)
            }
        }

        /// The position an offset slot points at (offsets point backwards).
        func target(_ slot: Int, _ width: Int) throws(DecodingError) -> Int {
            let offset = try uint(slot, width)
            guard offset <= UInt64(slot) else { throw DecodingError("an offset of \(offset) points before the buffer", at: slot) }
            return slot - Int(offset)
        }

        func cString(_ at: Int) throws(DecodingError) -> String {
            try check(at, 0)
            guard let end = bytes[at...].firstIndex(of: 0) else { throw DecodingError("a key without its terminating zero", at: at) }
            return String(decoding: bytes[at..<end], as: UTF8.self)
        }

        func size(_ at: Int, _ width: Int) throws(DecodingError) -> Int {
            let n = try uint(at - width, width)
            guard n <= UInt64(bytes.count) else { throw DecodingError("a length of \(n) exceeds the buffer", at: at - width) }
            return Int(n)
        }

        mutating func value(at slot: Int, width parentWidth: Int, packed: UInt8) throws(DecodingError) -> JSONValue {
            guard let type = ValueType(rawValue: packed >> 2) else { throw DecodingError("unknown value type \(packed >> 2)", at: slot) }
            let width = 1 << Int(packed & 3)
            switch type {
            case .null: return .null
            case .int: return .number(JSONNumber(try int(slot, parentWidth)))
            case .uint: return .number(JSONNumber(literal: String(try uint(slot, parentWidth))))
            case .float: return .number(JSONNumber(try float(slot, parentWidth)))
            case .bool: return .bool(try uint(slot, parentWidth) != 0)
            case .indirectInt: return .number(JSONNumber(try int(try target(slot, parentWidth), width)))
            case .indirectUInt: return .number(JSONNumber(literal: String(try uint(try target(slot, parentWidth), width))))
            case .indirectFloat: return .number(JSONNumber(try float(try target(slot, parentWidth), width)))
            case .key: return .string(try cString(try target(slot, parentWidth)))
            case .string, .blob:
                let at = try target(slot, parentWidth)
                let n = try size(at, width)
                try check(at, n)
                return type == .string ? .string(String(decoding: bytes[at..<(at + n)], as: UTF8.self)) : .array(bytes[at..<(at + n)].map { .int(Int($0)) })
            case .map, .vector:
                depth += 1
                defer { depth -= 1 }
                guard depth <= 64 else { throw DecodingError("nesting deeper than 64 levels", at: slot) }
                let at = try target(slot, parentWidth)
                let n = try size(at, width)
                try check(at, n * width + n)
                var elements: [JSONValue] = []
                elements.reserveCapacity(n)
                for i in 0..<n {
                    elements.append(try value(at: at + i * width, width: width, packed: bytes[at + n * width + i]))
                }
                guard type == .map else { return .array(elements) }
                let keysSlot = at - 3 * width
                let keysAt = try target(keysSlot, width)
                let keysWidth = Int(try uint(at - 2 * width, width))
                guard [1, 2, 4, 8].contains(keysWidth) else { throw DecodingError("a key vector width of \(keysWidth)", at: at - 2 * width) }
                let keyCount = try size(keysAt, keysWidth)
                guard keyCount == n else { throw DecodingError("a map of \(n) values has \(keyCount) keys", at: keysAt) }
                var object: [String: JSONValue] = [:]
                for i in 0..<n { object[try cString(try target(keysAt + i * keysWidth, keysWidth))] = elements[i] }
                return .object(object)
            case .vectorInt, .vectorUInt, .vectorFloat, .vectorKey, .vectorStringDeprecated, .vectorBool:
                let at = try target(slot, parentWidth)
                let n = try size(at, width)
                let element: ValueType = type == .vectorBool ? .bool : ValueType(rawValue: type.rawValue - ValueType.vectorInt.rawValue + ValueType.int.rawValue)!
                return try typed(at: at, count: n, width: width, element: element)
            case .vectorInt2, .vectorUInt2, .vectorFloat2, .vectorInt3, .vectorUInt3, .vectorFloat3, .vectorInt4, .vectorUInt4, .vectorFloat4:
                let k = Int(type.rawValue - ValueType.vectorInt2.rawValue)
                let element = ValueType(rawValue: ValueType.int.rawValue + UInt8(k % 3))!
                return try typed(at: try target(slot, parentWidth), count: k / 3 + 2, width: width, element: element)
            }
        }

        mutating func typed(at: Int, count: Int, width: Int, element: ValueType) throws(DecodingError) -> JSONValue {
            try check(at, count * width)
            var out: [JSONValue] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                // A string element of the deprecated string vector has its length at the vector's width.
                let packed = element.rawValue << 2 | UInt8(width.trailingZeroBitCount)
                out.append(try value(at: at + i * width, width: width, packed: packed))
            }
            return .array(out)
        }
    }

    // MARK: - Writing

    /// The FlexBuffer of a value.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var writer = Writer()
        let root = writer.write(value)
        writer.align()
        writer.slot(root)
        writer.bytes.append(root.packed)
        writer.bytes.append(8)
        return writer.bytes
    }

    struct Writer {
        var bytes: [UInt8] = []

        /// A value as its parent stores it: inline bits or the position of its data.
        struct Slot {
            var type: ValueType
            var inline: UInt64 = 0
            var target: Int?
            var packed: UInt8 { type.rawValue << 2 | 3 }
        }

        mutating func align() {
            while bytes.count % 8 != 0 { bytes.append(0) }
        }

        mutating func word(_ v: UInt64) {
            for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
        }

        mutating func slot(_ s: Slot) {
            if let target = s.target { word(UInt64(bytes.count - target)) } else { word(s.inline) }
        }

        mutating func string(_ s: String) -> Slot {
            align()
            let utf8 = Array(s.utf8)
            word(UInt64(utf8.count))
            let at = bytes.count
            bytes += utf8
            bytes.append(0)
            return Slot(type: .string, target: at)
        }

        mutating func write(_ value: JSONValue) -> Slot {
            switch value {
            case .null: return Slot(type: .null)
            case .bool(let b): return Slot(type: .bool, inline: b ? 1 : 0)
            case .string(let s): return string(s)
            case .number(let n):
                if !n.isFloatLiteral, let i = Int64(n.literal) { return Slot(type: .int, inline: UInt64(bitPattern: i)) }
                if !n.isFloatLiteral, let u = UInt64(n.literal) { return Slot(type: .uint, inline: u) }
                return Slot(type: .float, inline: (n.doubleValue ?? 0).bitPattern)
            case .array(let elements):
                let slots = elements.map { write($0) }
                return vector(slots, type: .vector)
            case .object(let object):
                let keys = object.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                var keyTargets: [Int] = []
                for key in keys {
                    keyTargets.append(bytes.count)
                    bytes += Array(key.utf8)
                    bytes.append(0)
                }
                align()
                word(UInt64(keys.count))
                let keysAt = bytes.count
                for t in keyTargets { word(UInt64(bytes.count - t)) }
                let values = keys.map { write(object[$0]!) }
                align()
                word(UInt64(bytes.count - keysAt))
                word(8)
                return vector(values, type: .map)
            }
        }

        mutating func vector(_ slots: [Slot], type: ValueType) -> Slot {
            align()
            word(UInt64(slots.count))
            let at = bytes.count
            for s in slots { slot(s) }
            for s in slots { bytes.append(s.packed) }
            return Slot(type: type, target: at)
        }
    }
}
