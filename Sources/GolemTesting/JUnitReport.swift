public import Foundation

/// A JUnit XML report, as CI systems read them: one `<testsuite>`, one `<testcase>` per run,
/// a `<failure>` with its message for each failed one. Text is escaped for XML attributes
/// (`&` first), and characters XML 1.0 cannot hold are replaced, so any failure message parses.
public struct JUnitReport: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var className: String
        public var seconds: Double?
        /// `nil` for a passed case.
        public var failure: String?
        public init(name: String, className: String, seconds: Double? = nil, failure: String? = nil) {
            self.name = name
            self.className = className
            self.seconds = seconds
            self.failure = failure
        }
    }

    public var suite: String
    public var cases: [Case]
    /// `<properties>` of the suite (a sweep writes its scenario, seed range and shard there).
    public var properties: [(name: String, value: String)]
    public init(suite: String, cases: [Case] = [], properties: [(name: String, value: String)] = []) {
        self.suite = suite
        self.cases = cases
        self.properties = properties
    }

    public func property(_ name: String) -> String? { properties.first { $0.name == name }?.value }

    public var failures: Int { cases.filter { $0.failure != nil }.count }

    public var xml: String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuite name=\"\(Self.escape(suite))\" tests=\"\(cases.count)\" failures=\"\(failures)\">\n"
        if !properties.isEmpty {
            out += "<properties>\n"
            for p in properties { out += "<property name=\"\(Self.escape(p.name))\" value=\"\(Self.escape(p.value))\"/>\n" }
            out += "</properties>\n"
        }
        for c in cases {
            var open = "<testcase name=\"\(Self.escape(c.name))\" classname=\"\(Self.escape(c.className))\""
            if let s = c.seconds { open += " time=\"\(String(format: "%.3f", s))\"" }
            if let failure = c.failure {
                out += open + "><failure message=\"\(Self.escape(failure))\"/></testcase>\n"
            } else {
                out += open + "/>\n"
            }
        }
        return out + "</testsuite>\n"
    }

    /// Writes the report; the error names the file.
    public func write(to path: String) throws {
        do { try xml.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw JUnitWriteError(description: "cannot write the JUnit report \(path): \(error.localizedDescription)")
        }
    }

    /// Text for an XML attribute value.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            case "\r": out += "&#13;"
            default:
                // XML 1.0 has no place for other control characters, surrogates or U+FFFE/U+FFFF.
                let v = scalar.value
                if v < 0x20 || (0xFFFE...0xFFFF).contains(v) { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

public struct JUnitWriteError: Error, CustomStringConvertible {
    public var description: String
}
