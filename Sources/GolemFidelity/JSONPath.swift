public import YagnaAPI

/// The small path language of walk captures: `$`, `.key`, `[N]` (negative counts from the end),
/// and `[a.b=value]` (the first element whose field `a.b` is the string `value`).
enum JSONPath {
    static func select(_ path: String, in root: JSONValue) -> JSONValue? {
        guard path.hasPrefix("$") else { return nil }
        var value = root
        var rest = Substring(path.dropFirst())
        while !rest.isEmpty {
            if rest.first == "." {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                guard let next = value[String(rest[..<end])] else { return nil }
                value = next
                rest = rest[end...]
            } else if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                let inner = String(rest[rest.index(after: rest.startIndex)..<close])
                rest = rest[rest.index(after: close)...]
                guard let array = value.arrayValue else { return nil }
                if let n = Int(inner) {
                    let i = n < 0 ? array.count + n : n
                    guard array.indices.contains(i) else { return nil }
                    value = array[i]
                } else if let eq = inner.firstIndex(of: "=") {
                    let field = "$." + inner[..<eq], wanted = String(inner[inner.index(after: eq)...])
                    guard let hit = array.first(where: { select(field, in: $0)?.stringValue == wanted }) else { return nil }
                    value = hit
                } else {
                    return nil
                }
            } else {
                return nil
            }
        }
        return value
    }
}

/// Entry points of the walk's template and path languages, for tests.
public enum WalkRunnerProbe {
    public static func fill(_ template: String, _ variables: [String: String]) throws -> String {
        try WalkRunner.fill(template, variables, step: "probe")
    }
    public static func select(_ path: String, _ value: JSONValue) -> String? {
        JSONPath.select(path, in: value).map { $0.stringValue ?? JSONWriter.string($0) }
    }
}
