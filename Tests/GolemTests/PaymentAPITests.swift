import Foundation
import GolemTime
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// The requestor's payment API (`/payment-api/v1`) as the simulated node answers it through
/// `NodeCore.handle`: allocations, debit notes, invoices and their events, on explicit times.
@Suite struct PaymentAPITests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
    /// `RequestorSpec.identity`'s default: the node's own address.
    let me = "0x" + String(repeating: "a1", count: 20)
    /// The payment API's 404 body for an unknown allocation, debit note, invoice or payment.
    static let nullMessage: JSONValue = .object(["message": .null])
    static let plainText = "text/plain; charset=utf-8"

    /// A provider that bills: offers and answers at once, a debit note every 10 s, the invoice a
    /// second after the agreement ends; 1 GLM to start plus 0.01 per second.
    static let billedProvider = """
        name: billed
        providers:
          - name: p
            offer-delay: 0s
            response-delay: 0s
            debit-note-interval: 10s
            invoice-delay: 1s
            pricing:
              start: 1
              per-cpu-second: 0
              per-duration-second: 0.01
        """

    // MARK: - Helpers

    func makeNode(_ yaml: String = "name: pay\nproviders:\n  - name: p\n") throws -> NodeCore {
        NodeCore(scenario: try Scenario.parse(yaml: yaml), seed: 7, appKey: "key", files: InMemoryFileExchange())
    }

    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func dec(_ text: String) -> Decimal { Decimal(string: text)! }

    /// A request with the app key; `path` from the API root.
    func apiRequest(_ method: HTTPMethod, _ path: String, _ body: String = "", query: [(String, String)] = []) -> NodeRequest {
        NodeRequest(
            method: method, path: path, query: query.map { QueryItem($0.0, $0.1) },
            headers: [Header("Authorization", "Bearer key"), Header("Content-Type", "application/json")], body: Array(body.utf8))
    }

    /// A payment-API request; `path` below `/payment-api/v1`.
    func request(_ method: HTTPMethod, _ path: String, _ body: String = "", query: [(String, String)] = []) -> NodeRequest {
        apiRequest(method, "/payment-api/v1" + path, body, query: query)
    }

    /// Sends a payment request at `time` (default `t0`) and returns the node's immediate answer.
    func send(_ node: inout NodeCore, _ method: HTTPMethod, _ path: String, _ body: String = "", query: [(String, String)] = [], at time: Date? = nil) -> YagnaResponse {
        let outcome = node.handle(request(method, path, body, query: query), now: time ?? t0)
        guard case .respond(let response) = outcome else {
            Issue.record("\(method.rawValue) \(path) was not answered at once: \(outcome)")
            return YagnaResponse(status: 0)
        }
        return response
    }

    func json(_ r: YagnaResponse) -> JSONValue? { try? JSONParser.parse(r.body) }
    func text(_ r: YagnaResponse) -> String { String(decoding: r.body, as: UTF8.self) }
    /// The text of a `{"message": …}` body.
    func message(_ r: YagnaResponse) -> String? { json(r)?["message"]?.stringValue }
    func decode<T: Decodable>(_ type: T.Type, _ r: YagnaResponse) throws -> T { try WireDecoder().decode(type, from: r.body) }

    func accept(_ amount: String, _ allocationId: String) -> String {
        #"{"totalAmountAccepted":"\#(amount)","allocationId":"\#(allocationId)"}"#
    }

    /// Creates an allocation on the node's own platform and returns its id.
    func allocate(_ node: inout NodeCore, _ total: String, timeout: Date? = nil, at time: Date? = nil) throws -> String {
        var body = #"{"totalAmount":"\#(total)""#
        if let timeout { body += #","timeout":"\#(WireTimestamp(timeout, fractionDigits: 3).text)""# }
        let r = send(&node, .POST, "/allocations", body + "}", at: time)
        try #require(r.status == 201, "\(text(r))")
        return try decode(Allocation.self, r).allocationId
    }

    func allocation(_ node: inout NodeCore, _ id: String, at time: Date? = nil) throws -> Allocation {
        let r = send(&node, .GET, "/allocations/\(id)", at: time)
        try #require(r.status == 200, "\(text(r))")
        return try decode(Allocation.self, r)
    }

    func noteStatus(_ node: inout NodeCore, _ id: String, at time: Date? = nil) -> DocumentStatus? {
        (try? decode(DebitNote.self, send(&node, .GET, "/debitNotes/\(id)", at: time)))?.status
    }

    func invoiceStatus(_ node: inout NodeCore, _ id: String, at time: Date? = nil) -> DocumentStatus? {
        (try? decode(Invoice.self, send(&node, .GET, "/invoices/\(id)", at: time)))?.status
    }

    /// A debit note the provider sent, and its `DebitNoteReceivedEvent`, as the node records them.
    func addDebitNote(
        _ node: inout NodeCore, _ id: String, due: String, at time: Date, agreement: String = "agreement-1", activity: String = "activity-1",
        status: DocumentStatus = .received
    ) {
        let note = DebitNote(
            debitNoteId: id, issuerId: "0xprovider", recipientId: me, payeeAddr: "0xprovider", payerAddr: me, paymentPlatform: "erc20-holesky-tglm",
            previousDebitNoteId: nil, timestamp: WireTimestamp(time, fractionDigits: 3), agreementId: agreement, activityId: activity,
            totalAmountDue: dec(due), usageCounterVector: nil, paymentDueDate: nil, status: status)
        node.store(debitNote: DebitNoteRecord(note: note))
        node.debitNoteEvents.append(PaymentEvent(eventType: "DebitNoteReceivedEvent", eventDate: WireTimestamp(time, fractionDigits: 6), debitNoteId: id))
    }

    /// An invoice the provider sent, and its `InvoiceReceivedEvent`.
    func addInvoice(
        _ node: inout NodeCore, _ id: String, amount: String, at time: Date, agreement: String = "agreement-1", activities: [String] = ["activity-1"],
        status: DocumentStatus = .received
    ) {
        let invoice = Invoice(
            invoiceId: id, issuerId: "0xprovider", recipientId: me, payeeAddr: "0xprovider", payerAddr: me, paymentPlatform: "erc20-holesky-tglm",
            timestamp: WireTimestamp(time, fractionDigits: 3), agreementId: agreement, activityIds: activities, amount: dec(amount),
            paymentDueDate: WireTimestamp(time.addingTimeInterval(86400), fractionDigits: 3), status: status)
        node.invoices[id] = InvoiceRecord(invoice: invoice)
        node.invoiceEvents.append(PaymentEvent(eventType: "InvoiceReceivedEvent", eventDate: WireTimestamp(time, fractionDigits: 6), invoiceId: id))
    }

    /// Opens an event poll at `time` and answers it there (`final`: the deadline has come).
    /// `nil` when the node refuses the poll or keeps it waiting.
    func eventIds(_ node: inout NodeCore, _ path: String = "/debitNoteEvents", query: [(String, String)] = [], at time: Date, final: Bool = true) -> [String]? {
        let outcome = node.handle(request(.GET, path, query: query), now: time)
        guard case .wait(let poll, _) = outcome else {
            Issue.record("\(path) \(query) was not kept as a poll: \(outcome)")
            return nil
        }
        guard let answer = node.retry(poll, now: time, final: final), answer.status == 200,
            let events = try? decode([PaymentEvent].self, answer)
        else { return nil }
        return events.map { $0.debitNoteId ?? $0.invoiceId ?? "?" }
    }

    func stringBody(_ outcome: NodeOutcome) -> String? {
        guard case .respond(let r) = outcome else { return nil }
        return json(r)?.stringValue
    }

    func firstProposal(_ r: YagnaResponse?) -> Proposal? {
        guard let r, let events = try? WireDecoder().decode([MarketEvent].self, from: r.body) else { return nil }
        for case .proposal(_, let p) in events { return p }
        return nil
    }

    /// Negotiates an agreement whose requestor side names the payment platform (so the provider
    /// bills it) and starts one activity on it, all at `t0`.
    func billedSession(_ node: inout NodeCore) throws -> (agreement: String, activity: String) {
        // (`node` is an inout parameter: every call on it stays outside the expectation macros.)
        let subscribed = node.handle(apiRequest(.POST, "/market-api/v1/demands", #"{"properties":{},"constraints":""}"#), now: t0)
        let sub = try #require(stringBody(subscribed))
        let offers = node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0, final: true)
        let initial = try #require(firstProposal(offers))
        let counter = #"{"properties":{"golem.srv.comp.expiration":4102444800000,"golem.com.payment.chosen-platform":"erc20-holesky-tglm"},"constraints":""}"#
        _ = node.handle(apiRequest(.POST, "/market-api/v1/demands/\(sub)/proposals/\(initial.proposalId)", counter), now: t0)
        let drafts = node.retry(.demandEvents(subscriptionId: sub, maxEvents: 10), now: t0, final: true)
        let draft = try #require(firstProposal(drafts))
        let agreementBody = #"{"proposalId":"\#(draft.proposalId)","validTo":"2030-01-01T00:00:00Z"}"#
        let created = node.handle(apiRequest(.POST, "/market-api/v1/agreements", agreementBody), now: t0)
        let agreement = try #require(stringBody(created))
        _ = node.handle(apiRequest(.POST, "/market-api/v1/agreements/\(agreement)/confirm"), now: t0)
        let started = node.handle(apiRequest(.POST, "/activity-api/v1/activity", "\"\(agreement)\""), now: t0)
        let activity = try #require(stringBody(started))
        return (agreement, activity)
    }

    // MARK: - Allocations

    @Test func anAllocationTakesTheDaemonsDefaultsAndIsFetchedAndListed() throws {
        var node = try makeNode()
        let created = send(&node, .POST, "/allocations", #"{"totalAmount":"2.5"}"#)
        #expect(created.status == 201 && created.header("Content-Type") == "application/json")
        let a = try decode(Allocation.self, created)
        #expect(a.allocationId.count == 36 && Array(a.allocationId)[14] == "4", "a UUID v4 as the daemon's: \(a.allocationId)")
        #expect(a.paymentPlatform == "erc20-holesky-tglm" && a.address == me)
        #expect(a.totalAmount == dec("2.5") && a.spentAmount == 0 && a.remainingAmount == dec("2.5"))
        #expect(a.timestamp.text == "2027-01-15T08:00:00.000000000Z")
        #expect(a.createdTs == a.timestamp && a.updatedTs == a.timestamp)
        #expect(a.makeDeposit == false && a.timeout == nil && a.deposit == nil && a.extendTimeout == nil)
        // Amounts are decimal strings; absent options are absent, not null.
        let wire = try #require(json(created))
        #expect(wire["totalAmount"] == "2.5" && wire["spentAmount"] == "0" && wire["remainingAmount"] == "2.5")
        #expect(wire["timeout"] == nil && wire["deposit"] == nil && wire["extendTimeout"] == nil)
        let fetched = send(&node, .GET, "/allocations/\(a.allocationId)", at: at(1))
        #expect(fetched.status == 200 && fetched.body == created.body)
        let second = try allocate(&node, "1", at: at(1))
        let listed = try decode([Allocation].self, send(&node, .GET, "/allocations", at: at(2)))
        #expect(listed.map(\.allocationId) == [a.allocationId, second])
    }

    /// yapapi sends the whole `Allocation` shape with empty strings; what the daemon does not
    /// read is ignored, and the optional fields it does read come back.
    @Test func yapapisFullBodyAndTheOptionalFieldsAreAccepted() throws {
        var node = try makeNode()
        let yapapi = #"""
            {"allocationId":"","address":"\#(me)","paymentPlatform":"erc20-holesky-tglm","totalAmount":"1","spentAmount":"",
             "remainingAmount":"","timestamp":"2020-01-01T00:00:00Z","timeout":"2037-01-15T08:00:00Z","makeDeposit":false}
            """#
        let r = send(&node, .POST, "/allocations", yapapi, at: at(5))
        #expect(r.status == 201, "\(text(r))")
        let a = try decode(Allocation.self, r)
        #expect(!a.allocationId.isEmpty && a.spentAmount == 0 && a.remainingAmount == 1)
        #expect(a.timestamp.text == "2027-01-15T08:00:05.000000000Z", "the node's time, not the body's")
        #expect(a.timeout?.text == "2037-01-15T08:00:00Z")
        let options = send(&node, .POST, "/allocations", #"{"totalAmount":"4","extendTimeout":3600,"makeDeposit":true,"deposit":{"contract":"0xc0","id":"0x01"}}"#)
        #expect(options.status == 201, "\(text(options))")
        let o = try decode(Allocation.self, options)
        #expect(o.extendTimeout == 3600 && o.makeDeposit && o.deposit?["contract"] == "0xc0")
        let nullDeposit = try decode(Allocation.self, send(&node, .POST, "/allocations", #"{"totalAmount":"4","deposit":null}"#))
        #expect(nullDeposit.deposit == nil)
    }

    @Test func aTimeoutInThePastIsAProblemNamingTheTimeoutAndTheRequest() throws {
        var node = try makeNode()
        let r = send(&node, .POST, "/allocations", #"{"totalAmount":"1","timeout":"2027-01-15T07:59:59.5Z"}"#)
        #expect(r.status == 400 && r.header("Content-Type") == "application/problem+json")
        let p = try #require(json(r))
        #expect(p["type"] == "/payment-api/v1/allocations/validation-error")
        #expect(p["instance"] == "/payment-api/v1/allocations/validation-error/timeout-passed")
        #expect(p["detail"] == "Requested allocation timeout is in the past")
        // chrono's `to_rfc3339` (+00:00) for the timeout, serde's (Z) in the echoed body.
        #expect(p["requestedTimeout"] == "2027-01-15T07:59:59.500+00:00")
        #expect(p["paymentPlatform"] == "erc20-holesky-tglm" && p["address"] == .string(me))
        let body: JSONValue = [
            "address": nil, "deposit": nil, "extendTimeout": nil, "makeDeposit": false, "paymentPlatform": nil,
            "timeout": "2027-01-15T07:59:59.500Z", "totalAmount": "1",
        ]
        #expect(p["requestBody"] == body)
        #expect(text(send(&node, .GET, "/allocations")) == "[]", "nothing was created")
        // A timeout of exactly now has not passed yet.
        #expect(send(&node, .POST, "/allocations", #"{"totalAmount":"1","timeout":"2027-01-15T08:00:00Z"}"#).status == 201)
    }

    @Test func aPlatformThatDoesNotParseIsAProblemWithTheParseError() throws {
        var node = try makeNode()
        let mismatch =
            "Validate token failed (2): Token glm does not match expected token tglm for driver erc20 and network holesky. "
            + "Note that for test networks expected token name is tglm and for production networks it is glm"
        let cases: [(platform: String, parseError: String, echoed: String)] = [
            (#""erc20-holesky""#, "paymentPlatform must be of the form driver-network-token instead of erc20-holesky", #""erc20-holesky""#),
            (#""erc20-rinkeby-tglm""#, "Validate network failed (2): Rinkeby is no longer supported", #""erc20-rinkeby-tglm""#),
            // The network is checked before the driver.
            (#""zksync-nowhere-tglm""#, "Validate network failed (2): Invalid network name: nowhere", #""zksync-nowhere-tglm""#),
            (#""zksync-holesky-tglm""#, "Validate driver failed (2): Invalid driver name zksync", #""zksync-holesky-tglm""#),
            (
                #""erc20-holesky-tGLM""#, "Validate token failed (2): Uppercase token names are not supported. Use lowercase glm or tglm instead of tGLM",
                #""erc20-holesky-tGLM""#
            ),
            (#""erc20-holesky-glm""#, mismatch, #""erc20-holesky-glm""#),
            (
                #"{"token":"GLM"}"#, "Uppercase token names are not supported. Use lowercase glm or tglm instead of GLM",
                #"{"driver":null,"network":null,"token":"GLM"}"#
            ),
            (#"{"token":"eth"}"#, "Only glm or tglm token values are accepted vs eth provided", #"{"driver":null,"network":null,"token":"eth"}"#),
            (#"{"network":"nowhere"}"#, "Validate network failed (1): Invalid network name: nowhere", #"{"driver":null,"network":"nowhere","token":null}"#),
            (
                #"{"driver":"zksync","network":"polygon"}"#, "Validate driver failed (1): Invalid driver name zksync",
                #"{"driver":"zksync","network":"polygon","token":null}"#
            ),
        ]
        for c in cases {
            let r = send(&node, .POST, "/allocations", #"{"totalAmount":"3","paymentPlatform":\#(c.platform)}"#)
            #expect(r.status == 400 && r.header("Content-Type") == "application/problem+json", "\(c.platform)")
            let p = json(r)
            #expect(p?["type"] == "/payment-api/v1/allocations/bad-payment-platform", "\(c.platform)")
            #expect(p?["detail"] == "Payment platform doesn't parse", "\(c.platform)")
            #expect(p?["parseError"] == .string(c.parseError), "\(c.platform)")
            let echoed = try JSONParser.parse(c.echoed)
            #expect(p?["requestedPaymentPlatform"] == echoed, "\(c.platform)")
            #expect(p?["requestBody"]?["paymentPlatform"] == echoed, "\(c.platform)")
        }
        #expect(text(send(&node, .GET, "/allocations")) == "[]")
    }

    /// The node holds test tokens on erc20-holesky-tglm only: a platform that parses but is
    /// another one is refused for funds; the object form's missing parts take the defaults.
    @Test func anotherPlatformHasNoFundsAndObjectFormsTakeTheDefaults() throws {
        var node = try makeNode()
        let unfunded: [(String, String)] = [
            (#""erc20-polygon-glm""#, "erc20-polygon-glm"), (#"{"token":"glm"}"#, "erc20-polygon-glm"),
            (#"{"network":"sepolia"}"#, "erc20-sepolia-tglm"), (#"{"network":"mainnet","token":"glm"}"#, "erc20-mainnet-glm"),
        ]
        for (requested, platform) in unfunded {
            let r = send(&node, .POST, "/allocations", #"{"totalAmount":"3","paymentPlatform":\#(requested)}"#)
            #expect(r.status == 400 && r.header("Content-Type") == "application/problem+json", "\(requested)")
            let p = json(r)
            #expect(p?["type"] == "/payment-api/v1/allocations/validation-error", "\(requested)")
            #expect(p?["instance"] == "/payment-api/v1/allocations/validation-error/insufficient-account-funds", "\(requested)")
            #expect(
                p?["detail"]
                    == "Insufficient funds to create the allocation. Top up your account or release all existing allocations to unlock the funds via `yagna payment release-allocations`"
            )
            #expect(p?["requestedFunds"] == "3" && p?["availableFunds"] == "0" && p?["reservedFunds"] == "0", "\(requested)")
            #expect(p?["paymentPlatform"] == .string(platform) && p?["address"] == .string(me), "\(requested)")
        }
        for requested in [#""erc20-holesky-tglm""#, "{}", #"{"driver":"erc20"}"#, #"{"token":"tglm"}"#, #"{"network":"holesky"}"#] {
            let r = send(&node, .POST, "/allocations", #"{"totalAmount":"3","paymentPlatform":\#(requested)}"#)
            #expect(r.status == 201, "\(requested): \(text(r))")
            #expect((try? decode(Allocation.self, r))?.paymentPlatform == "erc20-holesky-tglm", "\(requested)")
        }
    }

    @Test func malformedAllocationBodiesAreSerdeErrorsInPlainText() throws {
        var node = try makeNode()
        let missing = send(&node, .POST, "/allocations", "{}")
        #expect(missing.status == 400 && missing.header("Content-Type") == Self.plainText)
        #expect(text(missing) == "Json deserialize error: missing field `totalAmount` at line 1 column 2")
        let wrongType = send(&node, .POST, "/allocations", #"{"totalAmount":"1","makeDeposit":1}"#)
        #expect(wrongType.status == 400 && text(wrongType).hasPrefix("Json deserialize error: invalid type: integer `1`, expected a boolean at line 1 column "))
        let badTime = send(&node, .POST, "/allocations", #"{"totalAmount":"1","timeout":"soon"}"#)
        #expect(badTime.status == 400 && badTime.header("Content-Type") == Self.plainText)
        #expect(text(badTime).hasPrefix("Json deserialize error: ") && text(badTime).contains("input contains invalid characters"))
        let badAmount = send(&node, .POST, "/allocations", #"{"totalAmount":"lots"}"#)
        #expect(badAmount.status == 400 && badAmount.header("Content-Type") == Self.plainText && text(badAmount).hasPrefix("Json deserialize error: "))
        #expect(text(send(&node, .GET, "/allocations")) == "[]")
    }

    @Test func amendingChangesTheTotalOrTimeoutAndKeepsTheTimestamps() throws {
        var node = try makeNode()
        let id = try allocate(&node, "10", timeout: at(100))
        let original = try allocation(&node, id)
        let raised = send(&node, .PUT, "/allocations/\(id)", #"{"totalAmount":"12.5"}"#, at: at(1))
        #expect(raised.status == 200)
        let a = try decode(Allocation.self, raised)
        #expect(a.totalAmount == dec("12.5") && a.remainingAmount == dec("12.5") && a.spentAmount == 0)
        #expect(a.timestamp == original.timestamp && a.updatedTs == original.updatedTs && a.timeout == original.timeout)
        let same = send(&node, .PUT, "/allocations/\(id)", "{}", at: at(2))
        #expect(same.status == 200 && same.body == raised.body, "an empty update changes nothing")
        // A later timeout keeps the allocation past its first one, until the new one.
        let extended = send(&node, .PUT, "/allocations/\(id)", #"{"timeout":"2027-01-15T08:05:00Z"}"#, at: at(3))
        #expect(extended.status == 200)
        #expect((try? decode(Allocation.self, extended))?.timeout?.text == "2027-01-15T08:05:00Z")
        #expect(send(&node, .GET, "/allocations/\(id)", at: at(200)).status == 200)
        let expired = send(&node, .GET, "/allocations/\(id)", at: at(300))
        #expect(expired.status == 404 && json(expired) == Self.nullMessage)
    }

    @Test func amendRefusalsLeaveTheAllocationAsItWas() throws {
        var node = try makeNode()
        let id = try allocate(&node, "2")
        addDebitNote(&node, "n1", due: "1.5", at: at(1))
        #expect(send(&node, .POST, "/debitNotes/n1/accept", accept("1.5", id), at: at(2)).status == 200)
        let before = send(&node, .GET, "/allocations/\(id)", at: at(2))
        let small = send(&node, .PUT, "/allocations/\(id)", #"{"totalAmount":"1.4"}"#, at: at(3))
        #expect(small.status == 400 && small.header("Content-Type") == "application/json")
        #expect(message(small) == "New allocation would be smaller than the already spent amount")
        // A past timeout refuses the whole update, the acceptable total too.
        let past = send(&node, .PUT, "/allocations/\(id)", #"{"totalAmount":"50","timeout":"2027-01-15T08:00:02Z"}"#, at: at(3))
        #expect(past.status == 400 && message(past) == "New allocation timeout is in the past")
        // The total is checked before the timeout.
        let both = send(&node, .PUT, "/allocations/\(id)", #"{"totalAmount":"1","timeout":"2027-01-15T08:00:02Z"}"#, at: at(3))
        #expect(message(both) == "New allocation would be smaller than the already spent amount")
        let deposit = send(&node, .PUT, "/allocations/\(id)", #"{"deposit":{"validate":null}}"#, at: at(3))
        #expect(deposit.status == 400 && message(deposit) == "Cannot update deposit of an allocation created without one")
        #expect(send(&node, .GET, "/allocations/\(id)", at: at(3)).body == before.body)
        // Exactly what was spent is allowed: nothing remains.
        let exact = try decode(Allocation.self, send(&node, .PUT, "/allocations/\(id)", #"{"totalAmount":"1.5"}"#, at: at(4)))
        #expect(exact.totalAmount == dec("1.5") && exact.spentAmount == dec("1.5") && exact.remainingAmount == 0)
        // An allocation made with a deposit may have it updated.
        let withDeposit = send(&node, .POST, "/allocations", #"{"totalAmount":"1","deposit":{"contract":"0xc0","id":"0x01"}}"#, at: at(4))
        let depositId = try decode(Allocation.self, withDeposit).allocationId
        #expect(send(&node, .PUT, "/allocations/\(depositId)", #"{"deposit":{"validate":null}}"#, at: at(5)).status == 200)
    }

    @Test func aReleasedAllocationIsGoneEverywhereAndReleasingAgainIs410() throws {
        var node = try makeNode()
        let id = try allocate(&node, "5")
        addDebitNote(&node, "n1", due: "1", at: at(1))
        let released = send(&node, .DELETE, "/allocations/\(id)", at: at(1))
        #expect(released.status == 200 && text(released) == "null")
        let again = send(&node, .DELETE, "/allocations/\(id)", at: at(2))
        #expect(again.status == 410 && message(again) == "Allocation \(id) has been already released")
        let get = send(&node, .GET, "/allocations/\(id)", at: at(2))
        #expect(get.status == 404 && json(get) == Self.nullMessage)
        let put = send(&node, .PUT, "/allocations/\(id)", #"{"totalAmount":"9"}"#, at: at(2))
        #expect(put.status == 404 && json(put) == Self.nullMessage)
        #expect(text(send(&node, .GET, "/allocations", at: at(2))) == "[]")
        let decorations = send(&node, .GET, "/demandDecorations", query: [("allocationIds", id)], at: at(2))
        #expect(decorations.status == 404 && json(decorations) == Self.nullMessage)
        // The daemon's DAO looks allocations up among the unreleased: "not found", 400.
        let paid = send(&node, .POST, "/debitNotes/n1/accept", accept("1", id), at: at(2))
        #expect(paid.status == 400 && message(paid) == "Allocation \(id) not found")
        #expect(noteStatus(&node, "n1", at: at(2)) == .received)
        // Unknown ids: 404 with a null message, once the body reads.
        let unknown = send(&node, .DELETE, "/allocations/nope")
        #expect(unknown.status == 404 && json(unknown) == Self.nullMessage)
        let unknownPut = send(&node, .PUT, "/allocations/nope", "{}")
        #expect(unknownPut.status == 404 && json(unknownPut) == Self.nullMessage)
        let badBody = send(&node, .PUT, "/allocations/nope", "{")
        #expect(badBody.status == 400 && badBody.header("Content-Type") == Self.plainText)
        #expect(text(badBody) == "Json deserialize error: EOF while parsing an object at line 1 column 1")
    }

    @Test func anAllocationPastItsTimeoutIsReleasedAndPaysNothing() throws {
        var node = try makeNode()
        let id = try allocate(&node, "5", timeout: at(10))
        addDebitNote(&node, "n1", due: "1", at: at(5))
        #expect(send(&node, .GET, "/allocations/\(id)", at: at(9.5)).status == 200)
        let late = send(&node, .POST, "/debitNotes/n1/accept", accept("1", id), at: at(10))
        #expect(late.status == 400 && message(late) == "Allocation \(id) not found")
        #expect(noteStatus(&node, "n1", at: at(10)) == .received)
        // Its release task released it: releasing it by hand is then too late.
        #expect(send(&node, .DELETE, "/allocations/\(id)", at: at(11)).status == 410)
    }

    @Test func allocationListsFilterOnTheTimeoutAndPageInCreationOrder() throws {
        var node = try makeNode()
        let none = try allocate(&node, "1")
        let early = try allocate(&node, "2", timeout: at(100))
        let late = try allocate(&node, "3", timeout: at(200))
        let cases: [([(String, String)], [String])] = [
            ([], [none, early, late]),
            // The daemon compares `afterTimestamp` with the timeout: one without a timeout is left out.
            ([("afterTimestamp", "2027-01-15T08:00:00Z")], [early, late]),
            ([("afterTimestamp", "2027-01-15T08:01:40Z")], [late]),
            ([("afterTimestamp", "2027-01-15T09:02:30+01:00")], [late]),
            ([("afterTimestamp", "2027-01-15 08:00:00z")], [early, late]),
            ([("maxItems", "2")], [none, early]),
            ([("maxItems", "0")], []),
            ([("maxItems", "+1")], [none]),
            ([("maxItems", "4294967295"), ("foo", "bar")], [none, early, late]),
            ([("afterTimestamp", "2027-01-15T08:00:00Z"), ("maxItems", "1")], [early]),
        ]
        for (query, expected) in cases {
            let r = send(&node, .GET, "/allocations", query: query)
            #expect(r.status == 200, "\(query): \(text(r))")
            #expect((try? decode([Allocation].self, r))?.map(\.allocationId) == expected, "\(query)")
        }
        let refused: [(String, String, String)] = [
            ("maxItems", "-1", "invalid digit found in string"),
            ("maxItems", "", "cannot parse integer from empty string"),
            ("maxItems", "4294967296", "number too large to fit in target type"),
            ("afterTimestamp", "2027-01-15", "premature end of input"),
            ("afterTimestamp", "2027-02-30T00:00:00Z", "input is out of range"),
            ("afterTimestamp", "2027-01-15T08:00:00Zjunk", "trailing input"),
        ]
        for (name, value, detail) in refused {
            let r = send(&node, .GET, "/allocations", query: [(name, value)])
            #expect(r.status == 400 && r.header("Content-Type") == Self.plainText, "\(name)=\(value)")
            #expect(text(r) == "Query deserialize error: \(detail)", "\(name)=\(value)")
        }
        let twice = send(&node, .GET, "/allocations", query: [("maxItems", "1"), ("maxItems", "2")])
        #expect(twice.status == 400 && text(twice) == "Query deserialize error: duplicate field `maxItems`")
    }

    @Test func demandDecorationsNameEachLiveAllocation() throws {
        var node = try makeNode()
        let plain = try allocate(&node, "1")
        let key = "golem.com.payment.platform.erc20-holesky-tglm.address"
        let one = try decode(DemandDecoration.self, send(&node, .GET, "/demandDecorations", query: [("allocationIds", plain)]))
        #expect(one.properties == [.init(key: key, value: me), .init(key: "golem.com.payment.protocol.version", value: "3")])
        #expect(one.constraints == ["(\(key)=*)", "(golem.com.payment.protocol.version>1)"])
        // An allocation with a deposit needs protocol version 3 of the provider.
        let deposit = try decode(Allocation.self, send(&node, .POST, "/allocations", #"{"totalAmount":"1","deposit":{"contract":"0xc0","id":"0x01"}}"#))
        let two = try decode(DemandDecoration.self, send(&node, .GET, "/demandDecorations", query: [("allocationIds", "\(plain),\(deposit.allocationId)")]))
        #expect(two.properties.count == 3 && two.properties.last?.value == "3")
        #expect(two.constraints == ["(|\n  (\(key)=*)\n  (\(key)=*)\n)", "(golem.com.payment.protocol.version>2)"])
        // Every listed id must be a distinct live allocation.
        for ids in ["\(plain),\(plain)", "\(plain),", "nope", ""] {
            let r = send(&node, .GET, "/demandDecorations", query: [("allocationIds", ids)])
            #expect(r.status == 404 && json(r) == Self.nullMessage, "allocationIds=\(ids)")
        }
        let missing = send(&node, .GET, "/demandDecorations")
        #expect(missing.status == 400 && text(missing) == "Query deserialize error: missing field `allocationIds`")
    }

    /// yagna 0.17.6 routes `GET /allocations/{id}/expenditures` and `…/orders` (its
    /// `register_endpoints`): lists, empty for an allocation nothing was paid from.
    @Test func allocationExpendituresAndOrdersAreServed() throws {
        var node = try makeNode()
        let id = try allocate(&node, "1")
        let expenditures = send(&node, .GET, "/allocations/\(id)/expenditures")
        let orders = send(&node, .GET, "/allocations/\(id)/orders")
        #expect(expenditures.status == 200 && text(expenditures) == "[]")
        #expect(orders.status == 200 && text(orders) == "[]")
    }

    // MARK: - Debit notes and invoices

    @Test func documentsAreListedOldestFirstAfterATimestampAndFetchedById() throws {
        var node = try makeNode()
        addDebitNote(&node, "n3", due: "3", at: at(3))
        addDebitNote(&node, "n1", due: "1", at: at(1))
        addDebitNote(&node, "n2", due: "2", at: at(2))
        let afterFirst = [("afterTimestamp", "2027-01-15T08:00:01.000Z")]
        let noteCases: [([(String, String)], [String])] = [
            ([], ["n1", "n2", "n3"]), (afterFirst, ["n2", "n3"]), ([("maxItems", "2")], ["n1", "n2"]), (afterFirst + [("maxItems", "1")], ["n2"]),
        ]
        for (query, expected) in noteCases {
            let r = send(&node, .GET, "/debitNotes", query: query)
            #expect((try? decode([DebitNote].self, r))?.map(\.debitNoteId) == expected, "\(query): \(text(r))")
        }
        let n2 = send(&node, .GET, "/debitNotes/n2")
        #expect(n2.status == 200)
        let wire = try #require(json(n2))
        #expect(wire["totalAmountDue"] == "2" && wire["status"] == "RECEIVED" && wire["timestamp"] == "2027-01-15T08:00:02.000Z")
        #expect(wire["activityId"] == "activity-1" && wire["paymentDueDate"] == nil)
        let unknown = send(&node, .GET, "/debitNotes/nope")
        #expect(unknown.status == 404 && json(unknown) == Self.nullMessage)
        // The daemon has not implemented a debit note's payments, known or not.
        for id in ["n2", "nope"] {
            let payments = send(&node, .GET, "/debitNotes/\(id)/payments")
            #expect(payments.status == 501 && json(payments) == Self.nullMessage)
        }
        addInvoice(&node, "i2", amount: "5", at: at(20))
        addInvoice(&node, "i1", amount: "4", at: at(10))
        #expect((try? decode([Invoice].self, send(&node, .GET, "/invoices")))?.map(\.invoiceId) == ["i1", "i2"])
        let later = send(&node, .GET, "/invoices", query: [("afterTimestamp", "2027-01-15T08:00:10.000Z")])
        #expect((try? decode([Invoice].self, later))?.map(\.invoiceId) == ["i2"])
        #expect((try? decode(Invoice.self, send(&node, .GET, "/invoices/i1")))?.amount == 4)
        #expect(text(send(&node, .GET, "/invoices/i1/payments")) == "[]")
        for path in ["/invoices/nope", "/invoices/nope/payments"] {
            let r = send(&node, .GET, path)
            #expect(r.status == 404 && json(r) == Self.nullMessage, "\(path)")
        }
        let badQuery = send(&node, .GET, "/invoices", query: [("afterTimestamp", "yesterday")])
        #expect(badQuery.status == 400 && text(badQuery) == "Query deserialize error: input contains invalid characters")
    }

    /// Debit notes are cumulative per activity: accepting one pays what it adds to the largest
    /// accepted so far for its activity, and never less than nothing.
    @Test func acceptingADebitNotePaysWhatItAddsToItsActivity() throws {
        var node = try makeNode()
        let id = try allocate(&node, "10")
        addDebitNote(&node, "n1", due: "1", at: at(1))
        addDebitNote(&node, "n2", due: "2.5", at: at(2))
        addDebitNote(&node, "other", due: "0.75", at: at(3), activity: "activity-2")
        let first = send(&node, .POST, "/debitNotes/n1/accept", accept("1", id), at: at(4))
        #expect(first.status == 200 && text(first) == "null" && first.header("Content-Type") == "application/json")
        #expect(try allocation(&node, id, at: at(4)).spentAmount == 1)
        // Amounts are compared as decimals: 2.50 is 2.5. Only the 1.5 it adds is paid.
        #expect(send(&node, .POST, "/debitNotes/n2/accept", accept("2.50", id), at: at(5)).status == 200)
        #expect(try allocation(&node, id, at: at(5)).spentAmount == dec("2.5"))
        #expect(send(&node, .POST, "/debitNotes/other/accept", accept("0.75", id), at: at(6)).status == 200)
        let after = try allocation(&node, id, at: at(6))
        #expect(after.spentAmount == dec("3.25") && after.remainingAmount == dec("6.75"))
        // Accepting again answers OK and pays nothing.
        let again = send(&node, .POST, "/debitNotes/n1/accept", accept("1", id), at: at(7))
        #expect(again.status == 200 && text(again) == "null")
        #expect(try allocation(&node, id, at: at(7)).spentAmount == dec("3.25"))
        #expect(noteStatus(&node, "n1") == .accepted && noteStatus(&node, "n2") == .accepted && noteStatus(&node, "other") == .accepted)
    }

    @Test func anOlderNoteAcceptedAfterANewerOneSpendsNothingAndANoteOfNothingIsSettled() throws {
        var node = try makeNode()
        let id = try allocate(&node, "10")
        addDebitNote(&node, "old", due: "1", at: at(1))
        addDebitNote(&node, "new", due: "3", at: at(2))
        #expect(send(&node, .POST, "/debitNotes/new/accept", accept("3", id), at: at(3)).status == 200)
        #expect(send(&node, .POST, "/debitNotes/old/accept", accept("1", id), at: at(4)).status == 200)
        #expect(try allocation(&node, id, at: at(4)).spentAmount == 3)
        #expect(noteStatus(&node, "old") == .accepted)
        addDebitNote(&node, "zero", due: "0", at: at(5), activity: "activity-2")
        #expect(send(&node, .POST, "/debitNotes/zero/accept", accept("0", id), at: at(6)).status == 200)
        #expect(noteStatus(&node, "zero") == .settled)
        #expect(try allocation(&node, id, at: at(6)).spentAmount == 3)
    }

    /// In the daemon's order: the query, the body, the note, the amount, the note's status, then
    /// the allocation. Nothing moves on a refusal.
    @Test func debitNoteAcceptanceIsCheckedInTheDaemonsOrder() throws {
        var node = try makeNode()
        let id = try allocate(&node, "2")
        addDebitNote(&node, "n1", due: "1.5", at: at(1))
        addDebitNote(&node, "cancelled", due: "1", at: at(1), activity: "activity-2", status: .cancelled)
        addDebitNote(&node, "issued", due: "1", at: at(1), activity: "activity-3", status: .issued)
        let badQuery = send(&node, .POST, "/debitNotes/nope/accept", "{", query: [("timeout", "soon")])
        #expect(badQuery.status == 400 && badQuery.header("Content-Type") == Self.plainText)
        #expect(text(badQuery) == "Query deserialize error: invalid float literal")
        let emptyTimeout = send(&node, .POST, "/debitNotes/n1/accept", accept("1.5", id), query: [("timeout", "")])
        #expect(text(emptyTimeout) == "Query deserialize error: cannot parse float from empty string")
        let badBody = send(&node, .POST, "/debitNotes/nope/accept", "{")
        #expect(badBody.status == 400 && text(badBody) == "Json deserialize error: EOF while parsing an object at line 1 column 1")
        let noAllocationId = #"{"totalAmountAccepted":"1.5"}"#
        let missing = send(&node, .POST, "/debitNotes/n1/accept", noAllocationId)
        #expect(text(missing) == "Json deserialize error: missing field `allocationId` at line 1 column \(noAllocationId.utf8.count)")
        let unknown = send(&node, .POST, "/debitNotes/nope/accept", accept("1.5", id))
        #expect(unknown.status == 404 && json(unknown) == Self.nullMessage)
        for amount in ["1.49", "2", "0"] {
            let wrong = send(&node, .POST, "/debitNotes/n1/accept", accept(amount, "no-such-allocation"))
            #expect(wrong.status == 400 && message(wrong) == "Invalid amount accepted", "\(amount)")
        }
        let cancelled = send(&node, .POST, "/debitNotes/cancelled/accept", accept("1", "no-such-allocation"))
        #expect(cancelled.status == 400 && message(cancelled) == "Debit note cancelled")
        let issued = send(&node, .POST, "/debitNotes/issued/accept", accept("1", "no-such-allocation"))
        #expect(issued.status == 500 && message(issued) == "Illegal status: issued")
        let noAllocation = send(&node, .POST, "/debitNotes/n1/accept", accept("1.5", "no-such-allocation"))
        #expect(noAllocation.status == 400 && message(noAllocation) == "Allocation no-such-allocation not found")
        #expect(noteStatus(&node, "n1") == .received && noteStatus(&node, "cancelled") == .cancelled && noteStatus(&node, "issued") == .issued)
        #expect(try allocation(&node, id).spentAmount == 0)
        // A well-formed timeout and unknown query names are read and pass.
        let ok = send(&node, .POST, "/debitNotes/n1/accept", accept("1.5", id), query: [("timeout", ".5"), ("appSessionId", "x")])
        #expect(ok.status == 200 && noteStatus(&node, "n1") == .accepted)
    }

    @Test func acceptingMoreThanRemainsIsRefusedUntilTheAllocationGrows() throws {
        var node = try makeNode()
        let id = try allocate(&node, "2")
        addDebitNote(&node, "n1", due: "1.5", at: at(1))
        addDebitNote(&node, "n2", due: "3", at: at(2))
        #expect(send(&node, .POST, "/debitNotes/n1/accept", accept("1.5", id), at: at(3)).status == 200)
        let short = send(&node, .POST, "/debitNotes/n2/accept", accept("3", id), at: at(4))
        #expect(short.status == 400 && message(short) == "Not enough funds. Allocated: 0.5 Needed: 1.5")
        #expect(noteStatus(&node, "n2", at: at(4)) == .received)
        #expect(try allocation(&node, id, at: at(4)).spentAmount == dec("1.5"))
        #expect(send(&node, .PUT, "/allocations/\(id)", #"{"totalAmount":"3"}"#, at: at(5)).status == 200)
        #expect(send(&node, .POST, "/debitNotes/n2/accept", accept("3", id), at: at(6)).status == 200)
        let after = try allocation(&node, id, at: at(6))
        #expect(after.spentAmount == 3 && after.remainingAmount == 0)
        // An invoice above what remains is refused alike.
        addInvoice(&node, "big", amount: "5", at: at(7), agreement: "agreement-2", activities: ["activity-9"])
        let big = send(&node, .POST, "/invoices/big/accept", accept("5", id), at: at(8))
        #expect(big.status == 400 && message(big) == "Not enough funds. Allocated: 0 Needed: 5")
        #expect(invoiceStatus(&node, "big", at: at(8)) == .received)
    }

    /// An invoice pays the agreement's amount less what its activities' accepted debit notes
    /// paid (the largest accepted note of each activity).
    @Test func anInvoicePaysWhatTheAgreementsAcceptedDebitNotesDidNot() throws {
        var node = try makeNode()
        let id = try allocate(&node, "10")
        addDebitNote(&node, "a1", due: "1", at: at(1), activity: "act-a")
        addDebitNote(&node, "a2", due: "2", at: at(2), activity: "act-a")
        addDebitNote(&node, "b1", due: "0.5", at: at(3), activity: "act-b")
        addDebitNote(&node, "elsewhere", due: "4", at: at(3), agreement: "agreement-2", activity: "act-c")
        addDebitNote(&node, "unaccepted", due: "9", at: at(4), activity: "act-d")
        for note in [("a1", "1"), ("a2", "2"), ("b1", "0.5"), ("elsewhere", "4")] {
            #expect(send(&node, .POST, "/debitNotes/\(note.0)/accept", accept(note.1, id), at: at(5)).status == 200)
        }
        #expect(try allocation(&node, id, at: at(5)).spentAmount == dec("6.5"))
        addInvoice(&node, "inv", amount: "3", at: at(10), activities: ["act-a", "act-b", "act-d"])
        let r = send(&node, .POST, "/invoices/inv/accept", accept("3", id), at: at(11))
        #expect(r.status == 200 && text(r) == "null")
        #expect(try allocation(&node, id, at: at(11)).spentAmount == 7, "3 less the 2 and 0.5 accepted")
        #expect(invoiceStatus(&node, "inv", at: at(11)) == .accepted)
        #expect(send(&node, .POST, "/invoices/inv/accept", accept("3", id), at: at(12)).status == 200)
        #expect(try allocation(&node, id, at: at(12)).spentAmount == 7)
    }

    @Test func anInvoiceBelowTheAcceptedDebitNotesIsRefused() throws {
        var node = try makeNode()
        let id = try allocate(&node, "10")
        addDebitNote(&node, "n1", due: "3", at: at(1))
        #expect(send(&node, .POST, "/debitNotes/n1/accept", accept("3", id), at: at(2)).status == 200)
        addInvoice(&node, "small", amount: "2", at: at(3))
        let r = send(&node, .POST, "/invoices/small/accept", accept("2", id), at: at(4))
        #expect(r.status == 400)
        #expect(message(r) == "Invoice is smaller than agreement.total_amount_accepted. invoice_id=small, invoice_amount=2, total_amount_accepted=3")
        #expect(invoiceStatus(&node, "small", at: at(4)) == .received)
        // An invoice of exactly what was accepted is accepted and spends nothing more.
        addInvoice(&node, "exact", amount: "3", at: at(5))
        #expect(send(&node, .POST, "/invoices/exact/accept", accept("3", id), at: at(6)).status == 200)
        #expect(try allocation(&node, id, at: at(6)).spentAmount == 3)
        // The amount is still checked before anything else.
        let wrong = send(&node, .POST, "/invoices/small/accept", accept("3", id), at: at(7))
        #expect(wrong.status == 400 && message(wrong) == "Invalid amount accepted")
        let unknownAllocation = send(&node, .POST, "/invoices/small/accept", accept("2", "gone"), at: at(7))
        #expect(message(unknownAllocation)?.hasPrefix("Invoice is smaller") == true, "the agreement's total is checked before the allocation")
    }

    @Test func invoiceStatusesDecideAcceptanceAsTheDaemonDoes() throws {
        var node = try makeNode()
        let id = try allocate(&node, "100")
        let cases: [(status: DocumentStatus, code: Int, message: String?, after: DocumentStatus, pays: Bool)] = [
            (.received, 200, nil, .accepted, true), (.rejected, 200, nil, .accepted, true), (.failed, 200, nil, .accepted, true),
            (.accepted, 200, nil, .accepted, false), (.settled, 200, nil, .settled, false),
            (.cancelled, 400, "Invoice cancelled", .cancelled, false), (.issued, 500, "Illegal status: issued", .issued, false),
        ]
        for (i, c) in cases.enumerated() {
            let invoice = "accept-\(c.status.rawValue)"
            addInvoice(&node, invoice, amount: "1", at: at(Double(i)), agreement: "agreement-\(invoice)", status: c.status)
            let before = try allocation(&node, id).spentAmount
            let r = send(&node, .POST, "/invoices/\(invoice)/accept", accept("1", id))
            #expect(r.status == c.code, "\(c.status)")
            if let expected = c.message { #expect(message(r) == expected, "\(c.status)") } else { #expect(text(r) == "null", "\(c.status)") }
            #expect(invoiceStatus(&node, invoice) == c.after, "\(c.status)")
            let expectedSpent: Decimal = c.pays ? before + 1 : before
            #expect(try allocation(&node, id).spentAmount == expectedSpent, "\(c.status)")
            // Whatever the status, a wrong amount is refused first.
            let wrong = send(&node, .POST, "/invoices/\(invoice)/accept", accept("2", id))
            #expect(wrong.status == 400 && message(wrong) == "Invalid amount accepted", "\(c.status)")
        }
        let unknown = send(&node, .POST, "/invoices/nope/accept", accept("1", id))
        #expect(unknown.status == 404 && json(unknown) == Self.nullMessage)
    }

    @Test func invoiceStatusesDecideRejectionAsTheDaemonDoes() throws {
        var node = try makeNode()
        let rejection = #"{"rejectionReason":"BAD_SERVICE","totalAmountAccepted":"0"}"#
        let cases: [(status: DocumentStatus, code: Int, message: String?, after: DocumentStatus)] = [
            (.received, 200, nil, .rejected), (.failed, 200, nil, .rejected), (.rejected, 200, nil, .rejected),
            (.accepted, 400, "Invoice accepted", .accepted), (.settled, 400, "Invoice settled", .settled),
            (.cancelled, 400, "Invoice cancelled", .cancelled), (.issued, 500, "Illegal status: issued", .issued),
        ]
        for (i, c) in cases.enumerated() {
            let invoice = "reject-\(c.status.rawValue)"
            addInvoice(&node, invoice, amount: "1", at: at(Double(i)), agreement: "agreement-\(invoice)", status: c.status)
            let r = send(&node, .POST, "/invoices/\(invoice)/reject", rejection)
            #expect(r.status == c.code, "\(c.status)")
            if let expected = c.message { #expect(message(r) == expected, "\(c.status)") } else { #expect(text(r) == "null", "\(c.status)") }
            #expect(invoiceStatus(&node, invoice) == c.after, "\(c.status)")
        }
        let unknown = send(&node, .POST, "/invoices/nope/reject", rejection)
        #expect(unknown.status == 404 && json(unknown) == Self.nullMessage)
    }

    @Test func invoicesAreRejectedForEachReasonAndMalformedRejectionsAreRefused() throws {
        var node = try makeNode()
        let id = try allocate(&node, "10")
        for (i, reason) in ["UNSOLICITED_SERVICE", "BAD_SERVICE", "INCORRECT_AMOUNT"].enumerated() {
            let invoice = "inv-\(i)"
            addInvoice(&node, invoice, amount: "2", at: at(Double(i)), agreement: "agreement-\(i)")
            let body = #"{"rejectionReason":"\#(reason)","totalAmountAccepted":"0.5","message":"not what was ordered"}"#
            let r = send(&node, .POST, "/invoices/\(invoice)/reject", body)
            #expect(r.status == 200 && text(r) == "null", "\(reason)")
            #expect(invoiceStatus(&node, invoice) == .rejected, "\(reason)")
        }
        // A rejected invoice may still be accepted, and is then paid.
        #expect(send(&node, .POST, "/invoices/inv-1/accept", accept("2", id)).status == 200)
        #expect(try allocation(&node, id).spentAmount == 2 && invoiceStatus(&node, "inv-1") == .accepted)
        addInvoice(&node, "target", amount: "2", at: at(10), agreement: "agreement-target")
        let noAmount = #"{"rejectionReason":"BAD_SERVICE"}"#
        let noReason = #"{"totalAmountAccepted":"0"}"#
        let refusals: [(String, String)] = [
            (noAmount, "Json deserialize error: missing field `totalAmountAccepted` at line 1 column \(noAmount.utf8.count)"),
            (noReason, "Json deserialize error: missing field `rejectionReason` at line 1 column \(noReason.utf8.count)"),
            ("{", "Json deserialize error: EOF while parsing an object at line 1 column 1"),
        ]
        for (body, expected) in refusals {
            let r = send(&node, .POST, "/invoices/target/reject", body)
            #expect(r.status == 400 && r.header("Content-Type") == Self.plainText, "\(body)")
            #expect(text(r) == expected)
        }
        let late = #"{"rejectionReason":"LATE","totalAmountAccepted":"0"}"#
        let bad = send(&node, .POST, "/invoices/target/reject", late)
        #expect(bad.status == 400 && bad.header("Content-Type") == Self.plainText && text(bad).hasPrefix("Json deserialize error: "))
        #expect(text(bad).contains("unknown variant `LATE`, expected one of `UNSOLICITED_SERVICE`, `BAD_SERVICE`, `INCORRECT_AMOUNT`"))
        let badQuery = send(&node, .POST, "/invoices/target/reject", noAmount, query: [("timeout", "1e")])
        #expect(text(badQuery) == "Query deserialize error: invalid float literal")
        #expect(invoiceStatus(&node, "target") == .received)
    }

    @Test func debitNotesCannotBeRejectedOnceTheRequestReads() throws {
        var node = try makeNode()
        let id = try allocate(&node, "5")
        addDebitNote(&node, "n1", due: "1", at: at(1))
        let body = #"{"rejectionReason":"INCORRECT_AMOUNT","totalAmountAccepted":"0.5","message":"too much"}"#
        for note in ["n1", "nope"] {
            let r = send(&node, .POST, "/debitNotes/\(note)/reject", body)
            #expect(r.status == 501 && json(r) == Self.nullMessage, "\(note)")
        }
        let badBody = send(&node, .POST, "/debitNotes/n1/reject", "{")
        #expect(badBody.status == 400 && badBody.header("Content-Type") == Self.plainText)
        let badQuery = send(&node, .POST, "/debitNotes/n1/reject", body, query: [("timeout", "x")])
        #expect(badQuery.status == 400 && text(badQuery) == "Query deserialize error: invalid float literal")
        #expect(noteStatus(&node, "n1") == .received)
        #expect(send(&node, .POST, "/debitNotes/n1/accept", accept("1", id)).status == 200)
    }

    /// A real session: once the agreement's invoice is decided, a later debit note's acceptance
    /// answers OK and changes nothing, whatever allocation it names.
    @Test func onceTheInvoiceIsDecidedLaterDebitNotesAreLeftAlone() throws {
        var node = try makeNode(Self.billedProvider)
        let allocationId = try allocate(&node, "10")
        let (agreement, activity) = try billedSession(&node)
        let notes = try decode([DebitNote].self, send(&node, .GET, "/debitNotes", at: at(20)))
        try #require(notes.count == 2, "a note at 10 s and one at 20 s")
        #expect(notes.allSatisfy { $0.agreementId == agreement && $0.activityId == activity && $0.status == .received })
        #expect(notes[0].previousDebitNoteId == nil && notes[1].previousDebitNoteId == notes[0].debitNoteId)
        #expect(notes[0].totalAmountDue < notes[1].totalAmountDue, "cumulative")
        let (first, second) = (notes[0], notes[1])
        let firstAccepted = send(&node, .POST, "/debitNotes/\(first.debitNoteId)/accept", accept(first.totalAmountDue.wireString, allocationId), at: at(21))
        #expect(firstAccepted.status == 200, "\(text(firstAccepted))")
        // Without multi-activity, destroying the activity ends the agreement; the invoice follows.
        _ = node.handle(apiRequest(.DELETE, "/activity-api/v1/activity/\(activity)"), now: at(25))
        let invoiceIds = eventIds(&node, "/invoiceEvents", at: at(26))
        let invoiceId = try #require(invoiceIds?.first)
        let invoice = try decode(Invoice.self, send(&node, .GET, "/invoices/\(invoiceId)", at: at(26)))
        #expect(invoice.agreementId == agreement && invoice.activityIds == [activity] && invoice.amount > second.totalAmountDue)
        #expect(send(&node, .POST, "/invoices/\(invoiceId)/accept", accept(invoice.amount.wireString, allocationId), at: at(27)).status == 200)
        #expect(try allocation(&node, allocationId, at: at(27)).spentAmount == invoice.amount)
        let late = send(&node, .POST, "/debitNotes/\(second.debitNoteId)/accept", accept(second.totalAmountDue.wireString, "no-such-allocation"), at: at(28))
        #expect(late.status == 200 && text(late) == "null")
        #expect(noteStatus(&node, second.debitNoteId, at: at(28)) == .received)
        #expect(try allocation(&node, allocationId, at: at(28)).spentAmount == invoice.amount)
        let wrong = send(&node, .POST, "/debitNotes/\(second.debitNoteId)/accept", accept("1000", allocationId), at: at(28))
        #expect(wrong.status == 400 && message(wrong) == "Invalid amount accepted")
    }

    // MARK: - Events

    @Test func eventPollsAnswerTheEventsAfterTheTimestampUpToMaxEvents() throws {
        var node = try makeNode()
        addDebitNote(&node, "n1", due: "1", at: at(1))
        addDebitNote(&node, "n2", due: "2", at: at(2))
        addDebitNote(&node, "n3", due: "3", at: at(3))
        addInvoice(&node, "i1", amount: "3", at: at(4))
        let first = "2027-01-15T08:00:01.000000Z"
        let cases: [([(String, String)], [String])] = [
            ([], ["n1", "n2", "n3"]),
            ([("afterTimestamp", first)], ["n2", "n3"]),  // strictly after
            ([("maxEvents", "2")], ["n1", "n2"]),
            ([("afterTimestamp", first), ("maxEvents", "1"), ("appSessionId", "s1")], ["n2"]),
            ([("afterTimestamp", "2027-01-15T09:00:01.5+01:00")], ["n2", "n3"]),
            ([("afterTimestamp", "2027-01-15T08:00:03Z")], []),
        ]
        for (query, expected) in cases {
            #expect(eventIds(&node, query: query, at: at(10)) == expected, "\(query)")
        }
        #expect(eventIds(&node, "/invoiceEvents", at: at(10)) == ["i1"])
        let answered = node.retry(.paymentEvents(invoices: false, after: nil, maxEvents: 1), now: at(10), final: true)
        let events = try decode([PaymentEvent].self, try #require(answered))
        #expect(events.first?.eventType == "DebitNoteReceivedEvent" && events.first?.eventDate.text == first && events.first?.invoiceId == nil)
    }

    @Test func anEventPollWaitsForItsTimeoutOrTheNextEvent() throws {
        var node = try makeNode()
        addDebitNote(&node, "n1", due: "1", at: at(1))
        let after = "2027-01-15T08:00:01.000000Z"
        // The default timeout is 5 s; the poll keeps what it asked for.
        let opened = node.handle(request(.GET, "/debitNoteEvents", query: [("afterTimestamp", after)]), now: at(10))
        guard case .wait(let poll, let until) = opened else {
            Issue.record("not a poll: \(opened)")
            return
        }
        #expect(poll == .paymentEvents(invoices: false, after: WireTimestamp(text: after), maxEvents: nil))
        #expect(until == at(15))
        #expect(node.retry(poll, now: at(10), final: false) == nil, "nothing new: keep waiting")
        // A note arrives while the poll waits: it is answered with it.
        addDebitNote(&node, "n2", due: "2", at: at(12))
        let answered = node.retry(poll, now: at(12), final: false)
        let answer = try #require(answered)
        #expect((try? decode([PaymentEvent].self, answer))?.map(\.debitNoteId) == ["n2"])
        // At the deadline an empty poll answers [].
        let quiet = node.handle(request(.GET, "/invoiceEvents", query: [("timeout", "2.5")]), now: at(20))
        guard case .wait(let invoicePoll, let invoiceDeadline) = quiet else {
            Issue.record("not a poll: \(quiet)")
            return
        }
        #expect(invoicePoll == .paymentEvents(invoices: true, after: nil, maxEvents: nil) && invoiceDeadline == at(22.5))
        #expect(node.retry(invoicePoll, now: at(22.5), final: true).map { text($0) } == "[]")
        // maxEvents=0 takes nothing, so the poll waits even with events there.
        guard case .wait(let zeroPoll, _) = node.handle(request(.GET, "/debitNoteEvents", query: [("maxEvents", "0")]), now: at(30)) else {
            Issue.record("maxEvents=0 was not a poll")
            return
        }
        #expect(node.retry(zeroPoll, now: at(30), final: false) == nil)
        // timeout=0 is a poll whose deadline is now.
        guard case .wait(_, let now) = node.handle(request(.GET, "/debitNoteEvents", query: [("timeout", "0")]), now: at(31)) else {
            Issue.record("timeout=0 was not a poll")
            return
        }
        #expect(now == at(31))
    }

    /// A timeout the daemon cannot turn into a duration panics its handler (the connection
    /// drops), unless events are already there: those are answered first.
    @Test func aNegativeOrEndlessTimeoutAnswersWhatIsThereOrDrops() throws {
        var node = try makeNode()
        addDebitNote(&node, "n1", due: "1", at: at(1))
        for timeout in ["-1", "inf", "-infinity", "NaN"] {
            let withEvents = node.handle(request(.GET, "/debitNoteEvents", query: [("timeout", timeout)]), now: at(5))
            if case .respond(let r) = withEvents {
                #expect(r.status == 200 && (try? decode([PaymentEvent].self, r))?.map(\.debitNoteId) == ["n1"], "\(timeout)")
            } else {
                Issue.record("timeout=\(timeout) with an event: \(withEvents)")
            }
            let without = node.handle(request(.GET, "/invoiceEvents", query: [("timeout", timeout)]), now: at(5))
            if case .drop = without {} else { Issue.record("timeout=\(timeout) without events: \(without)") }
        }
    }

    /// Float query values read as Rust's `f64::from_str` reads them: accepted forms give their
    /// value, everything else the daemon's "invalid float literal".
    @Test func queryFloatsReadAsRustReadsThem() {
        let accepted: [(String, Double)] = [
            ("1", 1), ("1.", 1), (".5", 0.5), ("1e5", 1e5), ("1E+5", 1e5), ("2.5e-1", 0.25), ("-0.5", -0.5), ("+2", 2),
            ("inf", .infinity), ("-Infinity", -.infinity), ("007", 7),
            // Plain digits (read without the general parser up to nine of them).
            ("0", 0), ("5", 5), ("60", 60), ("123456789", 123_456_789), ("1234567890", 1_234_567_890), ("000000000005", 5),
        ]
        for (text, value) in accepted {
            guard case .success(let v) = NodeCore.queryFloat(text) else { Issue.record("\(text) refused"); continue }
            #expect(v == value, "\(text)")
        }
        guard case .success(let nan) = NodeCore.queryFloat("NaN") else { Issue.record("NaN refused"); return }
        #expect(nan.isNaN)
        for text in ["1.2.3", "e5", "1e", "1e+", "0x10", " 1", "1 ", "+", "-", ".", "1_0", "١", "infinite", "5s"] {
            guard case .failure(let e) = NodeCore.queryFloat(text) else { Issue.record("\(text) accepted"); continue }
            #expect(String(decoding: e.response.body, as: UTF8.self) == "Query deserialize error: invalid float literal", "\(text)")
        }
    }

    @Test func malformedEventQueriesAreRefusedInPlainText() throws {
        var node = try makeNode()
        let refused: [(String, String, String)] = [
            ("timeout", "soon", "invalid float literal"),
            ("timeout", "", "cannot parse float from empty string"),
            ("timeout", "1e", "invalid float literal"),
            ("timeout", ".", "invalid float literal"),
            ("maxEvents", "-1", "invalid digit found in string"),
            ("maxEvents", "1.5", "invalid digit found in string"),
            ("maxEvents", "4294967296", "number too large to fit in target type"),
            ("afterTimestamp", "2027-01-15T08:00:00", "premature end of input"),
            ("afterTimestamp", "2027-13-01T00:00:00Z", "input is out of range"),
            ("afterTimestamp", "2027-01-15T08:00:00Z extra", "trailing input"),
        ]
        for path in ["/debitNoteEvents", "/invoiceEvents"] {
            for (name, value, detail) in refused {
                let outcome = node.handle(request(.GET, path, query: [(name, value)]), now: t0)
                guard case .respond(let r) = outcome else {
                    Issue.record("\(path)?\(name)=\(value) was not refused: \(outcome)")
                    continue
                }
                #expect(r.status == 400 && r.header("Content-Type") == Self.plainText, "\(path)?\(name)=\(value)")
                #expect(text(r) == "Query deserialize error: \(detail)", "\(path)?\(name)=\(value)")
            }
        }
        guard case .respond(let twice) = node.handle(request(.GET, "/debitNoteEvents", query: [("maxEvents", "1"), ("maxEvents", "1")]), now: t0) else {
            Issue.record("a repeated maxEvents was not refused")
            return
        }
        #expect(text(twice) == "Query deserialize error: duplicate field `maxEvents`")
    }

    /// chrono's relaxed RFC 3339 lets an offset's colon go, and the simulator's query reader
    /// accepts `+0100` as it does: the filter holds as with the colon.
    @Test func anOffsetWithoutItsColonFiltersAsWithIt() throws {
        var node = try makeNode()
        addDebitNote(&node, "n1", due: "1", at: at(1))
        addDebitNote(&node, "n2", due: "2", at: at(2))
        #expect(eventIds(&node, query: [("afterTimestamp", "2027-01-15T09:00:01+01:00")], at: at(5)) == ["n2"])
        let bare = eventIds(&node, query: [("afterTimestamp", "2027-01-15T09:00:01+0100")], at: at(5))
        #expect(bare != nil, "the query is read, as chrono reads it")
        _ = try allocate(&node, "1", timeout: at(100))
        let late = try allocate(&node, "1", timeout: at(200))
        let listed = send(&node, .GET, "/allocations", query: [("afterTimestamp", "2027-01-15T09:02:30+0100")])
        #expect(listed.status == 200)
        let listedIds = (try? decode([Allocation].self, listed))?.map(\.allocationId)
        #expect(bare == ["n2"])
        #expect(listedIds == [late])
    }

    /// Long polls run on the node's clock: in virtual time a poll with nothing to answer
    /// returns `[]` exactly at its timeout, and a negative timeout drops the connection.
    @Test func eventPollsWaitTheirTimeoutInVirtualTime() async throws {
        let scenario = try Scenario.parse(yaml: "name: pay\nproviders:\n  - name: p\n")
        let outcomes = try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            var seen: [String] = []
            for timeout in ["2.5", "0", "-1"] {
                let start = clock.now
                let request = NodeRequest(
                    method: .GET, path: "/payment-api/v1/invoiceEvents", query: [QueryItem("timeout", timeout)], headers: [Header("Authorization", "Bearer k")])
                let waited = { String(format: "%.3f", clock.now.timeIntervalSince(start)) }
                switch await node.handle(request) {
                case .response(let r): seen.append("\(r.status) \(String(decoding: r.body, as: UTF8.self)) after \(waited())")
                case .drop: seen.append("dropped after \(waited())")
                case .stream: seen.append("a stream")
                }
            }
            return seen
        }
        #expect(outcomes == ["200 [] after 2.500", "200 [] after 0.000", "dropped after 0.000"])
    }

    /// RFC 3339 allows years past 2262, which 64-bit nanoseconds do not hold: such a timeout is
    /// the latest instant, echoed as it was sent, and the allocation is never released by time.
    @Test func anAllocationUntilTheYear9999IsKeptAndEchoedAsSent() throws {
        var node = try makeNode()
        let r = send(&node, .POST, "/allocations", #"{"totalAmount":"1","timeout":"9999-12-31T23:59:59Z"}"#)
        #expect(r.status == 201, "\(text(r))")
        let id = try #require(json(r)?["allocationId"]?.stringValue)
        #expect(json(r)?["timeout"]?.stringValue?.hasPrefix("9999-12-31T23:59:59") == true, "\(text(r))")
        let later = send(&node, .GET, "/allocations/\(id)", at: at(3600 * 24 * 365 * 50))
        #expect(later.status == 200)
    }
}
