import Foundation
import YagnaAPI

/// How the daemon words what it cannot deserialise: its REST layer (actix with serde) answers
/// `Json deserialize error: …`, `Query deserialize error: …` and `Path deserialize error: …`,
/// as JSON `{"message": …}` in the market API and as `text/plain` elsewhere.
extension NodeCore {
    /// Which way an API reports deserialisation errors.
    enum ErrorStyle {
        /// `{"message": "…"}` as `application/json` (the market API).
        case json
        /// The text as `text/plain; charset=utf-8` (activity, payment, net).
        case text
    }

    static let plainText = "text/plain; charset=utf-8"

    static func deserializeError(_ text: String, _ style: ErrorStyle) -> YagnaResponse {
        switch style {
        case .json: message(400, text)
        case .text: YagnaResponse(status: 400, headers: [Header("Content-Type", plainText)], body: Array(text.utf8))
        }
    }

    /// A query value the daemon could not read: always text/plain.
    static func queryError(_ detail: String) -> YagnaResponse {
        YagnaResponse(status: 400, headers: [Header("Content-Type", plainText)], body: Array("Query deserialize error: \(detail)".utf8))
    }

    /// An id in the path of the wrong format: text/plain holding a JSON message.
    static func pathError(_ detail: String) -> YagnaResponse {
        let body = JSONWriter.string(.object(["message": .string("Path deserialize error: \(detail)")]))
        return YagnaResponse(status: 400, headers: [Header("Content-Type", plainText)], body: Array(body.utf8))
    }

    /// Decodes a JSON body, or answers as the daemon does for a body serde rejects.
    func body<T: Decodable>(_ type: T.Type, _ request: NodeRequest, style: ErrorStyle) -> Result<T, BadRequest> {
        // Always decoded, also in-process: decoding is the daemon's check of the body (see `exec`
        // for the one body taken as it is).
        do { return .success(try WireDecoder().decode(type, from: try request.jsonBody())) } catch {
            return .failure(BadRequest(response: NodeCore.deserializeError("Json deserialize error: " + SerdeWording.describe(error, body: request.body), style)))
        }
    }

    /// The refusal of a request body handed over in-process that differs from what its JSON
    /// decodes to (a debug build's check: the pass-through would hide a wire difference).
    static func handedOverMismatch(_ type: Any.Type) -> BadRequest {
        BadRequest(response: message(500, "golem-sim: the \(type) handed over in-process differs from what its JSON decodes to"))
    }
}

/// serde_json's wording for the errors the simulator finds (line and column are approximate;
/// clients show the text, none parses the position).
enum SerdeWording {
    static func describe(_ error: any Error, body: [UInt8]) -> String {
        let (line, column) = position(body, at: body.count)
        if let syntax = syntaxError(body) { return syntax }
        guard let e = error as? DecodingError else { return "\(error) at line \(line) column \(column)" }
        switch e {
        case .keyNotFound(let key, _):
            return "missing field `\(key.stringValue)` at line \(line) column \(column)"
        case .typeMismatch(let type, let context):
            let found = describeValue(at: context.codingPath, in: body)
            return "invalid type: \(found), expected \(expected(type)) at line \(line) column \(column)"
        case .valueNotFound(let type, _):
            return "invalid type: null, expected \(expected(type)) at line \(line) column \(column)"
        case .dataCorrupted(let context):
            if let variant = unknownVariant(context.codingPath, in: body) { return variant }
            return "input contains invalid characters at line \(line) column \(column)"
        @unknown default:
            return "\(e) at line \(line) column \(column)"
        }
    }

    /// The enums of request bodies serde reads by name, with their variants in declaration order.
    static let variants: [String: [String]] = [
        "rejectionReason": ["UNSOLICITED_SERVICE", "BAD_SERVICE", "INCORRECT_AMOUNT"],
    ]

    /// serde's "unknown variant" for a string that names none of an enum's variants, placed
    /// just after the string as serde_json reads it; `nil` for any other corruption.
    static func unknownVariant(_ path: [any CodingKey], in body: [UInt8]) -> String? {
        guard let key = path.last?.stringValue, let names = variants[key], var value = try? JSONParser.parse(body) else { return nil }
        for k in path {
            guard let v = value[k.stringValue] else { return nil }
            value = v
        }
        guard let text = value.stringValue else { return nil }
        let needle = Array(JSONWriter.string(.string(text)).utf8)
        let keyBytes = Array("\"\(key)\"".utf8)
        guard let keyAt = firstIndex(of: keyBytes, in: body, from: 0), let at = firstIndex(of: needle, in: body, from: keyAt + keyBytes.count) else { return nil }
        let (line, column) = position(body, at: at + needle.count)
        let expected = names.map { "`\($0)`" }.joined(separator: ", ")
        return "unknown variant `\(text)`, expected one of \(expected) at line \(line) column \(column)"
    }

    static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        for i in start...(bytes.count - needle.count) where bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    /// serde's words for the value found at `path` in the body (`integer `5``, `string "no"`).
    static func describeValue(at path: [any CodingKey], in body: [UInt8]) -> String {
        guard var value = try? JSONParser.parse(body) else { return "value" }
        for key in path {
            if let i = key.intValue, let a = value.arrayValue, a.indices.contains(i) { value = a[i] } else if let v = value[key.stringValue] { value = v } else { return "value" }
        }
        switch value {
        case .null: return "null"
        case .bool(let b): return "boolean `\(b)`"
        case .number(let n): return n.isFloatLiteral ? "floating point `\(n.literal)`" : "integer `\(n.literal)`"
        case .string(let t): return "string \"\(t)\""
        case .array: return "sequence"
        case .object: return "map"
        }
    }

    static func expected(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Double.Type, is Float.Type: "f64"
        case is any FixedWidthInteger.Type: "u32"
        default: "a map"
        }
    }

    /// The line and column (1-based) of byte `offset`.
    static func position(_ body: [UInt8], at offset: Int) -> (Int, Int) {
        var line = 1, column = 0
        for byte in body.prefix(offset) {
            if byte == 10 { line += 1; column = 0 } else { column += 1 }
        }
        return (line, column)
    }

    /// serde_json's message for a body that is not JSON, or `nil` when it parses.
    static func syntaxError(_ body: [UInt8]) -> String? {
        do {
            _ = try JSONParser.parse(body)
            return nil
        } catch {
            let offset = min(error.offset, body.count)
            let (line, column) = position(body, at: offset + 1)
            if offset >= body.count || body[offset...].allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) {
                let (eofLine, eofColumn) = position(body, at: body.count)
                return "EOF while parsing \(openContainer(body)) at line \(eofLine) column \(eofColumn)"
            }
            let c = body[offset]
            let isLetter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            if isLetter { return "expected ident at line \(line) column \(column)" }
            return "expected value at line \(line) column \(column)"
        }
    }

    /// What the parser was inside when the body ended: `a value` after a `:` or `,` or at the
    /// start, else the innermost open `an object`, `a list` or `a string`.
    static func openContainer(_ body: [UInt8]) -> String {
        var stack: [UInt8] = []
        var inString = false, escaped = false
        var last: UInt8 = 0
        for b in body {
            if inString {
                if escaped { escaped = false } else if b == 92 { escaped = true } else if b == 34 { inString = false }
                last = b
                continue
            }
            switch b {
            case 34: inString = true
            case 123, 91: stack.append(b)
            case 125, 93: _ = stack.popLast()
            default: break
            }
            if b != 32 && b != 10 && b != 13 && b != 9 { last = b }
        }
        if inString { return "a string" }
        if stack.isEmpty || last == 58 || last == 44 && stack.last == 91 { return "a value" }
        return stack.last == 123 ? "an object" : "a list"
    }
}
