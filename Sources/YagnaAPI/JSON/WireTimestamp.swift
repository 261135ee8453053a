public import Foundation

/// An RFC 3339 timestamp as it appears on the wire. It keeps its text, so a decoded timestamp
/// re-encodes unchanged (`+00:00` stays `+00:00`), and parses leniently: 0–9 fractional
/// digits, `Z`, a numeric offset, or none (the naive form of SSE frames, read as UTC).
public struct WireTimestamp: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The text as written on the wire.
    public let text: String
    /// Nanoseconds since the Unix epoch, if `text` parses.
    public let epochNanoseconds: Int64?

    public init(text: String) {
        self.text = text
        self.epochNanoseconds = WireTimestamp.parse(text)
    }

    /// A timestamp for a point in time, written with microseconds and `Z` as yagna does.
    public init(_ date: Date) {
        let nanos = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) * 1000
        self.init(epochNanoseconds: nanos)
    }

    /// A timestamp for a point in time with `fractionDigits` digits (yagna writes 9 for most
    /// records, 6 for agreement and payment events, 3 for market events).
    public init(_ date: Date, fractionDigits: Int) {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let nanos = Int64(seconds) * 1_000_000_000 + Int64(((date.timeIntervalSince1970 - seconds) * 1e9).rounded())
        self.init(epochNanoseconds: nanos, fractionDigits: fractionDigits)
    }

    public init(epochNanoseconds nanos: Int64, fractionDigits: Int = 6, zulu: Bool = true) {
        // The instant is what the text says: digits beyond `fractionDigits` are dropped, so a
        // client that echoes the text back (`afterTimestamp`) names exactly this instant.
        let unit = Int64(pow(10.0, Double(9 - min(max(fractionDigits, 0), 9))))
        let truncated = nanos - ((nanos % unit) + unit) % unit
        self.epochNanoseconds = truncated
        self.text = WireTimestamp.format(truncated, fractionDigits: fractionDigits, zulu: zulu)
    }

    public var date: Date? {
        epochNanoseconds.map { Date(timeIntervalSince1970: Double($0) / 1_000_000_000) }
    }

    public var description: String { text }

    public static func < (a: WireTimestamp, b: WireTimestamp) -> Bool {
        (a.epochNanoseconds ?? .min, a.text) < (b.epochNanoseconds ?? .min, b.text)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self.init(text: text)
        if epochNanoseconds == nil {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an RFC 3339 timestamp"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }

    // MARK: - Parsing and formatting (proleptic Gregorian, UTC)

    static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        var i = 0
        func num(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard (48...57).contains(c) else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func lit(_ set: String) -> Bool {
            guard i < b.count, set.utf8.contains(b[i]) else { return false }
            i += 1
            return true
        }
        guard let y = num(4), lit("-"), let mo = num(2), lit("-"), let d = num(2), lit("Tt "),
            let h = num(2), lit(":"), let mi = num(2), lit(":"), let s = num(2),
            (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var nanos: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, (48...57).contains(b[i]) {
                if digits < 9 { nanos = nanos * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        var offset = 0
        if i < b.count {
            if lit("Zz") {
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                // chrono, which reads the daemon's timestamps, takes the offset's colon as optional.
                guard let oh = num(2) else { return nil }
                _ = lit(":")
                guard let om = num(2) else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            } else { return nil }
        }
        guard i == b.count else { return nil }
        let seconds = Int64(daysFromCivil(y, mo, d)) * 86400 + Int64(h * 3600 + mi * 60 + s) - Int64(offset)
        // Nanoseconds since 1970 fit in 64 bits only between 1677 and 2262: an instant beyond
        // is taken as the earliest or latest one (a `validTo` of 9999 means "never").
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowSum) = scaled.addingReportingOverflow(nanos)
        return overflowSum ? .max : sum
    }

    /// The UTC calendar date of an instant, its second of the day and its nanoseconds.
    static func civil(_ nanos: Int64) -> (year: Int, month: Int, day: Int, secondOfDay: Int64, nanosecond: Int64) {
        var seconds = nanos / 1_000_000_000
        var frac = nanos % 1_000_000_000
        if frac < 0 { frac += 1_000_000_000; seconds -= 1 }
        var days = seconds / 86400
        var rem = seconds % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = civilFromDays(Int(days))
        return (y, m, d, rem, frac)
    }

    static func format(_ nanos: Int64, fractionDigits: Int, zulu: Bool) -> String {
        let (y, m, d, rem, frac) = civil(nanos)
        if (0...9999).contains(y) {
            // Digits written straight into bytes (this runs for every event the node dates).
            var out: [UInt8] = []
            out.reserveCapacity(32)
            func digits(_ v: Int, _ n: Int) {
                var divisor = 1
                for _ in 1..<n { divisor *= 10 }
                for _ in 0..<n {
                    out.append(UInt8(ascii: "0") + UInt8(v / divisor % 10))
                    divisor /= 10
                }
            }
            digits(y, 4)
            out.append(UInt8(ascii: "-"))
            digits(m, 2)
            out.append(UInt8(ascii: "-"))
            digits(d, 2)
            out.append(UInt8(ascii: "T"))
            digits(Int(rem / 3600), 2)
            out.append(UInt8(ascii: ":"))
            digits(Int(rem % 3600 / 60), 2)
            out.append(UInt8(ascii: ":"))
            digits(Int(rem % 60), 2)
            if fractionDigits > 0 {
                let shown = min(9, fractionDigits)
                var scale = 1
                for _ in 0..<(9 - shown) { scale *= 10 }
                out.append(UInt8(ascii: "."))
                digits(Int(frac) / scale, shown)
            }
            if zulu { out.append(UInt8(ascii: "Z")) }
            return String(decoding: out, as: UTF8.self)
        }
        return formatByParts(nanos, fractionDigits: fractionDigits, zulu: zulu)
    }

    /// `format` for any year (padded text pieces); `format` writes bytes for years 0–9999.
    static func formatByParts(_ nanos: Int64, fractionDigits: Int, zulu: Bool) -> String {
        let (y, m, d, rem, frac) = civil(nanos)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(Int(rem / 3600), 2)):\(pad(Int(rem % 3600 / 60), 2)):\(pad(Int(rem % 60), 2))"
        if fractionDigits > 0 {
            let f = pad(Int(frac), 9)
            out += "." + f.prefix(min(9, fractionDigits))
        }
        if zulu { out += "Z" }
        return out
    }

    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
