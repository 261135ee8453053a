public import YagnaAPI
import Foundation
import GolemTime

/// Which journal entries a rule speaks of: every field given must hold (a conjunction).
///
/// ```yaml
/// { op: payment.acceptInvoice, status: 200 }
/// { api: activity, status: 5xx }
/// { path: /agreements/, response: "Terminated" }
/// ```
public struct ExchangeMatcher: Sendable, Hashable, CustomStringConvertible {
    /// An operation name (`payment.acceptInvoice`), or a prefix ending in `*` (`market.*`).
    public var op: String?
    /// `market`, `activity`, `payment`, `net`, `identity`, `version`, `registry`.
    public var api: String?
    public var method: String?
    /// A substring of the path and query, or a regular expression written `/…/`.
    public var path: String?
    /// Statuses: exact codes or classes such as `4xx`.
    public var status: [String] = []
    /// A substring of the request body.
    public var request: String?
    /// A substring of the response body (or of an SSE frame).
    public var response: String?

    public init(
        op: String? = nil, api: String? = nil, method: String? = nil, path: String? = nil, status: [String] = [],
        request: String? = nil, response: String? = nil
    ) {
        self.op = op
        self.api = api
        self.method = method
        self.path = path
        self.status = status
        self.request = request
        self.response = response
    }

    public func matches(_ entry: JournalEntry) -> Bool {
        if let method, method.uppercased() != entry.method.uppercased() { return false }
        if let api, api != OperationCatalog.api(of: entry.path) { return false }
        if let op {
            guard let m = HTTPMethod(rawValue: entry.method), let spec = OperationCatalog.match(method: m, path: entry.path)?.spec else { return false }
            if op.hasSuffix("*") {
                guard spec.name.hasPrefix(op.dropLast()) else { return false }
            } else if spec.name != op {
                return false
            }
        }
        if let path, !Self.text(entry.target, contains: path) { return false }
        if !status.isEmpty, !status.contains(where: { Self.status(entry.status, is: $0) }) { return false }
        if let request, !Self.text(String(decoding: entry.requestBody, as: UTF8.self), contains: request) { return false }
        if let response {
            let body = String(decoding: entry.responseBody, as: UTF8.self)
            if !Self.text(body, contains: response), !entry.frames.contains(where: { Self.text($0.event.data, contains: response) }) { return false }
        }
        return true
    }

    static func text(_ text: String, contains pattern: String) -> Bool {
        if pattern.count > 2, pattern.hasPrefix("/"), pattern.hasSuffix("/") {
            return text.range(of: String(pattern.dropFirst().dropLast()), options: .regularExpression) != nil
        }
        return text.contains(pattern)
    }

    static func status(_ code: Int, is pattern: String) -> Bool {
        let p = pattern.lowercased()
        if p.count == 3, p.hasSuffix("xx"), let d = p.first?.wholeNumberValue { return code / 100 == d }
        return Int(p) == code
    }

    /// Whether a status pattern is valid (`200`, `4xx`).
    public static func isStatusPattern(_ pattern: String) -> Bool {
        let p = pattern.lowercased()
        if p.count == 3, p.hasSuffix("xx"), let d = p.first?.wholeNumberValue { return (1...5).contains(d) }
        return Int(p).map { (100...599).contains($0) } ?? false
    }

    public var description: String {
        var parts: [String] = []
        if let op { parts.append("op=\(op)") }
        if let api { parts.append("api=\(api)") }
        if let method { parts.append("method=\(method)") }
        if let path { parts.append("path~\(path)") }
        if !status.isEmpty { parts.append("status=\(status.joined(separator: "|"))") }
        if let request { parts.append("request~\"\(request)\"") }
        if let response { parts.append("response~\"\(response)\"") }
        return parts.isEmpty ? "{any exchange}" : "{" + parts.joined(separator: " ") + "}"
    }
}

/// A temporal rule over a run's journal: something must eventually happen, never happen, or
/// always hold, within a window of virtual time.
///
/// ```yaml
/// assert:
///   - eventually: { op: payment.acceptInvoice, status: 200 }
///     within: 60s
///   - never: { status: 5xx }
///     from: 1s
///   - always: { status: [200, 201, 204] }
///     for: { api: payment, method: POST }
///   - count: { op: market.createAgreement }
///     at-most: 3
/// ```
public struct JournalAssertion: Sendable, Hashable {
    public enum Rule: Sendable, Hashable {
        /// Some entry matches, ending no later than `within` after the start (or the run's end).
        case eventually(ExchangeMatcher, within: Duration?)
        /// No entry in the window matches.
        case never(ExchangeMatcher)
        /// Every entry in the window matching `scope` also matches the condition.
        case always(ExchangeMatcher, scope: ExchangeMatcher)
        /// The number of matching entries in the window lies in the bounds.
        case count(ExchangeMatcher, atLeast: Int?, atMost: Int?)
    }

    public var rule: Rule
    /// A name for reports; by default the rule's kind and matcher.
    public var name: String?
    /// The window of virtual time since the start: entries starting before `from` or after
    /// `until` are outside it.
    public var from: Duration?
    public var until: Duration?

    public init(_ rule: Rule, name: String? = nil, from: Duration? = nil, until: Duration? = nil) {
        self.rule = rule
        self.name = name
        self.from = from
        self.until = until
    }

    public var label: String {
        if let name { return name }
        switch rule {
        case .eventually(let m, _): return "eventually \(m)"
        case .never(let m): return "never \(m)"
        case .always(let m, let scope): return "always \(m) for \(scope)"
        case .count(let m, let lo, let hi):
            return "count \(m) " + [lo.map { "at least \($0)" }, hi.map { "at most \($0)" }].compactMap { $0 }.joined(separator: ", ")
        }
    }

    /// The failures of this rule on `journal` (empty when it holds); each names the rule, the
    /// time and the journal entries at fault.
    public func check(_ journal: [JournalEntry], end: Duration) -> [String] {
        let inWindow = journal.filter { e in
            let start = Duration.nanoseconds(e.startOffset)
            if let from, start < from { return false }
            if let until, start > until { return false }
            return true
        }
        let listLimit = 5
        func list(_ entries: [JournalEntry]) -> String {
            let shown = entries.prefix(listLimit).map(Self.describe).joined(separator: "; ")
            return entries.count > listLimit ? shown + "; … \(entries.count - listLimit) more" : shown
        }
        switch rule {
        case .eventually(let m, let within):
            let deadline = within ?? end
            if inWindow.contains(where: { m.matches($0) && Duration.nanoseconds($0.endOffset) <= deadline }) { return [] }
            let late = inWindow.filter { m.matches($0) }
            var text = "assert '\(label)': nothing matched by \(Self.seconds(deadline))"
            if within != nil { text += " (the run ended at \(Self.seconds(end)))" }
            if let first = late.first { text += "; the first match came late: \(Self.describe(first))" } else if let last = inWindow.last {
                text += "; the last exchange in the window: \(Self.describe(last))"
            }
            return [text]
        case .never(let m):
            let hits = inWindow.filter { m.matches($0) }
            guard let first = hits.first else { return [] }
            return ["assert '\(label)': \(hits.count) exchange(s) matched, the first at \(Self.seconds(.nanoseconds(first.startOffset))): \(list(hits))"]
        case .always(let m, let scope):
            let broken = inWindow.filter { scope.matches($0) && !m.matches($0) }
            guard let first = broken.first else { return [] }
            return ["assert '\(label)': broken \(broken.count) time(s), first at \(Self.seconds(.nanoseconds(first.startOffset))): \(list(broken))"]
        case .count(let m, let lo, let hi):
            let hits = inWindow.filter { m.matches($0) }
            if let lo, hits.count < lo { return ["assert '\(label)': \(hits.count) matched, fewer than \(lo)" + (hits.isEmpty ? "" : ": \(list(hits))")] }
            if let hi, hits.count > hi {
                return ["assert '\(label)': \(hits.count) matched, more than \(hi); the one over the limit at \(Self.seconds(.nanoseconds(hits[hi].startOffset))): \(list(Array(hits.dropFirst(hi))))"]
            }
            return []
        }
    }

    /// `#12 @3.204s POST /market-api/v1/agreements/…/confirm → 204`
    public static func describe(_ e: JournalEntry) -> String {
        "#\(e.sequence) @\(seconds(.nanoseconds(e.startOffset))) \(e.method) \(e.target) → \(e.status)"
    }

    /// `3.204s`: a virtual time with millisecond precision.
    public static func seconds(_ d: Duration) -> String {
        let ms = d.totalNanoseconds / 1_000_000
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - String(ms % 1000).count))\(ms % 1000)s"
    }
}
