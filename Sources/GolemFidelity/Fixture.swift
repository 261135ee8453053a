import Foundation
public import YagnaAPI

/// The real daemon's answers to the walk, committed so the simulator can be checked against
/// them on any machine (`Tests/GolemTests/Fixtures/fidelity/`).
public struct FidelityFixture: Sendable {
    public struct Entry: Sendable {
        public var step: String
        public var method: String
        public var target: String
        public var requestBody: String?
        public var response: FidelityResponse
    }

    /// What answered (`yagna 0.17.6 (a98d28015 2026-03-13)`).
    public var source: String
    public var entries: [Entry]

    public init(source: String, entries: [Entry]) {
        self.source = source
        self.entries = entries
    }

    /// The fixture of a walk's results, with the app keys given replaced by `<app-key>`.
    public init(source: String, results: [WalkResult], redacting secrets: [String]) {
        func redact(_ text: String) -> String {
            secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "<app-key>") }
        }
        self.source = source
        self.entries = results.map {
            Entry(
                step: $0.step, method: $0.request.method, target: redact($0.request.target), requestBody: $0.request.body.map(redact),
                response: FidelityResponse(status: $0.response.status, contentType: $0.response.contentType, body: Array(redact($0.response.text).utf8)))
        }
    }

    public func entry(_ step: String) -> Entry? { entries.first { $0.step == step } }

    public var json: JSONValue {
        .object([
            "source": .string(source),
            "entries": .array(entries.map { e in
                var o: [String: JSONValue] = [
                    "step": .string(e.step), "method": .string(e.method), "target": .string(e.target),
                    "status": .int(e.response.status), "body": .string(e.response.text),
                ]
                o["requestBody"] = e.requestBody.map { .string($0) } ?? .null
                o["contentType"] = e.response.contentType.map { .string($0) } ?? .null
                return .object(o)
            }),
        ])
    }

    public func write(to path: String) throws {
        try Data(JSONWriter.bytes(json, pretty: true) + [10]).write(to: URL(fileURLWithPath: path))
    }

    /// Reads a fixture file; the error names the file and what is wrong.
    public static func load(_ path: String) throws -> FidelityFixture {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw WalkError("\(path): cannot read the fixture (\(error.localizedDescription))")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(data)) } catch { throw WalkError("\(path): \(error)") }
        guard let list = value["entries"]?.arrayValue else { throw WalkError("\(path): no 'entries' array") }
        var entries: [Entry] = []
        for (i, e) in list.enumerated() {
            guard let step = e["step"]?.stringValue, let method = e["method"]?.stringValue, let target = e["target"]?.stringValue,
                let status = e["status"]?.intValue, let body = e["body"]?.stringValue
            else { throw WalkError("\(path): entry \(i) lacks step, method, target, status or body") }
            entries.append(Entry(
                step: step, method: method, target: target, requestBody: e["requestBody"]?.stringValue,
                response: FidelityResponse(status: status, contentType: e["contentType"]?.stringValue, body: Array(body.utf8))))
        }
        return FidelityFixture(source: value["source"]?.stringValue ?? "unknown", entries: entries)
    }
}

/// The comparison of the simulator's answers with the real daemon's, step by step.
public struct FidelityReport: Sendable {
    public struct Mismatch: Sendable, CustomStringConvertible {
        public var step: String
        public var request: FidelityRequest
        public var real: FidelityResponse
        public var simulator: FidelityResponse
        public var difference: ShapeDifference

        public var description: String {
            var lines = ["\(step): \(request.method) \(request.target)"]
            if let body = request.body { lines.append("  request body: \(body.prefix(200))") }
            lines.append("  real:      \(real.status) \(real.contentType ?? "-") \(real.text.prefix(400))")
            lines.append("  simulator: \(simulator.status) \(simulator.contentType ?? "-") \(simulator.text.prefix(400))")
            lines.append("  first difference at \(difference)")
            return lines.joined(separator: "\n")
        }
    }

    public var compared = 0
    public var statusOnly = 0
    public var skipped: [(String, String)] = []
    public var mismatches: [Mismatch] = []
    /// Steps of the walk that the other side has no answer for.
    public var missing: [String] = []

    public var passed: Bool { mismatches.isEmpty && missing.isEmpty }

    /// Compares the simulator's walk with the real daemon's answers.
    public static func compare(real: FidelityFixture, simulator: [WalkResult], comparison: ShapeComparison = ShapeComparison()) -> FidelityReport {
        var report = FidelityReport()
        for result in simulator {
            guard let entry = real.entry(result.step) else {
                report.missing.append(result.step)
                continue
            }
            var difference: ShapeDifference?
            switch result.check {
            case .skipped(let reason):
                report.skipped.append((result.step, reason))
                continue
            case .statusOnly:
                report.statusOnly += 1
                if entry.response.status != result.response.status {
                    difference = ShapeDifference(path: "status", expected: "\(entry.response.status)", actual: "\(result.response.status)")
                }
            case .full:
                difference = comparison.compare(real: entry.response, simulator: result.response)
            }
            report.compared += 1
            if let difference {
                report.mismatches.append(Mismatch(step: result.step, request: result.request, real: entry.response, simulator: result.response, difference: difference))
            }
        }
        let walked = Set(simulator.map(\.step))
        report.missing += real.entries.map(\.step).filter { !walked.contains($0) }
        return report
    }

    public var summary: String {
        var lines = mismatches.map(\.description)
        for step in missing { lines.append("\(step): answered on one side only (the walk and the fixture differ; regenerate the fixture)") }
        lines.append("\(compared) requests compared (\(statusOnly) by status only), \(skipped.count) skipped as one-node limits, \(mismatches.count) differ")
        return lines.joined(separator: "\n")
    }
}
