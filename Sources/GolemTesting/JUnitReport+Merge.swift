public import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

extension JUnitReport {
    /// Reads a report this project wrote (one suite; cases with their failures; properties).
    public static func parse(_ data: Data, file: String) throws -> JUnitReport {
        let reader = Reader()
        let parser = XMLParser(data: data)
        parser.delegate = reader
        guard parser.parse(), let suite = reader.suite else {
            let why = parser.parserError.map { "\($0.localizedDescription) at line \(parser.lineNumber)" } ?? "no <testsuite> in it"
            throw JUnitMergeError("\(file): not a JUnit report golem-sim can read (\(why))")
        }
        return JUnitReport(suite: suite, cases: reader.cases, properties: reader.properties)
    }

    private final class Reader: NSObject, XMLParserDelegate {
        var suite: String?
        var cases: [Case] = []
        var properties: [(name: String, value: String)] = []
        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            switch element {
            case "testsuite": suite = attributes["name"] ?? ""
            case "property": properties.append((attributes["name"] ?? "", attributes["value"] ?? ""))
            case "testcase":
                cases.append(Case(name: attributes["name"] ?? "", className: attributes["classname"] ?? "", seconds: attributes["time"].flatMap(Double.init)))
            case "failure" where !cases.isEmpty: cases[cases.count - 1].failure = attributes["message"] ?? ""
            default: break
            }
        }
    }

    /// Merges the shard reports of one sweep (`sweep --shard K/N --junit …`) into the report one
    /// machine would have written: the same scenario, seed range and shard count in every
    /// input, each shard once, all of them present; cases in seed order.
    public static func mergeShards(_ reports: [(file: String, report: JUnitReport)]) throws -> JUnitReport {
        guard let first = reports.first else { throw JUnitMergeError("no shard reports to merge") }
        func key(_ r: JUnitReport, _ file: String) throws -> (scenario: String, seeds: String, shard: SweepShard) {
            guard let scenario = r.property("scenario"), let seeds = r.property("seeds"), let shardText = r.property("shard"),
                let shard = SweepShard(shardText)
            else { throw JUnitMergeError("\(file): not a shard report (it lacks the scenario, seeds and shard properties `golem-sim sweep --shard K/N --junit` writes)") }
            return (scenario, seeds, shard)
        }
        let base = try key(first.report, first.file)
        var seen: [Int: String] = [:]
        var cases: [Case] = []
        for (file, report) in reports {
            let k = try key(report, file)
            guard k.scenario == base.scenario else {
                throw JUnitMergeError("\(file) is a sweep of scenario '\(k.scenario)', \(first.file) of '\(base.scenario)': merge the shards of one sweep")
            }
            guard k.seeds == base.seeds else {
                throw JUnitMergeError("\(file) covers seeds \(k.seeds), \(first.file) seeds \(base.seeds): merge the shards of one sweep")
            }
            guard k.shard.count == base.shard.count else {
                throw JUnitMergeError("\(file) is shard \(k.shard), \(first.file) shard \(base.shard): every shard must be of the same count")
            }
            if let other = seen[k.shard.index] { throw JUnitMergeError("\(file) and \(other) are both shard \(k.shard)") }
            seen[k.shard.index] = file
            cases += report.cases
        }
        let missing = (1...base.shard.count).filter { seen[$0] == nil }
        guard missing.isEmpty else {
            throw JUnitMergeError("shard(s) \(missing.map { "\($0)/\(base.shard.count)" }.joined(separator: ", ")) missing: give every shard's report")
        }
        func seed(_ c: Case) -> UInt64 { UInt64(c.name.replacingOccurrences(of: "seed-", with: "")) ?? .max }
        cases.sort { seed($0) < seed($1) }
        return JUnitReport(suite: first.report.suite, cases: cases, properties: [("scenario", base.scenario), ("seeds", base.seeds)])
    }
}

public struct JUnitMergeError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
