import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GolemTesting
import Testing

/// The JUnit files `run --junit` and `sweep --junit` write: they parse, whatever the failure says.
@Suite struct JUnitReportTests {
    final class Collector: NSObject, XMLParserDelegate {
        var cases: [(name: String, failure: String?)] = []
        var suite: [String: String] = [:]
        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            switch element {
            case "testsuite": suite = attributes
            case "testcase": cases.append((attributes["name"] ?? "", nil))
            case "failure": cases[cases.count - 1].failure = attributes["message"]
            default: break
            }
        }
    }

    @Test func failureMessagesWithMarkupParseBackExactly() throws {
        let nasty = "app: expected <ok> & got \"bad\" 'x' → 3 > 2\nline two\ttab\u{1}bell"
        let report = JUnitReport(suite: "golem-sim sweep", cases: [
            .init(name: "seed-1", className: "a&b"),
            .init(name: "seed-2", className: "a&b", seconds: 0.25, failure: nasty),
        ])
        let parser = XMLParser(data: Data(report.xml.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")\n\(report.xml)")
        #expect(collector.suite["tests"] == "2" && collector.suite["failures"] == "1")
        #expect(collector.cases.map(\.name) == ["seed-1", "seed-2"])
        #expect(collector.cases[0].failure == nil)
        // Everything but the control character comes back as written.
        #expect(collector.cases[1].failure == nasty.replacingOccurrences(of: "\u{1}", with: "\u{FFFD}"))
        #expect(!report.xml.contains("&amp;lt;"))
    }

    @Test func anUnwritablePathIsAnErrorNamingIt() {
        let report = JUnitReport(suite: "s")
        #expect {
            try report.write(to: "/nonexistent-dir/report.xml")
        } throws: { "\($0)".contains("/nonexistent-dir/report.xml") }
    }
}

/// Sharded sweeps: the partition of seeds, and the merge of the shards' reports.
@Suite struct SweepShardTests {
    @Test func shardsPartitionTheRange() throws {
        for (range, n) in [(UInt64(1)...20, 3), (5...5, 4), (1...1000, 7), (10...12, 1)] {
            var all: [UInt64] = []
            for k in 1...n { all += try #require(SweepShard("\(k)/\(n)")).seeds(of: range) }
            #expect(all.sorted() == Array(range), "\(range) in \(n)")
            #expect(Set(all).count == all.count)
        }
        #expect(SweepShard("2/3")?.seeds(of: 1...10) == [2, 5, 8])
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3", ""] { #expect(SweepShard(bad) == nil, "\(bad)") }
    }

    func shard(_ k: Int, of n: Int, scenario: String = "s", seeds: String = "1..6", failing: Set<UInt64> = []) throws -> (file: String, report: JUnitReport) {
        let cases = SweepShard(index: k, count: n).seeds(of: 1...6).map { seed in
            JUnitReport.Case(name: "seed-\(seed)", className: scenario, failure: failing.contains(seed) ? "app: boom & <bust>" : nil)
        }
        let written = JUnitReport(suite: "golem-sim sweep", cases: cases, properties: [("scenario", scenario), ("seeds", seeds), ("shard", "\(k)/\(n)")])
        // Through the XML, as the merge reads it from files.
        return ("shard\(k).xml", try JUnitReport.parse(Data(written.xml.utf8), file: "shard\(k).xml"))
    }

    @Test func theMergeIsWhatOneMachineWouldHaveWritten() throws {
        let merged = try JUnitReport.mergeShards([try shard(2, of: 3, failing: [5]), try shard(1, of: 3), try shard(3, of: 3)])
        #expect(merged.cases.map(\.name) == (1...6).map { "seed-\($0)" })
        #expect(merged.cases.filter { $0.failure != nil }.map(\.name) == ["seed-5"])
        #expect(merged.cases.first { $0.name == "seed-5" }?.failure == "app: boom & <bust>")
        #expect(merged.property("scenario") == "s" && merged.property("seeds") == "1..6" && merged.property("shard") == nil)
    }

    @Test func mismatchedShardsAreRefusedWithTheReason() throws {
        func refusal(_ inputs: [(file: String, report: JUnitReport)]) -> String {
            do { _ = try JUnitReport.mergeShards(inputs); return "" } catch { return "\(error)" }
        }
        #expect(refusal([try shard(1, of: 2), try shard(2, of: 2, scenario: "other")]).contains("scenario 'other'"))
        #expect(refusal([try shard(1, of: 2), try shard(2, of: 2, seeds: "1..7")]).contains("covers seeds 1..7"))
        #expect(refusal([try shard(1, of: 2), try shard(2, of: 3)]).contains("same count"))
        #expect(refusal([try shard(1, of: 2), try shard(1, of: 2)]).contains("both shard 1/2"))
        #expect(refusal([try shard(1, of: 3), try shard(3, of: 3)]).contains("2/3 missing"))
        let plain = JUnitReport(suite: "golem-sim sweep", cases: [.init(name: "seed-1", className: "s")])
        #expect(refusal([("plain.xml", plain)]).contains("plain.xml: not a shard report"))
        #expect(throws: JUnitMergeError.self) { try JUnitReport.parse(Data("not xml".utf8), file: "g.xml") }
    }
}
