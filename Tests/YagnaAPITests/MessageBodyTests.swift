import Foundation
import Testing
@testable import YagnaAPI

/// A body held as bytes or as a JSON value (bytes written when read): either way it reads, compares
/// and changes as its bytes.
@Suite struct MessageBodyTests {
    struct Item: Codable, Sendable, Equatable {
        var id: String
        var amount: Double
    }

    static let value: JSONValue = ["b": [1, "two", .null], "a": .string("x\"y"), "c": .bool(true)]

    @Test func aValueBodyReadsAsTheWritersBytes() {
        let body = MessageBody(json: Self.value)
        #expect(body.bytes == JSONWriter.bytes(Self.value))
        #expect(body.json == Self.value)
        #expect(!body.isEmpty)
        // Copies read the same bytes; reading twice gives the same.
        let copy = body
        #expect(copy.bytes == body.bytes)
        #expect(body.bytes == JSONWriter.bytes(Self.value))
    }

    @Test func bodiesCompareAndHashByTheirBytes() {
        let asValue = MessageBody(json: Self.value)
        let asBytes = MessageBody(bytes: JSONWriter.bytes(Self.value))
        #expect(asValue == asBytes)
        #expect(asValue.hashValue == asBytes.hashValue)
        #expect(asValue != MessageBody(json: ["a": 1]))
        #expect(MessageBody().isEmpty)
        #expect(MessageBody(bytes: [0x20]).json == nil)
    }

    @Test func settingBytesDropsTheValueAndTheTypedAnswer() {
        var body = MessageBody(json: Self.value)
        body.typed = 42
        body.bytes = Array("[]".utf8)
        #expect(body.json == nil)
        #expect(body.typed == nil)
        #expect(body.bytes == Array("[]".utf8))
    }

    @Test func clearingTheValueKeepsTheBytesAndSettingOneReplacesThem() {
        var body = MessageBody(json: Self.value)
        body.typed = "answer"
        body.json = nil
        #expect(body.json == nil)
        #expect(body.typed == nil)
        #expect(body.bytes == JSONWriter.bytes(Self.value))
        body.json = [1, 2]
        #expect(body.bytes == Array("[1,2]".utf8))
        // Clearing a body that has no value changes nothing.
        var raw = MessageBody(bytes: [1, 2, 3])
        raw.json = nil
        #expect(raw.bytes == [1, 2, 3])
    }

    /// Bytes parsed elsewhere keep their own layout beside the value they parse to.
    @Test func knownBytesAreKeptAsTheyCame() throws {
        let text = Array(#"{ "a" : 1 }"#.utf8)
        let body = MessageBody(json: try JSONParser.parse(text), bytes: text)
        #expect(body.bytes == text)
        #expect(body.json == ["a": 1])
    }

    @Test func requestsAndResponsesReadTheirBodiesThroughIt() {
        var request = YagnaRequest(operation: "x.y", service: .market, method: .POST, path: "/p", body: [1])
        #expect(request.json == nil)
        request.json = Self.value
        #expect(request.body == JSONWriter.bytes(Self.value))
        request.body = nil
        #expect(request.content == nil && request.json == nil)

        var response = YagnaResponse.json(200, Self.value)
        #expect(response.body == JSONWriter.bytes(Self.value))
        #expect(response == YagnaResponse(status: 200, headers: [Header("Content-Type", "application/json")], body: JSONWriter.bytes(Self.value)))
        response.body = Array("null".utf8)
        #expect(response.json == nil)
        let typed = YagnaResponse.json(201, ["id": "a", "amount": 1.5], typed: Item(id: "a", amount: 1.5))
        #expect(typed.content.typed as? Item == Item(id: "a", amount: 1.5))
        #expect(typed.body == Array(#"{"amount":1.5,"id":"a"}"#.utf8))
        #expect(typed.status == 201 && typed.header("content-type") == "application/json")
    }

    /// The value handed over is read by its type; a body without one gives nothing, also for an
    /// optional type (a bare `typed as? Reason?` would give a `nil` reason instead).
    @Test func aHandedOverValueIsReadByItsType() {
        var body = MessageBody(json: ["message": "bye"])
        #expect(body.handedOver(as: Reason?.self) == nil)
        #expect(body.handedOver(as: Reason.self) == nil)
        body.typed = Reason(message: "bye")
        #expect(body.handedOver(as: Reason?.self) == .some(Reason(message: "bye")))
        #expect(body.handedOver(as: Reason.self) == Reason(message: "bye"))
        #expect(body.handedOver(as: String.self) == nil)
    }

    /// Counts how often a deferred body made its value.
    final class Calls: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return n }
    }

    /// A deferred body makes its value only when read, once for every copy, and reads, compares
    /// and hashes as a body made from that value.
    @Test func aDeferredBodyMakesItsValueOnceAndOnlyWhenRead() {
        let calls = Calls()
        var body = MessageBody(deferred: { calls.add(); return Self.value })
        body.typed = Item(id: "a", amount: 1)
        let copy = body
        #expect(calls.count == 0)
        #expect(!body.isEmpty && calls.count == 0)
        #expect(body.handedOver(as: Item.self) == Item(id: "a", amount: 1))
        #expect(calls.count == 0)
        #expect(copy.json == Self.value)
        #expect(calls.count == 1)
        #expect(body.bytes == JSONWriter.bytes(Self.value))
        #expect(copy.bytes == body.bytes)
        #expect(body == MessageBody(json: Self.value))
        #expect(body.hashValue == MessageBody(bytes: JSONWriter.bytes(Self.value)).hashValue)
        #expect(calls.count == 1)
        // Bytes read first make the value too, once.
        let other = Calls()
        let bytesFirst = MessageBody(deferred: { other.add(); return [1, 2] })
        #expect(bytesFirst.bytes == Array("[1,2]".utf8))
        #expect(bytesFirst.json == [1, 2])
        #expect(other.count == 1)
    }

    @Test func aDeferredBodyReadFromManyTasksAtOnceMakesItsValueOnce() async {
        let calls = Calls()
        let body = MessageBody(deferred: { calls.add(); return Self.value })
        let reads = await withTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<32 { group.addTask { body.bytes } }
            return await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(reads.count == 32 && Set(reads) == [JSONWriter.bytes(Self.value)])
        #expect(calls.count == 1)
    }

    /// An exec body made in-process writes the script's text only when read, as the text the
    /// commands encode to.
    @Test func aPreparedExecBodyIsTheTextOfItsCommands() throws {
        let commands: [ExeScriptCommand] = [.deploy(DeployCommand()), .start(StartCommand()), .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo \"hi\""]))]
        let prepared = try ExeScriptRequest.prepared(commands)
        #expect(prepared.commands == commands)
        #expect(try prepared.request.commands() == commands)
        #expect(prepared.request == (try ExeScriptRequest(commands: commands)))
        #expect(prepared.wireValue == (try WireEncoder().encodeValue(prepared.request)))
        let body = MessageBody(deferred: { prepared.wireValue })
        #expect(try WireDecoder().decode(ExeScriptRequest.self, from: body.bytes).commands() == commands)
    }
}
