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
