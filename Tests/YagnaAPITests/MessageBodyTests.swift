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
}
