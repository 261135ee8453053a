import Foundation
public import YagnaAPI

/// The relevant fields of requests, with volatile parts (ids, timestamps, expirations, gftp
/// URLs, addresses) left out, so operations compare by meaning.
public enum Normalize {
    /// An allocation: its budget and payment platform.
    static func allocation(_ body: JSONValue?) -> JSONValue {
        var out: [String: JSONValue] = [:]
        if let a = body?["totalAmount"] { out["totalAmount"] = .string(amount(a)) }
        if let p = body?["paymentPlatform"], !p.isNull { out["paymentPlatform"] = p }
        return .object(out)
    }

    /// A demand: the image it asks for, its runtime, subnet and constraint atoms.
    static func demand(_ body: JSONValue?) -> JSONValue {
        guard let body, let props = body["properties"] else { return [:] }
        var out: [String: JSONValue] = [:]
        if let pkg = property(props, "golem.srv.comp.task_package")?.stringValue {
            // hash:sha3:<hash>:<url> — the URL depends on the registry's address.
            let parts = pkg.split(separator: ":")
            out["image"] = .string(parts.count >= 3 ? parts[0...2].joined(separator: ":") : pkg)
        }
        for key in ["golem.node.debug.subnet", "golem.srv.comp.vm.package_format", "golem.runtime.name"] {
            if let v = property(props, key) { out[key] = v }
        }
        return .object(out)
    }

    /// The commands of an exec batch.
    static func exec(_ body: JSONValue?) -> JSONValue {
        .array(commands(body).map(command))
    }

    /// The commands of an exec body, whether sent as `{"text": "<json>"}` or as an array.
    static func commands(_ body: JSONValue?) -> [JSONValue] {
        body?["text"]?.stringValue.flatMap { try? JSONParser.parse($0) }?.arrayValue ?? body?["commands"]?.arrayValue ?? body?.arrayValue ?? []
    }

    static func command(_ c: JSONValue) -> JSONValue {
        guard case .object(let o) = c, let (name, value) = o.first else { return c }
        switch name {
        case "run":
            var out: [String: JSONValue] = ["entry_point": value["entry_point"] ?? value["entryPoint"] ?? .null]
            out["args"] = value["args"] ?? .array([])
            return ["run": .object(out)]
        case "transfer":
            return ["transfer": ["from": location(value["from"]), "to": location(value["to"])]]
        case "deploy":
            var out: [String: JSONValue] = [:]
            if let env = value["env"], !env.isNull { out["env"] = env }
            if let v = value["volumes"], !v.isNull { out["volumes"] = v }
            if let n = value["net"]?.arrayValue, !n.isEmpty { out["net"] = .int(n.count) }
            return ["deploy": .object(out)]
        case "start": return ["start": ["args": value["args"] ?? .array([])]]
        default: return [name: [:]]
        }
    }

    /// A transfer location: gftp URLs are volatile; container paths stay.
    static func location(_ v: JSONValue?) -> JSONValue {
        guard let s = v?.stringValue else { return .null }
        if s.hasPrefix("gftp://") { return "gftp:<url>" }
        return .string(s)
    }

    /// A command as one readable line (`run /bin/sh -c date`).
    public static func commandLine(_ c: JSONValue) -> String {
        guard case .object(let o) = c, let (name, value) = o.first else { return "?" }
        switch name {
        case "run":
            let entry = value["entry_point"]?.stringValue ?? value["entryPoint"]?.stringValue ?? ""
            let args = (value["args"]?.arrayValue ?? []).compactMap(\.stringValue)
            return (["run", entry] + args).joined(separator: " ")
        case "transfer":
            let from = value["from"]?.stringValue ?? ""
            let to = value["to"]?.stringValue ?? ""
            return "transfer \(from.hasPrefix("gftp://") ? "gftp" : from) → \(to.hasPrefix("gftp://") ? "gftp" : to)"
        default: return name
        }
    }

    /// A property from a flat or nested property object.
    public static func property(_ props: JSONValue, _ key: String) -> JSONValue? {
        if let v = props[key] { return v }
        var node: JSONValue? = props
        for part in key.split(separator: ".") { node = node?[String(part)] }
        return node
    }

    /// An amount as a canonical decimal string.
    public static func amount(_ v: JSONValue) -> String {
        let text: String
        switch v {
        case .string(let s): text = s
        case .number(let n): text = n.literal
        default: return "\(v)"
        }
        guard let d = Decimal(wireText: text) else { return text }
        // Foundation's text of the value (`wireString` writes it as `description` does, faster).
        return d.wireString
    }

    static func output(_ v: JSONValue) -> String {
        if let s = v.stringValue { return s }
        if let s = v["str"]?.stringValue { return s }
        return JSONWriter.string(v)
    }

    static func short(_ s: String) -> String {
        let line = trimmedLine(s) ?? s.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " ⏎ ")
        return line.count > 80 ? String(line.prefix(77)) + "…" : line
    }

    /// `short`'s trimmed line without Foundation, for the common case (it runs for every
    /// result a replay sees): ASCII whitespace cut from both ends leaves ASCII non-space ends
    /// and no newline inside. `nil` otherwise (Unicode spaces at an end, lines to join).
    static func trimmedLine(_ s: String) -> String? {
        let bytes = Array(s.utf8)
        func space(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        var start = 0, end = bytes.count
        while start < end, space(bytes[start]) { start += 1 }
        while end > start, space(bytes[end - 1]) { end -= 1 }
        if start == end { return "" }
        guard bytes[start] < 0x80, bytes[end - 1] < 0x80, !bytes[start..<end].contains(0x0A) else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    static func pricing(_ proposal: JSONValue) -> String {
        guard let props = proposal["properties"], let coeffs = property(props, "golem.com.pricing.model.linear.coeffs")?.arrayValue else {
            return "no linear pricing"
        }
        return "linear " + coeffs.map { $0.doubleValue.map { String($0) } ?? "?" }.joined(separator: ", ")
    }
}
