import Foundation
import Testing
@testable import YagnaAPI

/// The strict JSON parser and writer: where bad or cut-off text is refused, escapes, kept number literals, nesting, layout.
@Suite struct JSONParserEdgeCaseTests {
    /// Parses `text` expecting a syntax error, and returns it.
    static func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParser.SyntaxError? {
        return #expect(throws: JSONParser.SyntaxError.self, "\(text)", sourceLocation: sourceLocation) { try JSONParser.parse(text) }
    }

    @Test func truncatedAndMalformedTextIsRefusedAtTheOffendingByte() {
        let cases: [(text: String, offset: Int, message: String)] = [
            ("", 0, "unexpected end of input"),
            (#"{"a":"#, 5, "unexpected end of input"),
            ("[1,2", 4, "unterminated array"),
            (#"{"a":1"#, 6, "unterminated object"),
            (#"{"a""#, 4, "expected ':' after key"),
            ("{", 1, "expected a string key"),
            (#"{"a":1,}"#, 7, "expected a string key"),
            ("{1:2}", 1, "expected a string key"),
            ("[1 2]", 3, "expected ',' or ']' in array"),
            (#"{"a":1 "b":2}"#, 7, "expected ',' or '}' in object"),
            (#""abc"#, 4, "unterminated string"),
            (#""abc\"#, 5, "unterminated escape"),
            ("tru", 3, "expected 'true'"),
            ("fals", 4, "expected 'false'"),
            ("[1,]", 3, "unexpected character ']'"),
            (#"{"a":1} x"#, 8, "unexpected text after the JSON value"),
            ("[1]]", 3, "unexpected text after the JSON value"),
        ]
        for (text, offset, message) in cases {
            let error = Self.failure(text)
            #expect(error?.message == message, "\(text)")
            #expect(error?.offset == offset, "\(text)")
            #expect(error?.line == 1, "\(text)")
            #expect(error?.column == offset + 1, "\(text)")
        }
    }

    @Test func malformedNumbersAreRefusedWhereTheyGoWrong() {
        let cases: [(text: String, offset: Int, message: String)] = [
            ("-", 1, "expected digits"),
            ("-x", 1, "expected digits"),
            ("1.", 2, "expected digits after '.'"),
            ("1.e5", 2, "expected digits after '.'"),
            ("1e", 2, "expected exponent digits"),
            ("1e+", 3, "expected exponent digits"),
            ("-01", 3, "leading zero in number"),
            ("00", 2, "leading zero in number"),
            (".5", 0, "unexpected character '.'"),
            ("+1", 0, "unexpected character '+'"),
            ("1.5.2", 3, "unexpected text after the JSON value"),
            ("0x10", 1, "unexpected text after the JSON value"),
        ]
        for (text, offset, message) in cases {
            let error = Self.failure(text)
            #expect(error?.message == message, "\(text)")
            #expect(error?.offset == offset, "\(text)")
        }
    }

    @Test func badEscapesAndLoneSurrogatesAreRefusedWithTheirOffset() {
        let cases: [(text: String, offset: Int, message: String)] = [
            (#""\x""#, 3, #"invalid escape '\x'"#),
            (#""\u12"#, 3, #"truncated \u escape"#),
            (#""\u00g0""#, 5, #"invalid hex digit in \u escape"#),
            (#""\ud83d""#, 7, #"unpaired surrogate in \u escape"#),
            (#""\ud83dx""#, 7, #"unpaired surrogate in \u escape"#),
            (#""\ud83d\u0041""#, 13, "invalid low surrogate"),
            (#""\udc00""#, 7, "invalid unicode scalar"),
            ("\"a\tb\"", 3, "control character in string"),
        ]
        for (text, offset, message) in cases {
            let error = Self.failure(text)
            #expect(error?.message == message, "\(text)")
            #expect(error?.offset == offset, "\(text)")
        }
    }

    @Test func errorsInMultiLineTextCountLinesAndColumns() {
        let misplaced = Self.failure("{\n  \"a\": 1,\n  \"b\": ?\n}")
        #expect(misplaced?.offset == 19)
        #expect(misplaced?.line == 3)
        #expect(misplaced?.column == 8)
        #expect(misplaced?.description == "invalid JSON at line 3, column 8: unexpected character '?'")
        let cutOff = Self.failure("{\"a\":\n")
        #expect(cutOff?.message == "unexpected end of input")
        #expect(cutOff?.offset == 6)
        #expect(cutOff?.line == 2)
        #expect(cutOff?.column == 1)
        let rawNewline = Self.failure("[\"a\nb\"]")
        #expect(rawNewline?.message == "control character in string")
        #expect(rawNewline?.line == 2)
    }

    @Test func escapesAndSurrogatePairsDecodeToTheirScalars() throws {
        #expect(try JSONParser.parse(#""\u0041\u00e9\u00E9\u4e2d\uD834\uDD1E""#) == .string("Aéé中𝄞"))
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        // Raw UTF-8 before the first escape is kept when the parser leaves its fast path.
        #expect(try JSONParser.parse(#""prefix é then \n""#) == .string("prefix é then \n"))
        #expect(try JSONParser.parse(#""a\u0000b""#) == .string("a\u{0}b"))
        #expect(try JSONParser.parse(#"{"k\u00e9y":1}"#) == ["kéy": 1])
        // Invalid UTF-8 inside a string is repaired, not a crash.
        let invalidUTF8: [UInt8] = [0x22, 0x61, 0xFF, 0x22]
        #expect(try JSONParser.parse(invalidUTF8) == .string("a\u{FFFD}"))
    }

    @Test func numberLiteralsAreKeptAsWrittenAndReadAsIntegersOnlyWhenExact() throws {
        let big = "123456789012345678901234567890"
        #expect(try JSONParser.parse(big) == .number(JSONNumber(literal: big)))
        #expect(try JSONParser.parse(big).intValue == nil)
        #expect(try JSONParser.parse(big).doubleValue == 1.2345678901234568e29)
        // 2^53 + 1 is exact through Int; as a float literal that large it is not trusted.
        #expect(try JSONParser.parse("9007199254740993").intValue == 9_007_199_254_740_993)
        #expect(try JSONParser.parse("9007199254740993.0").intValue == nil)
        #expect(try JSONParser.parse("-9223372036854775808").intValue == Int.min)
        #expect(try JSONParser.parse("9223372036854775808").intValue == nil)
        let scaled = try JSONParser.parse("-12.5e+3")
        #expect(scaled == .number(JSONNumber(literal: "-12.5e+3")))
        #expect(scaled.intValue == -12_500)
        #expect(scaled.doubleValue == -12_500)
        #expect(try JSONParser.parse("1E2").intValue == 100)
        #expect(try JSONParser.parse("1.5").intValue == nil)
        #expect(try JSONParser.parse("1e400").intValue == nil)
        #expect(try JSONParser.parse("-0").intValue == 0)
        #expect(!JSONNumber(literal: "-0").isFloatLiteral)
        #expect(JSONNumber(literal: "1E2").isFloatLiteral)
        #expect(JSONNumber(literal: "2.50").isFloatLiteral)
    }

    @Test func nestingIsCappedAt512LevelsWithoutExhaustingTheStack() throws {
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        var level = 0
        var current: JSONValue? = try JSONParser.parse(deepest)
        while let items = current?.arrayValue {
            level += 1
            current = items.first
        }
        #expect(level == 512)
        let tooDeep = Self.failure(String(repeating: "[", count: 513) + String(repeating: "]", count: 513))
        #expect(tooDeep?.message == "nesting deeper than 512 levels")
        #expect(tooDeep?.offset == 512)
        // A hostile body of 100 000 brackets stops at the same place instead of recursing on.
        #expect(Self.failure(String(repeating: "[", count: 100_000))?.offset == 512)
        // A scalar inside 512 objects is a 513th level; inside 511 it fits.
        let objects = String(repeating: #"{"a":"#, count: 512) + "1" + String(repeating: "}", count: 512)
        #expect(Self.failure(objects)?.offset == 2560)
        let fits = String(repeating: #"{"a":"#, count: 511) + "1" + String(repeating: "}", count: 511)
        #expect(try JSONParser.parse(fits).objectValue?.keys.sorted() == ["a"])
    }

    @Test func whitespaceDuplicateKeysAndByteInputs() throws {
        #expect(try JSONParser.parse(" \r\n\t[ 1 ,\n2 ]\n ") == [1, 2])
        // A form feed is not JSON whitespace.
        #expect(Self.failure("\u{0C}1")?.offset == 0)
        // The last of duplicate keys wins.
        #expect(try JSONParser.parse(#"{"a":1,"a":2}"#) == ["a": 2])
        #expect(try JSONParser.parse(Data(#"{"x":[true,false,null]}"#.utf8)) == ["x": [true, false, nil]])
        // A slice that does not start at index 0.
        #expect(try JSONParser.parse(Array("xx[1]yy".utf8)[2..<5]) == [1])
    }

    @Test func writerReproducesCanonicalTextByteForByte() throws {
        let text = #"{"a":[1,1.0,-0.0,2.50,1e+20,1E-7,"\u0001\u001f"],"b":{},"c":[],"d":"é😀/"}"#
        #expect(JSONWriter.string(try JSONParser.parse(text)) == text)
    }

    @Test func writerEscapesOnlyWhatJSONRequires() throws {
        let tricky = "q\"b\\s/\n\r\t\u{8}\u{C}\u{0}\u{1F}\u{7F}é😀"
        let written = JSONWriter.string(.string(tricky))
        #expect(written == #""q\"b\\s/\n\r\t\b\f\u0000\u001f"# + "\u{7F}é😀\"")
        #expect(try JSONParser.parse(written) == .string(tricky))
    }

    @Test func prettyTextIndentsByTwoAndCompactTextSortsKeys() throws {
        let value: JSONValue = ["b": [1, 2], "a": [:], "c": []]
        let pretty = JSONWriter.string(value, pretty: true)
        #expect(pretty == "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": []\n}")
        #expect(value.description == #"{"a":{},"b":[1,2],"c":[]}"#)
        #expect(try JSONParser.parse(pretty) == value)
    }
}

/// `WireDecoder`/`WireEncoder` at the edges: integers, decimal amounts, refusals and their paths, kept unknown fields.
@Suite struct WireCoderTests {
    struct Probe: Codable, Hashable {
        var name: String
        var note: String?
        var count: Int?
        var unknownFields = UnknownFields()
    }

    struct Priced: Encodable {
        var label: String
        var price: Double
    }

    static func number(_ literal: String) -> JSONValue { .number(JSONNumber(literal: literal)) }

    @Test func unknownKeysAndNullsComeBackExactlyAsTheyWere() throws {
        let text = #"{"count":3,"extra":{"deep":[1,2.50,-0.0]},"name":"n","note":null}"#
        let probe = try WireDecoder().decode(Probe.self, from: Array(text.utf8))
        #expect(probe.name == "n")
        #expect(probe.note == nil)
        #expect(probe.count == 3)
        #expect(probe.unknownFields.values == ["extra": ["deep": [1, Self.number("2.50"), Self.number("-0.0")]], "note": .null])
        #expect(String(decoding: try WireEncoder().encode(probe), as: UTF8.self) == text)
    }

    @Test func theModelsOwnValuesWinOverKeptUnknownKeys() throws {
        var probe = try WireDecoder().decode(Probe.self, from: ["name": "n", "note": nil] as JSONValue)
        #expect(probe.unknownFields.values == ["note": .null])
        probe.note = "set"
        probe.unknownFields["name"] = "shadow"
        #expect(try WireEncoder().encodeValue(probe) == ["name": "n", "note": "set"])
    }

    /// Written by hand through every kind of container: nested objects and arrays filled after
    /// they were handed out, keys written twice (the last write wins, whether a value or a
    /// container), arrays mixing values and containers in order, unknown keys under known ones.
    struct Tree: Encodable {
        enum K: String, CodingKey { case a, b, list, twice, again, unknownFields }
        enum Inner: String, CodingKey { case x, y }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            var nested = c.nestedContainer(keyedBy: Inner.self, forKey: .a)
            try c.encode("B", forKey: .b)
            var list = c.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1)
            var inList = list.nestedContainer(keyedBy: Inner.self)
            try list.encode(["s"])
            try list.encodeNil()
            var innerList = list.nestedUnkeyedContainer()
            try inList.encode(true, forKey: .x)
            try innerList.encode(2.5)
            try nested.encode(1, forKey: .x)
            try nested.encode(Decimal(string: "0.10")!, forKey: .y)
            try c.encode("value first", forKey: .twice)
            var replaced = c.nestedContainer(keyedBy: Inner.self, forKey: .twice)
            try replaced.encode("container last", forKey: .x)
            _ = c.nestedContainer(keyedBy: Inner.self, forKey: .again)
            try c.encode(["value", "last"], forKey: .again)
            try c.encode(UnknownFields(["b": "shadowed", "extra": [1]]), forKey: .unknownFields)
            #expect(list.count == 5)
        }
    }

    @Test func containersFilledLateAndKeysWrittenTwiceEncodeAsWritten() throws {
        let value = try WireEncoder().encodeValue(Tree())
        #expect(JSONWriter.string(value) == #"{"a":{"x":1,"y":"0.1"},"again":["value","last"],"b":"B","extra":[1],"list":[1,{"x":true},["s"],null,[2.5]],"twice":{"x":"container last"}}"#)
        #expect(try WireEncoder().encodeValue([Tree(), Tree()]) == [value, value])
    }

    @Test func rawJSONValuesPassThroughUntouched() throws {
        let decoded = try WireDecoder().decode(JSONValue.self, from: Array("[1.50,-0,1E3]".utf8))
        #expect(decoded == [Self.number("1.50"), Self.number("-0"), Self.number("1E3")])
        #expect(try WireEncoder().encodeValue(decoded) == decoded)
    }

    @Test func integersComeOnlyFromIntegralNumbersThatFit() throws {
        let decoder = WireDecoder()
        #expect(try decoder.decode(Int.self, from: Self.number("3.0")) == 3)
        #expect(try decoder.decode(Int.self, from: Self.number("-2e3")) == -2000)
        #expect(try decoder.decode(Int64.self, from: Self.number("-9223372036854775808")) == Int64.min)
        #expect(try decoder.decode(UInt8.self, from: Self.number("255")) == 255)

        let fraction = #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: Self.number("3.5")) }
        #expect(fraction?.reason == "3.5 is not an integer")
        #expect(fraction?.fieldPath == "(root)")
        let tooBig = #expect(throws: DecodingError.self) { try decoder.decode(UInt8.self, from: Self.number("256")) }
        #expect(tooBig?.reason == "256 does not fit UInt8")
        let negative = #expect(throws: DecodingError.self) { try decoder.decode(UInt64.self, from: Self.number("-1")) }
        #expect(negative?.reason == "-1 does not fit UInt64")
        let beyondInt = #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: Self.number("9223372036854775808")) }
        #expect(beyondInt?.reason == "9223372036854775808 is not an integer")
        let imprecise = #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: Self.number("9007199254740993.0")) }
        #expect(imprecise?.reason == "9007199254740993.0 is not an integer")
        let quoted = #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: JSONValue.string("3")) }
        #expect(quoted?.reason == "expected Int but found string")
    }

    @Test func scalarMismatchesSayWhatWasFound() throws {
        let decoder = WireDecoder()
        let bool = #expect(throws: DecodingError.self) { try decoder.decode(Bool.self, from: Self.number("1")) }
        #expect(bool?.reason == "expected Bool but found number")
        let string = #expect(throws: DecodingError.self) { try decoder.decode(String.self, from: JSONValue.null) }
        #expect(string?.reason == "expected String but found null")
        let double = #expect(throws: DecodingError.self) { try decoder.decode(Double.self, from: JSONValue.string("1.5")) }
        #expect(double?.reason == "expected Double but found string")
        let object = #expect(throws: DecodingError.self) { try decoder.decode(Probe.self, from: [1] as JSONValue) }
        #expect(object?.reason == "expected Dictionary<String, JSONValue> but found array")
        #expect(try decoder.decode(Double.self, from: Self.number("1")) == 1)
        #expect(try decoder.decode(Float.self, from: Self.number("0.5")) == 0.5)
    }

    @Test func decimalAmountsAreExactAndStrict() throws {
        let decoder = WireDecoder()
        #expect(try decoder.decode(Decimal.self, from: Self.number("0.1")) == Decimal(string: "0.1")!)
        #expect(try decoder.decode(Decimal.self, from: JSONValue.string("-0.0012")) == Decimal(string: "-0.0012")!)
        for bad in ["12abc", "", " 1", "1,5", "0x10"] {
            let error = #expect(throws: DecodingError.self, "\(bad)") { try decoder.decode(Decimal.self, from: JSONValue.string(bad)) }
            #expect(error?.reason == "'\(bad)' is not a decimal amount")
        }
        let bool = #expect(throws: DecodingError.self) { try decoder.decode(Decimal.self, from: JSONValue.bool(true)) }
        #expect(bool?.reason == "expected Decimal but found boolean")
    }

    @Test func refusalsNameTheDottedPathThroughArraysAndObjects() {
        let nested: JSONValue = [["a": [1, "x"]]]
        let error = #expect(throws: DecodingError.self) { try WireDecoder().decode([[String: [Int]]].self, from: nested) }
        #expect(error?.fieldPath == "[0].a[1]")
        #expect(error?.reason == "expected Int but found string")
        let probes: JSONValue = [["name": "ok"], ["note": "x"]]
        let missing = #expect(throws: DecodingError.self) { try WireDecoder().decode([Probe].self, from: probes) }
        #expect(missing?.fieldPath == "[1].name")
        #expect(missing?.reason == "missing field 'name'")
    }

    @Test func unparsableBytesBecomeDataCorruptedCarryingTheSyntaxError() {
        let error = #expect(throws: DecodingError.self) { try WireDecoder().decode([Int].self, from: Array("[1,".utf8)) }
        #expect(error?.fieldPath == "(root)")
        #expect(error?.reason == "invalid JSON at line 1, column 4: unexpected end of input")
        guard case .dataCorrupted(let context)? = error else {
            Issue.record("expected dataCorrupted, got \(String(describing: error))")
            return
        }
        #expect((context.underlyingError as? JSONParser.SyntaxError)?.offset == 3)
    }

    @Test func encoderWritesExactIntegersPlainDecimalsAndFloatLiterals() throws {
        let encoder = WireEncoder()
        #expect(try encoder.encodeValue(UInt64.max) == Self.number("18446744073709551615"))
        #expect(try encoder.encodeValue(Int64.min) == Self.number("-9223372036854775808"))
        #expect(try encoder.encodeValue(Int8(-5)) == Self.number("-5"))
        #expect(try encoder.encodeValue(2.0) == Self.number("2.0"))
        #expect(try encoder.encodeValue(Float(0.5)) == Self.number("0.5"))
        #expect(try encoder.encodeValue(1e20) == Self.number("1e+20"))
        #expect(try encoder.encodeValue(Decimal(string: "0.0000001")!) == .string("0.0000001"))
        #expect(try encoder.encodeValue(Decimal(string: "10.000000000000000001")!) == .string("10.000000000000000001"))
        #expect(try encoder.encodeValue(true) == .bool(true))
        #expect(try encoder.encodeValue(URL(string: "gftp://0xa1/abc")!) == .string("gftp://0xa1/abc"))
        #expect(try encoder.encodeValue([1, nil, 3] as [Int?]) == [1, nil, 3])
        let sorted = try encoder.encode(["b": 1, "a": 2, "C": 3] as [String: Int])
        #expect(String(decoding: sorted, as: UTF8.self) == #"{"C":3,"a":2,"b":1}"#)
    }

    @Test func nonFiniteNumbersAreRefusedNamingTheField() {
        let field = #expect(throws: EncodingError.self) { try WireEncoder().encodeValue(Priced(label: "cpu", price: .infinity)) }
        guard case .invalidValue(_, let context)? = field else {
            Issue.record("expected invalidValue, got \(String(describing: field))")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["price"])
        #expect(context.debugDescription == "JSON cannot hold inf")
        let top = #expect(throws: EncodingError.self) { try WireEncoder().encode(Double.nan) }
        guard case .invalidValue(_, let topContext)? = top else {
            Issue.record("expected invalidValue, got \(String(describing: top))")
            return
        }
        #expect(topContext.codingPath.isEmpty)
        #expect(topContext.debugDescription == "JSON cannot hold nan")
    }
}

/// `WireTimestamp` on the forms yagna writes (0–9 digits, `Z`, offsets, naive SSE form) and on text that is not one.
@Suite struct WireTimestampFormatTests {
    /// 2026-11-22T13:23:57Z.
    static let base: Int64 = 1_795_353_837_000_000_000

    @Test func separatorsZoneLettersAndOffsetsNameTheSameInstant() {
        for text in ["2026-11-22t13:23:57z", "2026-11-22 13:23:57Z", "2026-11-22T08:23:57-05:00", "2026-11-22T13:23:57-00:00"] {
            #expect(WireTimestamp(text: text).epochNanoseconds == Self.base, "\(text)")
        }
    }

    @Test func fractionDigitsBeyondNineAreTruncatedNotRounded() {
        #expect(WireTimestamp(text: "2026-11-22T13:23:57.1234567899Z").epochNanoseconds == Self.base + 123_456_789)
        #expect(WireTimestamp(text: "2026-11-22T13:23:57.123Z").epochNanoseconds == Self.base + 123_000_000)
        #expect(WireTimestamp(text: "2026-11-22T13:23:57.000000001+00:00").epochNanoseconds == Self.base + 1)
    }

    @Test func aLeapSecondReadsAsTheFollowingSecond() {
        #expect(WireTimestamp(text: "2017-01-01T00:00:00Z").epochNanoseconds == 1_483_228_800_000_000_000)
        #expect(WireTimestamp(text: "2016-12-31T23:59:60Z").epochNanoseconds == 1_483_228_800_000_000_000)
    }

    @Test func textThatIsNotATimestampHasNoInstantButKeepsItsText() {
        let bad = [
            "", "2026-11-22", "2026-11-22T13:23Z", "2026-11-22T13:23:57.", "2026-11-22T13:23:57.Z",
            "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-32T00:00:00Z", "2026-11-22T24:00:00Z",
            "2026-11-22T13:60:00Z", "2026-11-22T13:23:57+01", "2026-11-22T13:23:57Z ",
            "2026-11-22T13:23:57ZZ", "2026/11/22T13:23:57Z", "22/11/2026 13:23", "２０２６-11-22T13:23:57Z", "1795353837",
        ]
        for text in bad {
            let stamp = WireTimestamp(text: text)
            #expect(stamp.epochNanoseconds == nil, "\(text)")
            #expect(stamp.date == nil, "\(text)")
            #expect(stamp.text == text)
        }
    }

    @Test func aBadTimestampInABodyIsRefusedNamingTheField() {
        let body = #"{"index":0,"eventDate":"22/11/2026 13:23","result":"Ok","isBatchFinished":true}"#
        let error = #expect(throws: DecodingError.self) {
            try WireDecoder().decode(ExeScriptCommandResult.self, from: Array(body.utf8))
        }
        #expect(error?.fieldPath == "eventDate")
        #expect(error?.reason == "'22/11/2026 13:23' is not an RFC 3339 timestamp")
        let number = #expect(throws: DecodingError.self) {
            try WireDecoder().decode(WireTimestamp.self, from: JSONValue.number(JSONNumber(literal: "1795353837")))
        }
        #expect(number?.reason == "expected String but found number")
    }

    @Test func formattingKeepsTheRequestedDigitsAndTheInstantIsWhatTheTextSays() {
        let nanos = Self.base + 123_456_789
        let cases: [(digits: Int, zulu: Bool, text: String, instant: Int64)] = [
            (9, true, "2026-11-22T13:23:57.123456789Z", nanos),
            (6, true, "2026-11-22T13:23:57.123456Z", Self.base + 123_456_000),
            (3, true, "2026-11-22T13:23:57.123Z", Self.base + 123_000_000),
            (0, true, "2026-11-22T13:23:57Z", Self.base),
            (12, true, "2026-11-22T13:23:57.123456789Z", nanos),
            (-1, true, "2026-11-22T13:23:57Z", Self.base),
            (6, false, "2026-11-22T13:23:57.123456", Self.base + 123_456_000),
        ]
        for (digits, zulu, text, instant) in cases {
            let stamp = WireTimestamp(epochNanoseconds: nanos, fractionDigits: digits, zulu: zulu)
            #expect(stamp.text == text, "\(digits) digits")
            #expect(stamp.epochNanoseconds == instant, "\(digits) digits")
            // A client that echoes the text back (afterTimestamp) names exactly this instant.
            #expect(WireTimestamp(text: stamp.text).epochNanoseconds == instant, "\(digits) digits")
        }
    }

    @Test func instantsBeforeTheEpochFloorTowardsThePast() {
        let justBefore = WireTimestamp(epochNanoseconds: -1, fractionDigits: 9)
        #expect(justBefore.text == "1969-12-31T23:59:59.999999999Z")
        #expect(justBefore.epochNanoseconds == -1)
        let micro = WireTimestamp(epochNanoseconds: -1, fractionDigits: 6)
        #expect(micro.text == "1969-12-31T23:59:59.999999Z")
        #expect(micro.epochNanoseconds == -1_000)
        #expect(WireTimestamp(text: micro.text).epochNanoseconds == -1_000)
    }

    @Test func datesBecomeMicrosecondOrRequestedPrecisionText() {
        #expect(WireTimestamp(Date(timeIntervalSince1970: 1_795_353_837.5)).text == "2026-11-22T13:23:57.500000Z")
        #expect(WireTimestamp(Date(timeIntervalSince1970: 1_795_353_837.25), fractionDigits: 3).text == "2026-11-22T13:23:57.250Z")
        #expect(WireTimestamp(text: "1970-01-01T00:00:01.5Z").date == Date(timeIntervalSince1970: 1.5))
    }

    @Test func orderIsByInstantThenTextAndEqualityKeepsTheText() {
        let offset = WireTimestamp(text: "2026-11-22T14:23:57+01:00")
        let zulu = WireTimestamp(text: "2026-11-22T13:23:57Z")
        let later = WireTimestamp(text: "2026-11-22T13:23:57.5Z")
        let junk = WireTimestamp(text: "junk")
        #expect([later, offset, junk, zulu].sorted().map(\.text)
            == ["junk", "2026-11-22T13:23:57Z", "2026-11-22T14:23:57+01:00", "2026-11-22T13:23:57.5Z"])
        #expect(offset.epochNanoseconds == zulu.epochNanoseconds)
        #expect(offset != zulu)
        #expect(offset < later)
    }

    @Test func decodedTextIsWrittenBackUnchanged() throws {
        for text in ["2026-11-22T13:23:57.156182+00:00", "2026-11-22T13:23:59.7", "2026-11-22t13:23:57z"] {
            let stamp = try WireDecoder().decode(WireTimestamp.self, from: JSONValue.string(text))
            #expect(try WireEncoder().encodeValue(stamp) == .string(text))
        }
    }

    @Test func yearsOutsideTheInt64NanosecondRangeAreTheEarliestOrLatestInstant() throws {
        // RFC 3339 allows years 0000–9999; nanoseconds since 1970 in 64 bits cover 1677–2262.
        #expect(WireTimestamp(text: "9999-12-31T23:59:59Z").epochNanoseconds == .max)
        #expect(WireTimestamp(text: "0001-01-01T00:00:00Z").epochNanoseconds == .min)
        #expect(WireTimestamp(text: "2262-04-11T23:47:16.854775807Z").epochNanoseconds == .max)
        #expect(WireTimestamp(text: "2262-04-11T23:47:16.854775806Z").epochNanoseconds == Int64.max - 1)
        let body = #"{"proposalId":"p","validTo":"9999-12-31T23:59:59Z"}"#
        let proposal = try WireDecoder().decode(AgreementProposal.self, from: Array(body.utf8))
        #expect(proposal.validTo.text == "9999-12-31T23:59:59Z")
        #expect(proposal.validTo > WireTimestamp(text: "2262-01-01T00:00:00Z"))
    }

    @Test func anOffsetMayLeaveOutItsColonAsChronoReadsIt() {
        #expect(WireTimestamp(text: "2026-11-22T13:23:57+0100").epochNanoseconds == WireTimestamp(text: "2026-11-22T12:23:57Z").epochNanoseconds)
        #expect(WireTimestamp(text: "2026-11-22T13:23:57-0130").epochNanoseconds == WireTimestamp(text: "2026-11-22T14:53:57Z").epochNanoseconds)
        #expect(WireTimestamp(text: "2026-11-22T13:23:57+010").epochNanoseconds == nil)
    }
}

/// How a daemon answer becomes a `YagnaError`: the kind from the status, the message from the body, the description.
@Suite struct YagnaErrorMappingTests {
    static let request = YagnaRequest(
        operation: "market.collectDemandEvents", service: .market, method: .GET, path: "/demands/s1/events",
        query: [QueryItem("timeout", "5")])

    static func response(_ status: Int, _ body: String) -> YagnaResponse {
        YagnaResponse(status: status, body: Array(body.utf8))
    }

    @Test func everyStatusMapsToItsKindAndTheRestAreUnexpected() {
        let table: [(status: Int, code: YagnaError.Code)] = [
            (400, .badRequest), (401, .unauthorized), (403, .forbidden), (404, .notFound), (408, .timeout),
            (409, .conflict), (410, .gone), (500, .serverError), (501, .notImplemented), (504, .gatewayTimeout),
            (302, .unexpectedStatus), (418, .unexpectedStatus), (429, .unexpectedStatus), (502, .unexpectedStatus),
            (503, .unexpectedStatus),
        ]
        for (status, code) in table {
            let error = YagnaError.from(YagnaResponse(status: status), for: Self.request)
            #expect(error.code == code, "\(status)")
            #expect(error.status == status)
            #expect(error.message == nil)
            #expect(error.field == nil)
            #expect(error.operation == "market.collectDemandEvents")
            #expect(error.method == .GET)
            #expect(error.path == "/demands/s1/events")
        }
    }

    @Test func onlyTimeoutsAndLostConnectionsAreWorthARetry() {
        func error(_ code: YagnaError.Code) -> YagnaError {
            YagnaError(code: code, operation: "op", method: .GET, path: "/p", status: nil, message: nil)
        }
        let intermittent: [YagnaError.Code] = [.timeout, .gatewayTimeout, .clientTimeout, .transport]
        let lasting: [YagnaError.Code] = [
            .badRequest, .unauthorized, .forbidden, .notFound, .conflict, .gone, .serverError, .notImplemented,
            .unexpectedStatus, .malformedResponse,
        ]
        for code in intermittent { #expect(error(code).isIntermittent, "\(code)") }
        for code in lasting { #expect(!error(code).isIntermittent, "\(code)") }
    }

    @Test func theDaemonsMessageIsFoundInEveryBodyShape() {
        let cases: [(body: String, message: String?)] = [
            ("", nil),
            (#"{"message":"Subscription [s1] not found"}"#, "Subscription [s1] not found"),
            (#"{"type":"about:blank","title":"Bad Request","detail":"Insufficient funds"}"#, "Insufficient funds"),
            (#"{"type":"about:blank","title":"Bad Request"}"#, "Bad Request"),
            (#"{"error":"boom"}"#, "boom"),
            (#"{"message":"m","detail":"d"}"#, "m"),
            (#"{"message":null,"detail":"d"}"#, "d"),
            (#""Timeout""#, "Timeout"),
            (#"{ "reason" : "x", "code" : 7 }"#, #"{"code":7,"reason":"x"}"#),
            ("[1, 2]", "[1,2]"),
            ("  Json deserialize error: missing field `proposalId` at line 1 column 2\n",
             "Json deserialize error: missing field `proposalId` at line 1 column 2"),
            (#"{"message":"#, #"{"message":"#),
            (" \n\t", ""),
        ]
        for (body, message) in cases {
            #expect(YagnaError.daemonMessage(Self.response(400, body)) == message, "\(body)")
        }
    }

    @Test func longTextBodiesAreCutAt2000BytesWithoutBreakingTheString() {
        let long = YagnaError.daemonMessage(Self.response(500, String(repeating: "x", count: 3000)))
        #expect(long?.count == 2000)
        // The cut falls inside "é": the half character becomes U+FFFD.
        let split = YagnaError.daemonMessage(Self.response(500, String(repeating: "x", count: 1999) + "é and more"))
        #expect(split == String(repeating: "x", count: 1999) + "\u{FFFD}")
    }

    @Test func descriptionsReadAsOneSentenceWithoutTheQuery() {
        let notFound = YagnaError.from(Self.response(404, #"{"message":"Subscription [s1] not found"}"#), for: Self.request)
        #expect(notFound.description == "market.collectDemandEvents failed: GET /demands/s1/events answered 404: Subscription [s1] not found")
        let blank = YagnaError.from(Self.response(400, "   "), for: Self.request)
        #expect(blank.message == "")
        #expect(blank.description == "market.collectDemandEvents failed: GET /demands/s1/events answered 400")
        let dropped = YagnaError(
            code: .transport, operation: "activity.exec", method: .POST, path: "/activity/a1/exec", status: nil,
            message: "connection refused")
        #expect(dropped.description == "activity.exec failed: POST /activity/a1/exec got no response: connection refused")
        let slow = YagnaError(
            code: .clientTimeout, operation: "activity.exec", method: .POST, path: "/activity/a1/exec", status: nil, message: nil)
        #expect(slow.description == "activity.exec failed: POST /activity/a1/exec timed out waiting for a response")
    }

    @Test func aBodyThatDoesNotFitTheModelNamesTheField() throws {
        let match = try #require(OperationCatalog.match(method: .GET, path: "/activity-api/v1/activity/act-1/exec/batch-7"))
        guard case .decode(let decode) = match.spec.model else {
            Issue.record("exec results have a model")
            return
        }
        let body = #"[{"index":0,"eventDate":"2026-11-22T13:23:59.563906Z","result":"Ok","stdout":null,"stderr":null,"message":null,"isBatchFinished":false},"#
            + #"{"index":1,"eventDate":"2026-11-22T13:23:59.9Z","result":"Maybe","isBatchFinished":true}]"#
        let request = YagnaRequest(operation: match.spec.name, service: .activity, method: .GET, path: "/activity/act-1/exec/batch-7")
        do {
            _ = try decode(Array(body.utf8))
            Issue.record("decoded a result of kind Maybe")
        } catch {
            let mapped = YagnaError.malformed(request, status: 200, error: error)
            #expect(mapped.code == .malformedResponse)
            #expect(mapped.status == 200)
            #expect(mapped.field == "[1].result")
            #expect(mapped.description.hasPrefix(
                "activity.getExecBatchResults failed: GET /activity/act-1/exec/batch-7 answered 200 with a malformed body (field '[1].result'): "))
        }
        let syntax = #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse("") }
        if let syntax {
            let notJSON = YagnaError.malformed(request, status: 200, error: syntax)
            #expect(notJSON.field == nil)
            #expect(notJSON.message == "invalid JSON at line 1, column 1: unexpected end of input")
        }
    }

    @Test func anUnencodableBodyIsABadRequestThatNeverLeftTheClient() {
        struct Priced: Encodable { var price: Double }
        let request = YagnaRequest(operation: "payment.createAllocation", service: .payment, method: .POST, path: "/allocations")
        let encodingError = #expect(throws: EncodingError.self) { try WireEncoder().encode(Priced(price: .nan)) }
        guard let encodingError else { return }
        let error = YagnaError.invalidRequest(request, error: encodingError)
        #expect(error.code == .badRequest)
        #expect(error.status == nil)
        #expect(!error.isIntermittent)
        #expect(error.message?.hasPrefix("could not encode the request body: ") == true)
        #expect(error.description.hasPrefix("payment.createAllocation failed: POST /allocations: could not encode the request body: "))
    }
}

/// `OperationCatalog.match`: the operation a method and path name, the ids taken verbatim, and unknown paths.
@Suite struct OperationCatalogMatchingTests {
    @Test func everyPatternIsReachableAndYieldsItsIdsInOrder() throws {
        for spec in OperationCatalog.all {
            let segments = spec.pattern.enumerated().map { $0.element == "*" ? "id\($0.offset)" : $0.element }
            let path = "/" + segments.joined(separator: "/")
            let match = try #require(OperationCatalog.match(method: spec.method, path: path), "\(spec.method) \(path)")
            #expect(match.spec.name == spec.name, "\(spec.method) \(path)")
            #expect(match.spec.pattern == spec.pattern, "\(spec.method) \(path)")
            #expect(match.spec.method == spec.method)
            #expect(match.ids == spec.pattern.enumerated().filter { $0.element == "*" }.map { "id\($0.offset)" })
            #expect(OperationCatalog.api(of: path) == spec.api, "\(spec.name)")
            #expect(spec.statuses.isSuperset(of: [401, 500, 504]), "\(spec.name)")
        }
    }

    @Test func idsWithOddCharactersAreTakenVerbatim() throws {
        let cases: [(method: HTTPMethod, path: String, name: String, ids: [String])] = [
            (.POST, "/market-api/v1/agreements/a%2Fb/confirm", "market.confirmAgreement", ["a%2Fb"]),
            (.GET, "/payment-api/v1/invoices/ínvoice-ü:1@x", "payment.getInvoice", ["ínvoice-ü:1@x"]),
            (.PUT, "/payment-api/v1/allocations/🙂", "payment.amendAllocation", ["🙂"]),
            (.POST, "/market-api/v1/demands/d1/proposals/p 1/reject", "market.rejectProposalOffer", ["d1", "p 1"]),
            (.GET, "/activity-api/v1/activity/R-1/exec/b.2", "activity.getExecBatchResults", ["R-1", "b.2"]),
            (.HEAD, "/images/sha3-abc.gvmi", "registry.image", ["sha3-abc.gvmi"]),
            // An id spelled like a literal segment is still an id.
            (.POST, "/market-api/v1/agreements/confirm/confirm", "market.confirmAgreement", ["confirm"]),
            (.POST, "/market-api/v1/demands/d1/proposals/reject", "market.counterProposalDemand", ["d1", "reject"]),
            (.GET, "/market-api/v1/agreements/terminate", "market.getAgreement", ["terminate"]),
            (.GET, "/market-api/v1/agreements/a1/terminate/reason", "market.getTerminateReason", ["a1"]),
            (.GET, "/net-api/v2/vpn/net/n1/tcp/192.168.8.2/22", "net.connectTcp", ["n1", "192.168.8.2", "22"]),
            (.GET, "/net-api/v1/net/n1/tcp/10.0.0.2/22", "net.connectTcp", ["n1", "10.0.0.2", "22"]),
            (.DELETE, "/net-api/v1/net/n1/nodes/0xabc", "net.removeNode", ["n1", "0xabc"]),
        ]
        for c in cases {
            let match = try #require(OperationCatalog.match(method: c.method, path: c.path), "\(c.method) \(c.path)")
            #expect(match.spec.name == c.name, "\(c.path)")
            #expect(match.ids == c.ids, "\(c.path)")
        }
    }

    @Test func unknownPathsAndMethodsMatchNothing() {
        let unknown: [(HTTPMethod, String)] = [
            (.GET, ""), (.GET, "/"), (.POST, "/me"), (.GET, "/market-api/v1/offers"), (.GET, "/market-api/v2/demands"),
            (.DELETE, "/market-api/v1/agreements/a1"), (.PUT, "/market-api/v1/demands"),
            (.GET, "/activity-api/v1/activity/a/exec/b/extra"), (.GET, "/Market-api/v1/demands"),
            (.GET, "/gsb-api/v1/services"),
            // More segments than any operation has.
            (.GET, "/market-api/v1/demands/d1/events" + String(repeating: "/x", count: 20)),
            // The path is matched without its query.
            (.GET, "/market-api/v1/demands/d1/events?timeout=5"),
        ]
        for (method, path) in unknown {
            #expect(OperationCatalog.match(method: method, path: path)?.spec.name == nil, "\(method) \(path)")
        }
    }

    @Test func readOnlyFollowsTheMethodExceptForTheApprovalWait() throws {
        let wait = try #require(OperationCatalog.match(method: .POST, path: "/market-api/v1/agreements/a1/wait")).spec
        #expect(wait.name == "market.waitForApproval")
        #expect(wait.readOnly)
        #expect(wait.statuses.contains(408))
        let confirm = try #require(OperationCatalog.match(method: .POST, path: "/market-api/v1/agreements/a1/confirm")).spec
        #expect(!confirm.readOnly)
        let events = try #require(OperationCatalog.match(method: .GET, path: "/market-api/v1/demands/d1/events")).spec
        #expect(events.readOnly)
        #expect(events.api == "market")
        let release = try #require(OperationCatalog.match(method: .DELETE, path: "/payment-api/v1/allocations/x")).spec
        #expect(release.name == "payment.releaseAllocation")
        #expect(!release.readOnly)
    }

    @Test func theMatchedModelDecodesTheAnswerBody() throws {
        let results = try #require(OperationCatalog.match(method: .GET, path: "/activity-api/v1/activity/act-1/exec/batch-7"))
        guard case .decode(let decode) = results.spec.model else {
            Issue.record("exec results have a model")
            return
        }
        let body = #"[{"index":0,"eventDate":"2026-11-22T13:23:59.569231Z","result":"Ok","stdout":"hi\n","stderr":null,"message":null,"isBatchFinished":true}]"#
        let decoded = try #require(try decode(Array(body.utf8)) as? [ExeScriptCommandResult])
        #expect(decoded.map(\.index) == [0])
        #expect(decoded.first?.stdout == .text("hi\n"))
        let exec = try #require(OperationCatalog.match(method: .POST, path: "/activity-api/v1/activity/act-1/exec"))
        guard case .string = exec.spec.model else {
            Issue.record("exec answers a bare batch id")
            return
        }
        let destroy = try #require(OperationCatalog.match(method: .DELETE, path: "/activity-api/v1/activity/act-1"))
        guard case .none = destroy.spec.model else {
            Issue.record("destroy answers no body")
            return
        }
    }

    @Test func theApiOfAPathComesFromItsRootSegment() {
        let cases: [(String, String)] = [
            ("/market-api/v1/demands", "market"), ("activity-api/v1/activity", "activity"),
            ("/payment-api/v1/allocations", "payment"), ("/net-api/v2/vpn/net", "net"), ("/me", "identity"),
            ("/version/get", "version"), ("/v1/image/info", "registry"), ("/images/x", "registry"),
            ("/gsb-api/v1/services", "other"), ("", "other"), ("/", "other"),
        ]
        for (path, api) in cases { #expect(OperationCatalog.api(of: path) == api, "\(path)") }
    }
}

/// Header names compare as HTTP compares them: ASCII case folded, nothing else.
@Suite struct HeaderNameTests {
    @Test func namesCompareWithoutRegardToASCIICase() {
        let names = ["Content-Type", "content-type", "CONTENT-TYPE", "Content-Typf", "Content-Typ", "Authorization", "@[`{", "`{@[", "x-É", "x-é", ""]
        for a in names {
            for b in names {
                let ascii = a.unicodeScalars.allSatisfy(\.isASCII) && b.unicodeScalars.allSatisfy(\.isASCII)
                let expected = ascii ? a.lowercased() == b.lowercased() : a == b
                #expect(Header(a, "v").named(b) == expected, "\(a) vs \(b)")
            }
        }
        let response = YagnaResponse(status: 200, headers: [Header("content-TYPE", "text/plain"), Header("Content-Type", "second")])
        #expect(response.header("Content-Type") == "text/plain")
        #expect(response.header("Content-Length") == nil)
    }
}

/// `superEncoder`/`superDecoder` in keyed and unkeyed containers read and write what
/// Foundation's JSON coders do (checked against them).
@Suite struct SuperCoderTests {
    struct Base: Codable, Equatable {
        var b: Int
    }

    struct Derived: Codable, Equatable {
        var a: Int
        var base: Base
        var parent: Base
        enum CodingKeys: String, CodingKey { case a, parent }

        init(a: Int, base: Base, parent: Base) {
            self.a = a
            self.base = base
            self.parent = parent
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            a = try c.decode(Int.self, forKey: .a)
            base = try Base(from: c.superDecoder())
            parent = try Base(from: c.superDecoder(forKey: .parent))
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(a, forKey: .a)
            try base.encode(to: c.superEncoder())
            try parent.encode(to: c.superEncoder(forKey: .parent))
        }
    }

    struct Listed: Codable, Equatable {
        var first: Int
        var base: Base

        init(first: Int, base: Base) {
            self.first = first
            self.base = base
        }

        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            first = try c.decode(Int.self)
            base = try Base(from: c.superDecoder())
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(first)
            try base.encode(to: c.superEncoder())
        }
    }

    /// Reads a `Base` from `super` if there, else nothing (null).
    struct Optional: Decodable {
        var base: Base?
        enum CodingKeys: String, CodingKey { case x }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            base = try? Base(from: c.superDecoder())
        }
    }

    @Test func superContainersMatchFoundation() throws {
        let derived = Derived(a: 1, base: Base(b: 2), parent: Base(b: 3))
        let listed = Listed(first: 4, base: Base(b: 5))
        let foundationDerived = try JSONParser.parse(Array(try JSONEncoder().encode(derived)))
        let foundationListed = try JSONParser.parse(Array(try JSONEncoder().encode(listed)))
        #expect(try WireEncoder().encodeValue(derived) == foundationDerived)
        #expect(try WireEncoder().encodeValue(listed) == foundationListed)
        #expect(foundationDerived == ["a": 1, "super": ["b": 2], "parent": ["b": 3]])
        #expect(foundationListed == [4, ["b": 5]])
        #expect(try WireDecoder().decode(Derived.self, from: foundationDerived) == derived)
        #expect(try WireDecoder().decode(Listed.self, from: foundationListed) == listed)
        // No `super`: a decoder of null, as Foundation's.
        let absent = Array(#"{"x":1}"#.utf8)
        #expect(try JSONDecoder().decode(Optional.self, from: Data(absent)).base == nil)
        #expect(try WireDecoder().decode(Optional.self, from: try JSONParser.parse(absent)).base == nil)
    }
}

/// Amounts are written as Foundation writes a `Decimal`, by a fast path that reads the value's
/// layout (checked once against Foundation's text; checked here to be in use on this platform).
@Suite struct DecimalTextTests {
    /// Decimals of every shape: random significands of one to four words (and wider ones, which
    /// Foundation writes), exponents both ways, signs, and arithmetic results left uncompacted.
    static var values: [Decimal] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        var out: [Decimal] = [.nan, 0, -1, Decimal(UInt64.max), Decimal(UInt64.max) + 1]
        for _ in 0..<4000 {
            let significand = next() >> (next() % 64)
            let exponent = Int(next() % 61) - 40
            out.append(Decimal(sign: next() % 2 == 0 ? .minus : .plus, exponent: exponent, significand: Decimal(significand)))
            let fraction = Decimal(string: "0.\(next() % 100_000)")!, whole = Decimal(next() % 100_000)
            out += [fraction * whole, fraction + whole, whole / 7, fraction - whole, Decimal(next() % 1000 + 1) / 100]
        }
        return out
    }

    @Test func amountsAreWrittenAsFoundationWritesThem() {
        #expect(DecimalText.layoutChecked, "the fast path is off on this platform: every amount is written by Foundation")
        var fast = 0
        for value in Self.values {
            let foundation = NSDecimalNumber(decimal: value).stringValue
            #expect(value.wireString == foundation, "\(foundation)")
            // The referee's canonical form of an amount is the same text.
            #expect(value.description == foundation)
            if DecimalText.read(value) != nil { fast += 1 }
        }
        #expect(fast > Self.values.count / 2)
        #expect(DecimalText.read(.nan) == nil)
    }
}

/// Amounts are read as Foundation reads them with the POSIX locale, value and memory layout
/// alike (the layout decides how they are written back), by a fast path for plain amounts.
@Suite struct DecimalParsingTests {
    static let posix = Locale(identifier: "en_US_POSIX")

    static func bytes(_ d: Decimal) -> [UInt8] { withUnsafeBytes(of: d) { Array($0) } }

    /// Random plain amounts: signs, leading and trailing zeros, a point with or without digits
    /// on either side, up to 24 digits (past the fast path's 19), long runs of zeros.
    static let texts: [String] = {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: UInt64) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % n)
        }
        var out: [String] = []
        for i in 0..<30_000 {
            var s = next(4) == 0 ? "-" : ""
            for _ in 0..<next(13) { s += next(4) == 0 ? "0" : String(next(10)) }
            if next(10) < 7 { s += "." }
            for _ in 0..<next(13) { s += next(3) == 0 ? "0" : String(next(10)) }
            if i % 40 == 0 { s += String(repeating: "0", count: next(130)) }
            out.append(s)
        }
        // Past the limits of Foundation's own reading (it refuses some of these).
        let zeros = { (n: Int) in String(repeating: "0", count: n) }
        let long = ["0." + zeros(127) + "10", "0." + zeros(120) + "5" + zeros(9), "0." + zeros(127) + "1", "1" + zeros(127), "0." + zeros(140) + "1"]
        return out + long + ["0", "-0", "0.000", ".", "-", "", "1e3", "+1", "1.2.3", "12a"]
    }()

    @Test func amountsAreReadAsFoundationReadsThem() {
        #expect(DecimalParsing.layoutChecked, "the fast path is off on this platform: every amount is read by Foundation")
        var fast = 0
        for text in Self.texts {
            let foundation = Decimal(string: text, locale: Self.posix)
            let read = Decimal(wireText: text)
            #expect(read.map(Self.bytes) == foundation.map(Self.bytes), "'\(text)'")
            if let plain = DecimalParsing.read(text) {
                fast += 1
                #expect(Self.bytes(plain) == foundation.map(Self.bytes), "'\(text)'")
            }
        }
        // Most plain amounts take the fast path; zero, exponents and over-long ones do not.
        #expect(fast > Self.texts.count / 2)
        for text in ["0", "0.000", "1e3", "12345678901234567891", "+1", "1" + String(repeating: "0", count: 100)] {
            #expect(DecimalParsing.read(text) == nil, "'\(text)'")
        }
        // Written back as the daemon wrote them, or in Foundation's canonical form.
        #expect(Decimal(wireText: "1.500")?.wireString == "1.5")
        #expect(Decimal(wireText: "0.0125")?.wireString == "0.0125")
        #expect(Decimal(wireText: "abc") == nil)
    }
}
