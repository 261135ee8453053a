import Foundation
import Synchronization
import YagnaAPI

extension String {
    /// The non-empty pieces between slashes (what `split(separator: "/")` gives), cut on the
    /// UTF-8 bytes rather than walking `Character`s.
    var pathSegments: [String] {
        var path = self
        return path.withUTF8 { bytes in
            OperationCatalog.segmentRanges(bytes).map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
        }
    }

    /// Whether `needle` occurs in the string, compared byte for byte in UTF-8 (the rules'
    /// substring matches; Foundation's `contains` bridges to `NSString` on every call).
    func containsBytes(_ needle: String) -> Bool {
        if needle.isEmpty { return true }
        var haystack = self
        var pattern = needle
        return haystack.withUTF8 { h in
            pattern.withUTF8 { n in
                guard n.count <= h.count else { return false }
                let first = n[0]
                var i = 0
                let last = h.count - n.count
                while i <= last {
                    if h[i] == first {
                        var j = 1
                        while j < n.count && h[i + j] == n[j] { j += 1 }
                        if j == n.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }
}

/// Compiled regular expressions by pattern: a rule's pattern is compiled once per process, not
/// on every command it is tried on.
enum RegexCache {
    private static let compiled = Mutex<[String: NSRegularExpression]>([:])

    static func regex(_ pattern: String) -> NSRegularExpression? {
        if let r = compiled.withLock({ $0[pattern] }) { return r }
        guard let r = try? NSRegularExpression(pattern: pattern) else { return nil }
        compiled.withLock { $0[pattern] = r }
        return r
    }
}
