import Foundation
import YagnaAPI

/// Placeholders in scenario text (command rules' output and files, HTTP routes' bodies):
/// `{0}` the match and `{1}`… its capture groups, `{json:FILE:key.0}` a value from a JSON file in
/// the activity, `{file:FILE}` a file's text, `{now}`, `{provider}`, `{activity}`; `|04` after a
/// name pads with zeros to four characters; `{name}` a value the template was given (an HTTP
/// route's path segment); `{each:DIR}…{end}` repeats what is between once per file in the
/// activity's directory DIR, in name order, with `{name}` and `{size}` of that file. Anything
/// else in braces (JSON) stays as written.
struct Template {
    var groups: [String] = []
    var now: Date
    var provider: String
    var activityId: String
    /// Named values (`{name}`).
    var values: [String: String] = [:]
    /// A file of the activity, by path as written in the template.
    var read: (String) -> [UInt8]?
    /// The files directly in a directory of the activity: name and size.
    var list: (String) -> [(name: String, size: Int)] = { _ in [] }

    func expand(_ text: String) -> String {
        // Braces are ASCII: found and stepped over on the bytes (a search by Character walked
        // grapheme clusters through every JSON output; stepping by Character would swallow a
        // combining mark written after a brace).
        let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        guard text.utf8.contains(openBrace) else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.utf8.firstIndex(of: openBrace) {
            out += rest[..<open]
            guard let close = rest[open...].utf8.firstIndex(of: closeBrace) else {
                out.append("{")
                rest = rest[rest.utf8.index(after: open)...]
                continue
            }
            let name = String(rest[rest.utf8.index(after: open)..<close])
            if name.hasPrefix("each:"), let end = rest[close...].range(of: "{end}") {
                let body = String(rest[rest.utf8.index(after: close)..<end.lowerBound])
                for file in list(ActivityPath.normalise(String(name.dropFirst(5)))) {
                    var inner = self
                    inner.values["name"] = file.name
                    inner.values["size"] = String(file.size)
                    out += inner.expand(body)
                }
                rest = rest[end.upperBound...]
                continue
            }
            guard let value = placeholder(name) else {
                out.append("{")
                rest = rest[rest.utf8.index(after: open)...]
                continue
            }
            out += value
            rest = rest[rest.utf8.index(after: close)...]
        }
        return out + rest
    }

    /// The value of one placeholder, or `nil` when the text is not one.
    func placeholder(_ name: String) -> String? {
        // JSON in the text (`{"min": 10.2, …}`) is no placeholder: known at its first byte (when
        // no named value could start so).
        if values.isEmpty, let first = name.utf8.first, first == UInt8(ascii: "\"") || first == 0x20 || first == 0x0A || first == 0x0D || first == 0x09 {
            return nil
        }
        var key = name
        var width: Int?
        if let bar = name.lastIndex(of: "|"), name[name.index(after: bar)...].first == "0", let w = Int(name[name.index(after: bar)...]) {
            key = String(name[..<bar])
            width = w
        }
        var value: String
        switch key {
        case "now": value = WireTimestamp(now).text
        case "provider": value = provider
        case "activity": value = activityId
        default:
            if let named = values[key] {
                value = named
            } else if let n = Int(key), n >= 0 {
                guard n < groups.count || groups.isEmpty else { return nil }
                value = n < groups.count ? groups[n] : ""
            } else if key.hasPrefix("file:") {
                value = read(String(key.dropFirst(5))).map { String(decoding: $0, as: UTF8.self) } ?? ""
            } else if key.hasPrefix("json:"), let colon = key.dropFirst(5).lastIndex(of: ":") {
                let file = String(key[key.index(key.startIndex, offsetBy: 5)..<colon])
                let keyPath = key[key.index(after: colon)...].split(separator: ".").map(String.init)
                var json = read(file).flatMap { try? JSONParser.parse($0) }
                for step in keyPath { json = Int(step).flatMap { i in json?.arrayValue.flatMap { i < $0.count ? $0[i] : nil } } ?? json?[step] }
                value = json.map(Self.plain) ?? ""
            } else {
                return nil
            }
        }
        if let width, value.count < width { value = String(repeating: "0", count: width - value.count) + value }
        return value
    }

    /// A JSON value as a template shows it: strings without quotes, numbers as written.
    static func plain(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return JSONWriter.string(value)
    }
}
