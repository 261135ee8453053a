import Foundation
import YagnaAPI

/// How two answers to the same request differ, at the first place they do.
public struct ShapeDifference: Sendable, Hashable, CustomStringConvertible {
    /// Where: `status`, `content-type`, `body`, or a JSON path such as `$[0].proposal.state`.
    public var path: String
    public var expected: String
    public var actual: String

    public var description: String { "\(path): real \(expected), simulator \(actual)" }
}

/// Compares answers by rule, not by value: status, content type, the JSON shape recursively
/// (key sets, value types, null versus absent), the format of ids and timestamps, exact values
/// of enumerations, and error texts with their ids and numbers masked.
public struct ShapeComparison: Sendable {
    /// JSON keys whose contents are the provider's or the requestor's choice: only their type is compared.
    public var opaqueKeys: Set<String> = ["properties", "constraints", "usageCounterVector", "currentUsage", "credentials", "releaseTs", "name", "version"]
    /// Keys whose string values are free text shown to users: compared with ids and numbers masked.
    public var messageKeys: Set<String> = ["message", "detail", "reason", "errorMessage", "parseError", "title"]

    /// Keys whose presence is an artefact of one node holding both the requestor and the provider:
    /// compared only when both sides have them. yagna links a received debit note to the newest
    /// note of its activity in its database, which on one node is the provider's copy of the same
    /// note; across nodes the first note has no `previousDebitNoteId`.
    public var oneNodeKeys: Set<String> = ["previousDebitNoteId"]

    public init() {}

    /// The first difference between the real answer and the simulator's, or `nil` when they agree.
    public func compare(real: FidelityResponse, simulator: FidelityResponse) -> ShapeDifference? {
        if real.status != simulator.status {
            return ShapeDifference(path: "status", expected: "\(real.status)", actual: "\(simulator.status)")
        }
        let rt = Self.mediaType(real.contentType), st = Self.mediaType(simulator.contentType)
        if rt != st {
            return ShapeDifference(path: "content-type", expected: rt ?? "none", actual: st ?? "none")
        }
        if real.body.isEmpty || simulator.body.isEmpty {
            if real.body.isEmpty != simulator.body.isEmpty {
                return ShapeDifference(path: "body", expected: real.body.isEmpty ? "empty" : "\(real.body.count) bytes", actual: simulator.body.isEmpty ? "empty" : "\(simulator.body.count) bytes")
            }
            return nil
        }
        if rt?.hasSuffix("json") == true, let a = real.json, let b = simulator.json {
            return compare(a, b, path: "$", key: nil)
        }
        let a = TextFormat.masked(real.text), b = TextFormat.masked(simulator.text)
        return a == b ? nil : ShapeDifference(path: "body", expected: "'\(real.text)'", actual: "'\(simulator.text)'")
    }

    static func mediaType(_ header: String?) -> String? {
        guard let header else { return nil }
        return header.lowercased().replacingOccurrences(of: " ", with: "")
    }

    func compare(_ a: JSONValue, _ b: JSONValue, path: String, key: String?) -> ShapeDifference? {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            if let key, opaqueKeys.contains(key) { return nil }
            let xs = Set(x.keys).subtracting(oneNodeKeys.subtracting(y.keys)), ys = Set(y.keys).subtracting(oneNodeKeys.subtracting(x.keys))
            if let missing = xs.subtracting(ys).sorted().first {
                return ShapeDifference(path: "\(path).\(missing)", expected: "present (\(x[missing]!.typeName))", actual: "absent")
            }
            if let extra = ys.subtracting(xs).sorted().first {
                return ShapeDifference(path: "\(path).\(extra)", expected: "absent", actual: "present (\(y[extra]!.typeName))")
            }
            for k in xs.sorted() {
                if let d = compare(x[k]!, y[k]!, path: "\(path).\(k)", key: k) { return d }
            }
            return nil
        case (.array(let x), .array(let y)):
            if let key, opaqueKeys.contains(key) { return nil }
            if x.isEmpty != y.isEmpty {
                return ShapeDifference(path: path, expected: "\(x.count) elements", actual: "\(y.count) elements")
            }
            // Every element the simulator gives must have the shape of some element the daemon gave.
            for (i, element) in y.enumerated() {
                var first: ShapeDifference?
                for candidate in x {
                    let d = compare(candidate, element, path: "\(path)[\(i)]", key: nil)
                    if d == nil { first = nil; break }
                    if first == nil { first = d }
                }
                if let first { return first }
            }
            return nil
        case (.string(let x), .string(let y)):
            return compareStrings(x, y, path: path, key: key)
        case (.number, .number), (.bool, .bool), (.null, .null):
            if case .bool(let p) = a, case .bool(let q) = b, key == "isBatchFinished" || key == "seen", p != q {
                return ShapeDifference(path: path, expected: "\(p)", actual: "\(q)")
            }
            return nil
        default:
            return ShapeDifference(path: path, expected: a.typeName, actual: b.typeName)
        }
    }

    func compareStrings(_ x: String, _ y: String, path: String, key: String?) -> ShapeDifference? {
        if let key, opaqueKeys.contains(key) { return nil }
        let fx = TextFormat.classify(x), fy = TextFormat.classify(y)
        // The daemon drops a zero fraction (chrono's AutoSi): `…:41Z` is `…:41.000Z` of the same format.
        if case .timestamp(let a, let za) = fx, case .timestamp(let b, let zb) = fy, za == zb, a == 0 || b == 0 { return nil }
        if fx != fy { return ShapeDifference(path: path, expected: "\(fx) '\(x)'", actual: "\(fy) '\(y)'") }
        guard fx == .text else { return nil }
        if let key, messageKeys.contains(key) {
            return TextFormat.masked(x) == TextFormat.masked(y) ? nil : ShapeDifference(path: path, expected: "'\(x)'", actual: "'\(y)'")
        }
        if TextFormat.isEnumeration(x) || TextFormat.isEnumeration(y) {
            return x == y ? nil : ShapeDifference(path: path, expected: "'\(x)'", actual: "'\(y)'")
        }
        return nil
    }
}
