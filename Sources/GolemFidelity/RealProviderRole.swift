public import Foundation
public import YagnaAPI

/// The provider's half of the walk on a real yagna: a second identity of the same node, driven
/// through REST with its own app key (offer, counter, approve, activity states, debit notes,
/// invoices). There is no exe-unit: activities are answered with state changes only.
public final class RealProviderRole: ProviderRole, @unchecked Sendable {
    let target: any FidelityTarget
    let key: String
    let now: @Sendable () -> Date
    let sleep: @Sendable (Duration) async throws -> Void
    /// The offer subscription, once made; guarded by `lock`.
    private var offerId: String?
    /// The provider identity's node id, learnt when the offer is made; guarded by `lock`.
    private var nodeId = ""
    private let lock = NSLock()

    /// The offer's properties: what the simulator's default provider offers.
    public static let offerProperties: JSONValue = [
        "golem.activity.caps.deploy.report-progress": true,
        "golem.activity.caps.transfer.protocol": ["gftp", "http", "https"],
        "golem.activity.caps.transfer.report-progress": true,
        "golem.com.payment.debit-notes.accept-timeout?": 240,
        "golem.com.payment.protocol.version": "3",
        "golem.com.pricing.model": "linear",
        "golem.com.pricing.model.linear.coeffs": [0.00001, 0.0001, 0.0],
        "golem.com.scheme": "payu",
        "golem.com.scheme.payu.debit-note.interval-sec?": 120,
        "golem.com.scheme.payu.payment-timeout-sec?": 120,
        "golem.com.usage.vector": ["golem.usage.duration_sec", "golem.usage.cpu_sec"],
        "golem.inf.cpu.architecture": "x86_64", "golem.inf.cpu.cores": 4, "golem.inf.cpu.threads": 4,
        "golem.inf.mem.gib": 8.0, "golem.inf.storage.gib": 50.0,
        "golem.node.debug.subnet": "public", "golem.node.id.name": "fidelity-provider",
        "golem.node.net.is-public": false,
        "golem.runtime.capabilities": ["inet", "vpn", "start-entrypoint"],
        "golem.runtime.name": "vm", "golem.runtime.version": "0.4.2",
        "golem.srv.caps.multi-activity": true,
    ]
    static let offerConstraints = "(&(golem.srv.comp.expiration>0))"

    public init(target: any FidelityTarget, key: String, now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.target = target
        self.key = key
        self.now = now
        self.sleep = sleep
    }

    func call(_ method: String, _ target: String, _ body: JSONValue? = nil) async throws -> FidelityResponse {
        try await self.target.send(FidelityRequest(
            method: method, target: target, body: body.map { JSONWriter.string($0) }, authorization: "Bearer \(key)",
            contentType: body == nil ? nil : "application/json"))
    }

    func expect(_ response: FidelityResponse, _ what: String, _ statuses: Set<Int> = [200, 201, 204]) throws -> FidelityResponse {
        guard statuses.contains(response.status) else {
            throw WalkError("provider role: \(what) answered \(response.status) \(response.text.prefix(300))")
        }
        return response
    }

    var offer: String? { lock.withLock { offerId } }

    public func perform(_ action: ProviderAction, variables: [String: String]) async throws -> [String: String] {
        switch action {
        case .offer:
            let me = try expect(try await call("GET", "/me"), "GET /me").json?["identity"]?.stringValue ?? ""
            // Offers left by an earlier walk on this node would match the demands too.
            for old in try await call("GET", "/market-api/v1/offers").json?.arrayValue ?? [] {
                if let id = old["offerId"]?.stringValue { _ = try await call("DELETE", "/market-api/v1/offers/\(id)") }
            }
            var properties = Self.offerProperties.objectValue ?? [:]
            properties["golem.com.payment.platform.erc20-holesky-tglm.address"] = .string(me)
            let body: JSONValue = ["properties": .object(properties), "constraints": .string(Self.offerConstraints)]
            let answer = try expect(try await call("POST", "/market-api/v1/offers", body), "subscribe offer")
            guard let id = answer.json?.stringValue else { throw WalkError("provider role: offer id missing in \(answer.text)") }
            lock.withLock { offerId = id; nodeId = me }
            return ["providerId": me]
        case .counter:
            guard let offer else { throw WalkError("provider role: counter before offer") }
            for _ in 0..<20 {
                let events = try expect(try await call("GET", "/market-api/v1/offers/\(offer)/events?timeout=3&maxEvents=10"), "offer events")
                let drafts = (events.json?.arrayValue ?? []).filter { $0["eventType"]?.stringValue == "ProposalEvent" && $0["proposal"]?["state"]?.stringValue == "Draft" }
                if let draft = drafts.last, let id = draft["proposal"]?["proposalId"]?.stringValue {
                    var properties = Self.offerProperties.objectValue ?? [:]
                    for (k, v) in draft["proposal"]?["properties"]?.objectValue ?? [:] where k.hasSuffix("?") && k.hasPrefix("golem.com.") { properties[k] = v }
                    properties["golem.com.payment.platform.erc20-holesky-tglm.address"] = .string(lock.withLock { nodeId })
                    let body: JSONValue = ["properties": .object(properties), "constraints": .string(Self.offerConstraints)]
                    _ = try expect(try await call("POST", "/market-api/v1/offers/\(offer)/proposals/\(id)", body), "counter \(id)")
                    return [:]
                }
            }
            throw WalkError("provider role: the requestor's counter-proposal never arrived")
        case .approve:
            guard let offer else { throw WalkError("provider role: approve before offer") }
            for _ in 0..<20 {
                let events = try expect(try await call("GET", "/market-api/v1/offers/\(offer)/events?timeout=3&maxEvents=10"), "offer events")
                if let event = (events.json?.arrayValue ?? []).last(where: { $0["eventType"]?.stringValue == "AgreementEvent" }),
                    let id = event["agreement"]?["agreementId"]?.stringValue
                {
                    _ = try expect(try await call("POST", "/market-api/v1/agreements/\(id)/approve?appSessionId=fidelity&timeout=5"), "approve \(id)")
                    return [:]
                }
            }
            throw WalkError("provider role: the agreement to approve never arrived")
        case .serveActivities:
            return [:]
        case .debitNote(let activity, _):
            guard let act = variables[activity] else { throw WalkError("provider role: no {\(activity)}") }
            let body: JSONValue = ["activityId": .string(act), "totalAmountDue": "0.0012", "usageCounterVector": [12.0, 1.2]]
            let note = try expect(try await call("POST", "/payment-api/v1/debitNotes", body), "issue debit note")
            guard let id = note.json?["debitNoteId"]?.stringValue else { throw WalkError("provider role: debit note id missing in \(note.text)") }
            _ = try expect(try await call("POST", "/payment-api/v1/debitNotes/\(id)/send"), "send debit note")
            return [:]
        case .invoice(let agreement, let activity):
            guard let agr = variables[agreement], let act = variables[activity] else { throw WalkError("provider role: no {\(agreement)} or {\(activity)}") }
            let body: JSONValue = [
                "agreementId": .string(agr), "activityIds": [.string(act)], "amount": "0.0015",
                "paymentDueDate": .string(WalkRunner.timestamp(now().addingTimeInterval(600))),
            ]
            let invoice = try expect(try await call("POST", "/payment-api/v1/invoices", body), "issue invoice")
            guard let id = invoice.json?["invoiceId"]?.stringValue else { throw WalkError("provider role: invoice id missing in \(invoice.text)") }
            _ = try expect(try await call("POST", "/payment-api/v1/invoices/\(id)/send"), "send invoice")
            return [:]
        }
    }


    /// Answers activity events: `Initialized` on create (which releases the requestor's
    /// `POST /activity`), `Terminated` on destroy.
    public func background() async throws {
        var after = WalkRunner.timestamp(now().addingTimeInterval(-2))
        while !Task.isCancelled {
            let events: FidelityResponse
            do {
                events = try await call("GET", "/activity-api/v1/events?timeout=2&maxEvents=100&afterTimestamp=\(QueryItem.escape(after))")
            } catch {
                if Task.isCancelled { return }
                throw error
            }
            guard events.status == 200 else {
                try await sleep(.milliseconds(500))
                continue
            }
            for event in events.json?.arrayValue ?? [] {
                if let date = event["eventDate"]?.stringValue { after = date }
                guard let act = event["activityId"]?.stringValue, let kind = event["eventType"]?.objectValue else { continue }
                let state = kind["CreateActivity"] != nil ? "Initialized" : kind["DestroyActivity"] != nil ? "Terminated" : nil
                if let state {
                    _ = try await call("PUT", "/activity-api/v1/activity/\(act)/state", ["state": [.string(state), nil], "reason": nil, "errorMessage": nil])
                }
            }
        }
    }
}
