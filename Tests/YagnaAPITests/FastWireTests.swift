import Foundation
import Testing
@testable import YagnaAPI

/// The hand-built wire forms of commands and results agree with Codable, which stays the
/// reference: the same JSON written, the same values read, and every other shape left to Codable.
@Suite struct FastWireTests {
    static let ts = WireTimestamp(text: "2026-11-29T10:00:00.123456Z")

    static let commands: [ExeScriptCommand] = [
        .deploy(DeployCommand()),
        .start(StartCommand()),
        .start(StartCommand(args: ["--port", "80"])),
        .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo \"hi\"\n\\ é"])),
        .run(RunCommand(entryPoint: "/bin/ls")),
        .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "x"], capture: .stream)),
        .run(RunCommand(entryPoint: "/bin/sh", args: [], capture: .atEnd)),
        .run(RunCommand(entryPoint: "/bin/sh", capture: Capture(stdout: .atEnd(part: .head(10), format: .bin)))),
        .run(RunCommand(entryPoint: "/bin/sh", capture: Capture(stderr: .atEnd(part: .tail(3))))),
        .run(RunCommand(entryPoint: "/bin/sh", capture: Capture(stdout: .atEnd(part: .headTail(7), format: .str), stderr: .stream(limit: 100)))),
        .run(RunCommand(entryPoint: "/bin/sh", capture: Capture(stdout: .stream(limit: 5, format: .bin)))),
        .run(RunCommand(entryPoint: "/bin/sh", capture: Capture())),
        .transfer(TransferCommand(from: "gftp://a/b", to: "container:/in")),
        .transfer(TransferCommand(from: "container:/out/\"x\"", to: "")),
        .terminate(UnknownFields()),
        .sign(UnknownFields()),
    ]

    @Test(arguments: commands) func commandsAreWrittenAsCodableWritesThem(_ command: ExeScriptCommand) throws {
        let fast = try #require(command.fastWireValue)
        #expect(JSONWriter.string(fast) == JSONWriter.string(try WireEncoder().encodeValue(command)))
        // And read back by hand to the same value Codable reads.
        let read = try #require(ExeScriptCommand(fastWire: fast))
        #expect(read == command)
        #expect(read == (try WireDecoder().decode(ExeScriptCommand.self, from: fast)))
    }

    /// Shapes the fast forms leave to Codable: the answer is the same through `ExeScriptRequest`.
    @Test(arguments: [
        #"{"run":{"entry_point":"/bin/sh","args":null}}"#,
        #"{"run":{"entry_point":"/bin/sh","extra":1}}"#,
        #"{"run":{"entry_point":"/bin/sh","capture":{"stdout":{"atEnd":{"head":3,"tail":2}}}}}"#,
        #"{"run":{"entry_point":"/bin/sh","capture":{"stdout":{"atEnd":{"format":"string"}}}}}"#,
        #"{"run":{"entry_point":"/bin/sh","capture":{"stdout":{"stream":{"limit":2.0}}}}}"#,
        #"{"run":{"entry_point":"/bin/sh","capture":{"stdout":null}}}"#,
        #"{"start":{"args":null}}"#,
        #"{"deploy":{"net":[{"id":"n","ip":"10.0.0.0","nodeIp":"10.0.0.2"}]}}"#,
        #"{"transfer":{"from":"gftp://a/b","to":"container:/in","format":"zip"}}"#,
        #"{"transfer":{"from":"gftp://a/b","to":"c","depth":1}}"#,
        #"{"transfer":{"from":"gftp://a/b","to":"c","extra":true}}"#,
        #"{"terminate":{"why":"done"}}"#,
        #"{"sign":{"key":1}}"#,
    ])
    func otherCommandShapesAreReadByCodable(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(ExeScriptCommand(fastWire: value) == nil)
        let request = ExeScriptRequest(text: "[" + #"{"deploy":{}},"# + text + "]")
        let reference = try WireDecoder().decode([ExeScriptCommand].self, from: Array(request.text.utf8))
        #expect(try request.commands() == reference)
    }

    @Test func aBadCommandIsRefusedWithCodablesErrorNamingItsPlace() throws {
        let request = ExeScriptRequest(text: #"[{"deploy":{}},{"run":{"args":[]}}]"#)
        let error = #expect(throws: DecodingError.self) { try request.commands() }
        #expect(error?.fieldPath == "[1].run.entry_point")
        let syntax = #expect(throws: DecodingError.self) { try ExeScriptRequest(text: "[{").commands() }
        guard case .dataCorrupted? = syntax else {
            Issue.record("a syntax error is a DataCorrupted decoding error, as Codable's")
            return
        }
    }

    @Test func writingARequestMixesFastAndCodableCommands() throws {
        let commands: [ExeScriptCommand] = [
            .deploy(DeployCommand(env: ["A": "1"])), .start(StartCommand()),
            .transfer(TransferCommand(from: "gftp://x/y", to: "container:/in")), .run(RunCommand(entryPoint: "/bin/ls", capture: .stream)),
        ]
        let request = try ExeScriptRequest(commands: commands)
        #expect(request.text == JSONWriter.string(try WireEncoder().encodeValue(commands)))
        #expect(try request.commands() == commands)
    }

    static let results: [ExeScriptCommandResult] = {
        var withUnknown = ExeScriptCommandResult(index: 2, eventDate: ts, result: .ok, stdout: .text("x"), isBatchFinished: false)
        withUnknown.unknownFields = UnknownFields(["extra": .number(JSONNumber(1)), "stdout": .string("shadowed")])
        return [
            ExeScriptCommandResult(index: 0, eventDate: ts, result: .ok, isBatchFinished: false),
            ExeScriptCommandResult(index: 1, eventDate: ts, result: .ok, stdout: .text("hello\n"), stderr: .text(""), message: "done", isBatchFinished: true),
            ExeScriptCommandResult(index: 3, eventDate: ts, result: .error, stderr: .text("boom"), message: "ExeScript command exited with code 1", isBatchFinished: true),
            ExeScriptCommandResult(index: 4, eventDate: ts, result: .ok, stdout: .bytes([0, 1, 255]), isBatchFinished: true),
            withUnknown,
        ]
    }()

    @Test(arguments: results) func resultsAreWrittenAsCodableWritesThem(_ result: ExeScriptCommandResult) throws {
        #expect(JSONWriter.string(result.wireValue) == JSONWriter.string(try WireEncoder().encodeValue(result)))
    }

    /// What an in-process node hands over with a batch's results is what a client reads from
    /// their JSON, by hand or by Codable.
    @Test(arguments: results) func aResultAsReadIsWhatItsJSONReadsTo(_ result: ExeScriptCommandResult) throws {
        let written = JSONValue.array([result.wireValue])
        #expect(try ExeScriptCommandResult.decodeList(written) == [result.asRead])
        #expect(try WireDecoder().decode([ExeScriptCommandResult].self, from: written) == [result.asRead])
        // Reading it again changes nothing.
        #expect(result.asRead.asRead == result.asRead)
        #expect(result.asRead.wireValue == result.wireValue)
    }

    /// What the daemon and the simulator write is read to the value Codable reads (explicit
    /// nulls and unknown keys in `unknownFields`, as Codable keeps them).
    @Test(arguments: [
        #"[{"index":0,"eventDate":"2026-11-29T10:00:00.123456Z","result":"Ok","stdout":null,"stderr":null,"message":null,"isBatchFinished":false}]"#,
        #"[{"index":0,"eventDate":"2026-11-29T10:00:00Z","result":"Ok","stdout":"a","isBatchFinished":true,"extra":{"k":[1]}}]"#,
        #"[{"index":1,"eventDate":"2026-11-29T10:00:00+00:00","result":"Error","stderr":"e","message":"m","isBatchFinished":true}]"#,
        #"[{"index":1,"eventDate":"2026-11-29T10:00:00Z","result":"Ok","stdout":[104,105],"isBatchFinished":true}]"#,
        #"[{"index":1.0,"eventDate":"2026-11-29T10:00:00Z","result":"Ok","isBatchFinished":true}]"#,
        #"[{"index":1,"eventDate":"2026-11-29T10:00:00Z","result":"Ok","isBatchFinished":true},{"index":2,"eventDate":"2026-11-29T10:00:01Z","result":"Ok","message":null,"isBatchFinished":true}]"#,
        "[]",
    ])
    func resultsAreReadAsCodableReadsThem(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(try ExeScriptCommandResult.decodeList(value) == (try WireDecoder().decode([ExeScriptCommandResult].self, from: value)))
    }

    @Test func badResultsAreRefusedByCodable() {
        for text in [#"[{"index":0,"result":"Ok","isBatchFinished":true}]"#, #"[{"index":0,"eventDate":"yesterday","result":"Ok","isBatchFinished":true}]"#, #"{"index":0}"#] {
            let value = try? JSONParser.parse(text)
            #expect(throws: DecodingError.self, "\(text)") { try ExeScriptCommandResult.decodeList(value ?? .null) }
        }
    }

    /// Property maps and string lists are taken as they are, and still refused with Codable's
    /// error when they are something else.
    @Test func propertyMapsAndStringListsKeepEveryValue() throws {
        let text = #"{"a":[1,"x",null,{"b":2.0}],"c":null,"d":"é\n"}"#
        guard case .object(let expected) = try JSONParser.parse(text) else {
            Issue.record("not an object")
            return
        }
        #expect(try WireDecoder().decode([String: JSONValue].self, from: Array(text.utf8)) == expected)
        #expect(JSONWriter.string(try WireEncoder().encodeValue(expected)) == JSONWriter.string(.object(expected)))
        #expect(try WireDecoder().decode([String].self, from: Array(#"["a","","é"]"#.utf8)) == ["a", "", "é"])
        #expect(JSONWriter.string(try WireEncoder().encodeValue(["a", "\""])) == #"["a","\""]"#)
        let notAMap = #expect(throws: DecodingError.self) { try WireDecoder().decode([String: JSONValue].self, from: Array("[1]".utf8)) }
        guard case .typeMismatch? = notAMap else {
            Issue.record("an array where a map is expected is a type mismatch")
            return
        }
        let notStrings = #expect(throws: DecodingError.self) { try WireDecoder().decode([String].self, from: Array(#"["a",2]"#.utf8)) }
        #expect(notStrings?.fieldPath == "[1]")
    }
}

@Suite struct TimestampFormatTests {
    /// The byte writer gives the text the piecewise formatter gives, for instants across the
    /// years (before 1970 too) and every number of fraction digits.
    @Test func bytesAndPiecesAgree() {
        var instants: [Int64] = [0, -1, 1, 999_999_999, -1_000_000_000, 1_764_411_200_123_456_789, .max, .min + 1_000_000_000]
        // 500 instants spread over what nanoseconds since 1970 can hold (years 1678–2262).
        var instant: Int64 = -9_000_000_000_000_000_000
        for _ in 0..<500 {
            instants.append(instant)
            instant += 36_028_797_018_963_967
        }
        for nanos in instants {
            for digits in [0, 1, 3, 6, 9, 12] {
                for zulu in [true, false] {
                    #expect(WireTimestamp.format(nanos, fractionDigits: digits, zulu: zulu) == WireTimestamp.formatByParts(nanos, fractionDigits: digits, zulu: zulu), "\(nanos) \(digits)")
                }
            }
        }
        #expect(WireTimestamp.format(1_764_411_200_123_456_789, fractionDigits: 6, zulu: true) == "2025-11-29T10:13:20.123456Z")
    }

    /// An exec body is written as Codable writes it; with unknown fields to merge, Codable writes it.
    @Test func execBodiesAreWrittenAsCodableWritesThem() throws {
        for commands in [[], FastWireTests.commands, [FastWireTests.commands[3]]] {
            let request = try ExeScriptRequest(commands: commands)
            #expect(try #require(request.fastWireValue) == WireEncoder().encodeValue(request))
        }
        for amount in ["0", "0.000123456789012", "12.5", "-3", "1000000000000000000000.000001"] {
            let acceptance = Acceptance(totalAmountAccepted: Decimal(string: amount)!, allocationId: "alloc-\(amount)")
            #expect(try #require(acceptance.fastWireValue) == WireEncoder().encodeValue(acceptance))
        }
        var extraAcceptance = Acceptance(totalAmountAccepted: 1, allocationId: "a")
        extraAcceptance.unknownFields["note"] = "x"
        #expect(extraAcceptance.fastWireValue == nil)
        var extra = ExeScriptRequest(text: "[]")
        extra.unknownFields["note"] = "x"
        #expect(extra.fastWireValue == nil)
        #expect(try WireEncoder().encodeValue(extra) == ["text": "[]", "note": "x"])
    }
}
