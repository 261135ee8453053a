import Foundation
import Testing
@testable import YagnaAPI

/// ExeScript commands, batch results and runtime events in yagna's JSON shapes, and how malformed ones are refused.
@Suite struct ExeScriptWireFormatTests {
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try WireDecoder().decode(type, from: Array(text.utf8))
    }

    /// The compact, key-sorted JSON text of a value.
    static func text(_ value: some Encodable) throws -> String {
        JSONWriter.string(try WireEncoder().encodeValue(value))
    }

    /// Decodes `text` as `type` expecting a refusal, and returns it.
    static func refusal<T: Decodable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> DecodingError? {
        return #expect(throws: DecodingError.self, "\(text)", sourceLocation: sourceLocation) {
            try WireDecoder().decode(type, from: Array(text.utf8))
        }
    }

    // MARK: - Commands

    @Test func startWithoutArgsIsAcceptedAndWrittenBackWithAnEmptyList() throws {
        #expect(try Self.decode(ExeScriptCommand.self, #"{"start":{}}"#) == .start(StartCommand()))
        #expect(try Self.text(ExeScriptCommand.start(StartCommand())) == #"{"start":{"args":[]}}"#)
        #expect(try Self.decode(ExeScriptCommand.self, #"{"start":{"args":["--port","80"]}}"#) == .start(StartCommand(args: ["--port", "80"])))
        let wrongArgs = Self.refusal(ExeScriptCommand.self, #"{"start":{"args":"--port 80"}}"#)
        #expect(wrongArgs?.fieldPath == "start.args")
        #expect(wrongArgs?.reason == "expected Array<JSONValue> but found string")
    }

    @Test func yapapisSpacedScriptTextParsesAndTheExecBodyKeepsItVerbatim() throws {
        let hello = #"[{"deploy": {}}, {"start": {"args": []}}]"#
        let request = ExeScriptRequest(text: hello)
        #expect(try request.commands() == [.deploy(DeployCommand()), .start(StartCommand())])
        #expect(try WireEncoder().encodeValue(request) == ["text": .string(hello)])
        let run = #"[{"run": {"entry_point": "/bin/sh", "args": ["-c", "date"], "capture": {"stdout": {"stream": {}}, "stderr": {"stream": {}}}}}]"#
        #expect(try ExeScriptRequest(text: run).commands() == [.run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "date"], capture: .stream))])
    }

    @Test func aScriptThatIsNotAnArrayOfCommandsIsRefusedWithThePlace() {
        let notArray = #expect(throws: DecodingError.self) { try ExeScriptRequest(text: #"{"deploy":{}}"#).commands() }
        #expect(notArray?.fieldPath == "(root)")
        #expect(notArray?.reason == "expected Array<JSONValue> but found object")
        let cutOff = #expect(throws: DecodingError.self) { try ExeScriptRequest(text: #"[{"deploy":{}}"#).commands() }
        #expect(cutOff?.reason == "invalid JSON at line 1, column 15: unterminated array")
        let noEntryPoint = #expect(throws: DecodingError.self) {
            try ExeScriptRequest(text: #"[{"deploy":{}},{"run":{"args":[]}}]"#).commands()
        }
        #expect(noEntryPoint?.fieldPath == "[1].run.entry_point")
        #expect(noEntryPoint?.reason == "missing field 'entry_point'")
    }

    @Test func aCommandIsAnObjectWithExactlyOneKey() {
        let noKey = Self.refusal(ExeScriptCommand.self, "{}")
        #expect(noKey?.reason == "an ExeScript command is an object with exactly one key, found 0")
        let two = Self.refusal(ExeScriptCommand.self, #"{"deploy":{},"start":{}}"#)
        #expect(two?.reason == "an ExeScript command is an object with exactly one key, found 2")
        #expect(two?.fieldPath == "(root)")
        #expect(Self.refusal([ExeScriptCommand].self, #"[{"deploy":{}},{}]"#)?.fieldPath == "[1]")
        let bare = Self.refusal(ExeScriptCommand.self, #""terminate""#)
        #expect(bare?.reason == "expected Dictionary<String, JSONValue> but found string")
    }

    @Test func unknownCommandsAreKeptAndWrittenBackAsTheyCame() throws {
        let text = #"{"sign_v2":{"x":[1,2.50]}}"#
        let command = try Self.decode(ExeScriptCommand.self, text)
        #expect(command == .other(name: "sign_v2", body: ["x": [1, .number(JSONNumber(literal: "2.50"))]]))
        #expect(command.name == "sign_v2")
        #expect(try Self.text(command) == text)
        #expect(try Self.text(ExeScriptCommand.other(name: "pause", body: 5)) == #"{"pause":5}"#)
    }

    @Test func signAndTerminateCarryTheirBodyVerbatim() throws {
        let sign = try Self.decode(ExeScriptCommand.self, #"{"sign":{"hash":"sha3"}}"#)
        #expect(sign == .sign(UnknownFields(["hash": "sha3"])))
        #expect(try Self.text(sign) == #"{"sign":{"hash":"sha3"}}"#)
        #expect(try Self.text(ExeScriptCommand.terminate(UnknownFields())) == #"{"terminate":{}}"#)
        let nullBody = Self.refusal(ExeScriptCommand.self, #"{"terminate":null}"#)
        #expect(nullBody?.fieldPath == "terminate")
        #expect(nullBody?.reason == "expected Dictionary<String, JSONValue> but found null")
    }

    @Test func runIsWrittenWithTheSnakeCaseEntryPointAndRefusesTheCamelCaseOne() throws {
        #expect(try Self.text(ExeScriptCommand.run(RunCommand(entryPoint: "/bin/ls"))) == #"{"run":{"args":[],"entry_point":"/bin/ls"}}"#)
        let camel = Self.refusal(ExeScriptCommand.self, #"{"run":{"entryPoint":"/bin/ls","args":[]}}"#)
        #expect(camel?.fieldPath == "run.entry_point")
        #expect(camel?.reason == "missing field 'entry_point'")
    }

    @Test func runWithoutArgsIsAcceptedAsTheDaemonDoes() throws {
        // ya-client's `Run { entry_point, #[serde(default)] args, capture }` and the activity API
        // spec (only `entry_point` required) accept a run without `args`.
        let command = try Self.decode(ExeScriptCommand.self, #"{"run":{"entry_point":"/bin/ls"}}"#)
        #expect(command == .run(RunCommand(entryPoint: "/bin/ls")))
    }

    @Test func captureModesAreWrittenAsTheDaemonReadsThemAndReadBack() throws {
        let cases: [(mode: CaptureMode, text: String)] = [
            (.atEnd(), #"{"atEnd":{}}"#),
            (.atEnd(part: .head(1024)), #"{"atEnd":{"head":1024}}"#),
            (.atEnd(part: .tail(10), format: .bin), #"{"atEnd":{"format":"bin","tail":10}}"#),
            (.atEnd(part: .headTail(100), format: .str), #"{"atEnd":{"format":"str","headTail":100}}"#),
            (.stream(), #"{"stream":{}}"#),
            (.stream(limit: 4096, format: .bin), #"{"stream":{"format":"bin","limit":4096}}"#),
        ]
        for (mode, text) in cases {
            #expect(try Self.text(mode) == text)
            #expect(try Self.decode(CaptureMode.self, text) == mode, "\(text)")
        }
        #expect(CaptureMode.stream().format == .str)
        #expect(CaptureMode.atEnd(part: .all, format: .bin).format == .bin)
        #expect(try Self.text(Capture.atEnd) == #"{"stderr":{"atEnd":{}},"stdout":{"atEnd":{}}}"#)
    }

    @Test func captureAliasesNormaliseAndBadModesNameTheField() throws {
        let alias = try Self.decode(CaptureMode.self, #"{"stream":{"format":"string"}}"#)
        #expect(alias == .stream(limit: nil, format: .str))
        #expect(try Self.text(alias) == #"{"stream":{"format":"str"}}"#)
        let format = Self.refusal(Capture.self, #"{"stdout":{"atEnd":{"format":"utf8"}}}"#)
        #expect(format?.fieldPath == "stdout.atEnd.format")
        #expect(format?.reason == "capture format 'utf8' is not str or bin")
        let empty = Self.refusal(Capture.self, #"{"stdout":{}}"#)
        #expect(empty?.fieldPath == "stdout")
        #expect(empty?.reason == "capture mode needs 'atEnd' or 'stream'")
        let limit = Self.refusal(Capture.self, #"{"stderr":{"stream":{"limit":1.5}}}"#)
        #expect(limit?.fieldPath == "stderr.stream.limit")
        #expect(limit?.reason == "1.5 is not an integer")
    }

    @Test func deployFromCodeWritesOnlyWhatIsSet() throws {
        let deploy = DeployCommand(
            net: [DeployNetwork(id: "net-1", ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2")],
            env: ["A": "1"], progress: ProgressArgs(updateInterval: "300ms"))
        #expect(try Self.text(ExeScriptCommand.deploy(deploy))
            == #"{"deploy":{"env":{"A":"1"},"net":[{"id":"net-1","ip":"192.168.0.0","mask":"255.255.255.0","nodeIp":"192.168.0.2"}],"progress":{"updateInterval":"300ms"}}}"#)
        #expect(try Self.text(ExeScriptCommand.deploy(DeployCommand())) == #"{"deploy":{}}"#)
    }

    @Test func aDeployWithExplicitNullsRoundTripsByteForByte() throws {
        let text = #"{"deploy":{"env":{},"hostname":null,"hosts":{},"net":[],"progress":null,"volumes":null}}"#
        let command = try Self.decode(ExeScriptCommand.self, text)
        guard case .deploy(let deploy) = command else {
            Issue.record("not a deploy: \(command)")
            return
        }
        #expect(deploy.hostname == nil)
        #expect(deploy.env == [:])
        #expect(deploy.net == [])
        #expect(try Self.text(command) == text)
    }

    @Test func transferKeepsItsFilesetAsWrittenAndNeedsBothEnds() throws {
        let text = #"{"transfer":{"fileset":[{"desc":"all text","includes":["*.txt"]}],"from":"http://example.com/a.tar.gz","to":"container:/golem/input/"}}"#
        let command = try Self.decode(ExeScriptCommand.self, text)
        guard case .transfer(let transfer) = command else {
            Issue.record("not a transfer: \(command)")
            return
        }
        #expect(transfer.fileset == [["desc": "all text", "includes": ["*.txt"]]])
        #expect(transfer.format == nil)
        #expect(try Self.text(command) == text)
        let noTarget = Self.refusal(ExeScriptCommand.self, #"{"transfer":{"from":"gftp://0xa1/abc"}}"#)
        #expect(noTarget?.fieldPath == "transfer.to")
        #expect(noTarget?.reason == "missing field 'to'")
    }

    // MARK: - Results and runtime events

    @Test func resultsBuiltInCodeWriteAbsentFieldsAsExplicitNulls() throws {
        let result = ExeScriptCommandResult(
            index: 2, eventDate: WireTimestamp(text: "2026-11-22T13:23:59.563906Z"), result: .error, stdout: .bytes([0, 255]),
            message: "ExeScript command exited with code 1", isBatchFinished: true)
        #expect(try Self.text(result)
            == #"{"eventDate":"2026-11-22T13:23:59.563906Z","index":2,"isBatchFinished":true,"message":"ExeScript command exited with code 1","result":"Error","stderr":null,"stdout":[0,255]}"#)
        let sparse = try Self.decode(
            ExeScriptCommandResult.self, #"{"index":0,"eventDate":"2026-11-22 13:23:59","result":"Ok","isBatchFinished":false}"#)
        #expect(sparse.stdout == nil && sparse.stderr == nil && sparse.message == nil)
        #expect(sparse.eventDate.epochNanoseconds == WireTimestamp(text: "2026-11-22T13:23:59Z").epochNanoseconds)
        #expect(try WireEncoder().encodeValue(sparse)["stdout"] == JSONValue.null)
    }

    @Test func outputIsTextOrBytesAndBadBytesNameTheirIndex() throws {
        #expect(try Self.decode(CommandOutput.self, "[104,105]") == .bytes([104, 105]))
        #expect(try Self.decode(CommandOutput.self, "[104,105]").text == "hi")
        #expect(try Self.decode(CommandOutput.self, #""""#) == .text(""))
        let body = #"{"index":0,"eventDate":"2026-11-22T13:23:59Z","result":"Ok","stdout":[104,256],"isBatchFinished":true}"#
        let overflow = Self.refusal(ExeScriptCommandResult.self, body)
        #expect(overflow?.fieldPath == "stdout[1]")
        #expect(overflow?.reason == "256 does not fit UInt8")
        let number = Self.refusal(ExeScriptCommandResult.self, body.replacingOccurrences(of: "[104,256]", with: "5"))
        #expect(number?.fieldPath == "stdout")
    }

    @Test func resultFieldsAreCheckedByName() {
        let lowercase = Self.refusal(
            ExeScriptCommandResult.self, #"{"index":0,"eventDate":"2026-11-22T13:23:59Z","result":"ok","isBatchFinished":true}"#)
        #expect(lowercase?.fieldPath == "result")
        let quotedIndex = Self.refusal(
            ExeScriptCommandResult.self, #"{"index":"0","eventDate":"2026-11-22T13:23:59Z","result":"Ok","isBatchFinished":true}"#)
        #expect(quotedIndex?.fieldPath == "index")
        #expect(quotedIndex?.reason == "expected Int but found string")
    }

    @Test func runtimeEventsAreSnakeCaseWithNaiveTimestamps() throws {
        let event = RuntimeEvent(
            batchId: "b1", index: 1, timestamp: WireTimestamp(text: "2026-11-22T13:23:59.7"), kind: .finished(returnCode: -1, message: nil))
        let text = #"{"batch_id":"b1","index":1,"kind":{"finished":{"message":null,"return_code":-1}},"timestamp":"2026-11-22T13:23:59.7"}"#
        #expect(try Self.text(event) == text)
        let decoded = try Self.decode(RuntimeEvent.self, text)
        #expect(decoded.kind == .finished(returnCode: -1, message: nil))
        #expect(decoded.timestamp.epochNanoseconds == WireTimestamp(text: "2026-11-22T13:23:59.7Z").epochNanoseconds)

        let camel = Self.refusal(RuntimeEvent.self, text.replacingOccurrences(of: "batch_id", with: "batchId"))
        #expect(camel?.fieldPath == "batch_id")
        let unknownKind = Self.refusal(RuntimeEvent.self, text.replacingOccurrences(of: #"{"finished":{"message":null,"return_code":-1}}"#, with: #"{"paused":{}}"#))
        #expect(unknownKind?.fieldPath == "kind")
        #expect(unknownKind?.reason == "runtime event kind must be started, finished, stdout, stderr or progress")
        let quotedCode = Self.refusal(RuntimeEvent.self, text.replacingOccurrences(of: #""return_code":-1"#, with: #""return_code":"-1""#))
        #expect(quotedCode?.fieldPath == "kind.finished.return_code")
        #expect(quotedCode?.reason == "expected Int but found string")
    }
}
