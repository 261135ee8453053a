import Foundation
import Testing
@testable import YagnaAPI

/// Decodes `sample` as `T`, re-encodes it, and checks the JSON is equal.
func roundTrip<T: Codable>(_ type: T.Type, _ sample: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let model = try WireDecoder().decode(T.self, from: sample)
    let encoded = try WireEncoder().encodeValue(model)
    #expect(encoded == sample, "\(T.self) re-encoded differently:\n\(encoded)\nvs\n\(sample)", sourceLocation: sourceLocation)
}

@Suite struct WireModelTests {
    static let models: [String: @Sendable (JSONValue) throws -> Void] = [
        "Identity": { try roundTrip(Identity.self, $0) },
        "NewAllocation": { try roundTrip(NewAllocation.self, $0) },
        "Allocation": { try roundTrip(Allocation.self, $0) },
        "AllocationUpdate": { try roundTrip(AllocationUpdate.self, $0) },
        "DemandDecoration": { try roundTrip(DemandDecoration.self, $0) },
        "Account": { try roundTrip(Account.self, $0) },
        "PaymentEvent": { try roundTrip(PaymentEvent.self, $0) },
        "Invoice": { try roundTrip(Invoice.self, $0) },
        "DebitNote": { try roundTrip(DebitNote.self, $0) },
        "Acceptance": { try roundTrip(Acceptance.self, $0) },
        "Rejection": { try roundTrip(Rejection.self, $0) },
        "DemandBody": { try roundTrip(DemandBody.self, $0) },
        "Proposal": { try roundTrip(Proposal.self, $0) },
        "MarketEvent": { try roundTrip(MarketEvent.self, $0) },
        "AgreementProposal": { try roundTrip(AgreementProposal.self, $0) },
        "Agreement": { try roundTrip(Agreement.self, $0) },
        "AgreementListEntry": { try roundTrip(AgreementListEntry.self, $0) },
        "AgreementEvent": { try roundTrip(AgreementEvent.self, $0) },
        "Reason": { try roundTrip(Reason.self, $0) },
        "CreateActivityRequest": { try roundTrip(CreateActivityRequest.self, $0) },
        "CreateActivityResponse": { try roundTrip(CreateActivityResponse.self, $0) },
        "ExeScriptRequest": { try roundTrip(ExeScriptRequest.self, $0) },
        "ExeScriptCommand": { try roundTrip(ExeScriptCommand.self, $0) },
        "ExeScriptCommandResult": { try roundTrip(ExeScriptCommandResult.self, $0) },
        "RuntimeEvent": { try roundTrip(RuntimeEvent.self, $0) },
        "ActivityStateResponse": { try roundTrip(ActivityStateResponse.self, $0) },
        "ActivityUsage": { try roundTrip(ActivityUsage.self, $0) },
        "VersionInfo": { try roundTrip(VersionInfo.self, $0) },
    ]

    @Test func everySampleRoundTrips() throws {
        let samples = try Fixtures.samples()
        #expect(Set(samples.keys) == Set(Self.models.keys), "every sample set has a model and every model has samples")
        for name in samples.keys.sorted() {
            for sample in samples[name]! { try Self.models[name]!(sample) }
        }
    }

    @Test func pricingCoefficientsStayFloats() throws {
        let proposal = try WireDecoder().decode(Proposal.self, from: Fixtures.samples()["Proposal"]![0])
        let text = JSONWriter.string(try WireEncoder().encodeValue(proposal))
        #expect(text.contains(#""golem.com.pricing.model.linear.coeffs":[0.0,0.0001,0.0]"#))
        #expect(JSONWriter.string(.array([.double(0), .double(1), .double(2.5)])) == "[0.0,1.0,2.5]")
        #expect(JSONWriter.string(try WireEncoder().encodeValue([0.0, 3.0])) == "[0.0,3.0]")
    }

    @Test func moneyIsExactDecimalOnTheWire() throws {
        let allocation = try WireDecoder().decode(Allocation.self, from: Fixtures.samples()["Allocation"]![1])
        #expect(allocation.totalAmount == Decimal(string: "10.000000000000000001")!)
        #expect(allocation.totalAmount - allocation.spentAmount == allocation.remainingAmount)
        let acceptance = Acceptance(totalAmountAccepted: Decimal(string: "0.0012")!, allocationId: "a")
        #expect(try WireEncoder().encodeValue(acceptance)["totalAmountAccepted"] == .string("0.0012"))
        // The daemon also accepts amounts as numbers.
        let fromNumber = try WireDecoder().decode(Acceptance.self, from: ["totalAmountAccepted": 0.5, "allocationId": "a"])
        #expect(fromNumber.totalAmountAccepted == Decimal(string: "0.5")!)
    }

    @Test func unknownFieldsSurvive() throws {
        let sample: JSONValue = [
            "proposalId": "p", "issuerId": "i", "state": "Draft", "timestamp": "2026-01-01T00:00:00Z",
            "properties": ["a.b": 1], "constraints": "()", "newField": ["x": [1, 2]], "prevProposalId": nil,
        ]
        let proposal = try WireDecoder().decode(Proposal.self, from: sample)
        #expect(proposal.unknownFields["newField"] == ["x": [1, 2]])
        #expect(proposal.prevProposalId == nil)
        #expect(try WireEncoder().encodeValue(proposal) == sample)
    }

    @Test func createdIdsAreBareStrings() throws {
        #expect(try WireDecoder().decode(String.self, from: Array(#""abc""#.utf8)) == "abc")
        #expect(JSONWriter.string(try WireEncoder().encodeValue(CreateActivityRequest.legacy(agreementId: "agr"))) == #""agr""#)
    }

    @Test func scriptTextRoundTripsThroughCommands() throws {
        let commands: [ExeScriptCommand] = [
            .deploy(DeployCommand()), .start(StartCommand()),
            .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "date"], capture: .stream)),
        ]
        let request = try ExeScriptRequest(commands: commands)
        #expect(request.text == #"[{"deploy":{}},{"start":{"args":[]}},{"run":{"args":["-c","date"],"capture":{"stderr":{"stream":{}},"stdout":{"stream":{}}},"entry_point":"/bin/sh"}}]"#)
        #expect(try request.commands() == commands)
    }

    @Test func captureFormatAliases() throws {
        let mode = try WireDecoder().decode(CaptureMode.self, from: ["atEnd": ["headTail": 100, "format": "binary"]])
        #expect(mode == .atEnd(part: .headTail(100), format: .bin))
    }

    @Test func malformedBodiesNameTheField() throws {
        var sample = try Fixtures.samples()["MarketEvent"]![0]
        guard case .object(var event) = sample, case .object(var proposal) = event["proposal"]! else { Issue.record(); return }
        proposal["state"] = "Bogus"
        event["proposal"] = .object(proposal)
        sample = .object(event)
        do {
            _ = try WireDecoder().decode(MarketEvent.self, from: sample)
            Issue.record("decoded an invalid state")
        } catch let error as DecodingError {
            #expect(error.fieldPath == "proposal.state")
        }
        do {
            _ = try WireDecoder().decode([ExeScriptCommandResult].self, from: [["index": 0, "eventDate": "2026-01-01T00:00:00Z", "result": "Ok"]])
            Issue.record("decoded a result without isBatchFinished")
        } catch let error as DecodingError {
            #expect(error.fieldPath == "[0].isBatchFinished")
        }
        #expect(throws: DecodingError.self) { try WireDecoder().decode(Allocation.self, from: ["allocationId": "a", "totalAmount": "ten"]) }
    }

    @Test func timestampsParseLeniently() {
        let cases: [(String, Int64)] = [
            ("2026-11-22T13:23:57Z", 1_795_353_837_000_000_000),
            ("2026-11-22T13:23:57.1Z", 1_795_353_837_100_000_000),
            ("2026-11-22T13:23:57.123456789Z", 1_795_353_837_123_456_789),
            ("2026-11-22T13:23:57.156182+00:00", 1_795_353_837_156_182_000),
            ("2026-11-22T14:23:57+01:00", 1_795_353_837_000_000_000),
            ("2026-11-22T13:23:57.563906", 1_795_353_837_563_906_000),
        ]
        for (text, nanos) in cases { #expect(WireTimestamp(text: text).epochNanoseconds == nanos, "\(text)") }
        #expect(WireTimestamp(text: "yesterday").epochNanoseconds == nil)
        #expect(WireTimestamp(epochNanoseconds: 1_795_353_837_156_182_000).text == "2026-11-22T13:23:57.156182Z")
    }

    @Test func queryEscapingKeepsPlusSigns() {
        #expect(QueryItem.escape("2026-11-22T13:23:57.1+00:00") == "2026-11-22T13:23:57.1%2B00:00")
        #expect(QueryItem.parse("afterTimestamp=2026-11-22T13%3A23%3A57%2B00%3A00&x=1")
            == [QueryItem("afterTimestamp", "2026-11-22T13:23:57+00:00"), QueryItem("x", "1")])
    }

    /// Every byte either stays (letters, digits, `-._~,:`) or becomes `%XX` in upper-case hex,
    /// alone and inside a request target; what is escaped reads back as it was.
    @Test func queryEscapingOfEveryByte() {
        let kept = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~,:".utf8)
        for byte in UInt8(0)...UInt8(127) {
            let text = String(decoding: [byte], as: UTF8.self)
            let expected = kept.contains(byte) ? text : "%" + String(format: "%02X", byte)
            #expect(QueryItem.escape(text) == expected, "byte \(byte)")
            #expect(QueryItem.target("/p", [QueryItem("k" + text, text)]) == "/p?k\(expected)=\(expected)", "byte \(byte)")
        }
        let mixed = "a b+c/é\u{1F600}"
        #expect(QueryItem.escape(mixed) == "a%20b%2Bc%2F%C3%A9%F0%9F%98%80")
        #expect(QueryItem.target("/x", [QueryItem("q", mixed), QueryItem("n", "1")]) == "/x?q=a%20b%2Bc%2F%C3%A9%F0%9F%98%80&n=1")
        #expect(QueryItem.target("/x", []) == "/x")
        #expect(QueryItem.parse("q=\(QueryItem.escape(mixed))") == [QueryItem("q", mixed)])
    }

    @Test func jsonParserRejectsBadText() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "nul", "1 2"] {
            #expect(throws: JSONParser.SyntaxError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        let parsed = try? JSONParser.parse(#""\ud83d\ude00 \u00e9""#)
        #expect(parsed == .string("😀 é"))
    }
}
