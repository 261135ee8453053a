public import Foundation

extension Decimal {
    /// An amount read from its wire text (`"0.0125"`, `"-3"`) as `Decimal(string:locale:)` reads
    /// it with the POSIX locale, value and memory layout alike; `nil` where Foundation gives
    /// `nil`. Plain amounts are read without Foundation (`DecimalParsing`).
    public init?(wireText text: String) {
        if let fast = DecimalParsing.plain(text) {
            self = fast
        } else if let d = Decimal(string: text, locale: DecimalParsing.posix) {
            self = d
        } else {
            return nil
        }
    }
}

/// Reads the amounts the daemon writes — an optional minus, digits, an optional point and more
/// digits, at most 19 significant digits and 100 digits in all — without Foundation's parser, which looks up the
/// locale's decimal separator through ICU on every call (an amount is read for every debit
/// note, invoice and allocation, by the client and by the referee).
///
/// The value is written into the layout `DecimalText` reads (see there), with the trailing
/// zeros of the significand folded into the exponent as Foundation does. Foundation does not
/// promise that layout: samples of every shape are read both ways once, and if any differs
/// byte for byte, every amount is read by Foundation. Zero (whose exponent Foundation keeps in
/// some spellings and not in others), exponents and anything else go to Foundation too.
enum DecimalParsing {
    static let posix = Locale(identifier: "en_US_POSIX")

    /// The longest text, in digits, the fast path reads (an amount has a few dozen at most).
    static let maxDigits = 100

    static func plain(_ text: String) -> Decimal? {
        guard layoutChecked else { return nil }
        return read(text)
    }

    static func read(_ text: String) -> Decimal? {
        var text = text
        return text.withUTF8 { bytes -> Decimal? in
            var i = 0
            let negative = bytes.first == UInt8(ascii: "-")
            if negative { i = 1 }
            var significand: UInt64 = 0
            var digits = 0, significant = 0, fraction = 0
            // Zeros after the last non-zero digit so far: they join the significand only if
            // another non-zero digit follows, otherwise the exponent (Foundation's compact form).
            var zeros = 0
            var point = false
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: ".") {
                    guard !point else { return nil }
                    point = true
                    continue
                }
                let d = b &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                digits += 1
                // Foundation gives up on very long texts (past 128 digits after the point, say)
                // by rules of its own: leave every text that long to it.
                guard digits <= maxDigits else { return nil }
                if point { fraction += 1 }
                if d == 0 {
                    if significand != 0 { zeros += 1 }
                    continue
                }
                significant += zeros + 1
                guard significant <= 19 else { return nil }
                for _ in 0..<zeros { significand *= 10 }
                zeros = 0
                significand = significand * 10 + UInt64(d)
            }
            guard digits > 0, significand != 0 else { return nil }
            let exponent = zeros - fraction
            guard exponent >= -128, exponent <= 127 else { return nil }
            return make(significand, exponent: exponent, negative: negative)
        }
    }

    /// A compact `Decimal` of a non-zero significand that fits 64 bits.
    private static func make(_ significand: UInt64, exponent: Int, negative: Bool) -> Decimal {
        var value = Decimal()
        let length = (64 - significand.leadingZeroBitCount + 15) / 16
        withUnsafeMutableBytes(of: &value) { raw in
            raw[0] = UInt8(bitPattern: Int8(exponent))
            raw[1] = UInt8(length << 4) | (negative ? 0x08 : 0) | 0x04
            raw[2] = 0
            raw[3] = 0
            for w in 0..<8 {
                let word = w < 4 ? UInt16(truncatingIfNeeded: significand >> (16 * w)) : 0
                raw[4 + 2 * w] = UInt8(truncatingIfNeeded: word)
                raw[5 + 2 * w] = UInt8(truncatingIfNeeded: word >> 8)
            }
        }
        return value
    }

    /// Texts of every shape the fast path reads: whole, fractional, below one, negative,
    /// trailing zeros, leading zeros, one to four words, both ends of the exponent.
    static let samples = [
        "1", "7", "65535", "65536", "9223372036854775807", "1500", "1.500", "-1.20", "0.0001", "00012.3400", "-.5", "5.",
        "4294967296.5", "281474976710656.25", "0.0125", "1234567890123456789", "-9999999999999999999",
        "0." + String(repeating: "0", count: 98) + "1", "1" + String(repeating: "0", count: 99),
    ]

    static let layoutChecked: Bool = samples.allSatisfy { text in
        guard let fast = read(text), let slow = Decimal(string: text, locale: posix) else { return false }
        return withUnsafeBytes(of: fast) { a in withUnsafeBytes(of: slow) { b in a.elementsEqual(b) } }
    }
}
