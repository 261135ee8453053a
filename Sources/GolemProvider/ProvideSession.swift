public import Foundation
public import GolemBus
public import Logging
public import YagnaAPI
public import YagnaSimulator

/// `golem-sim provide`: the scenario's providers on a real yagna node. Each provider is one
/// identity of the node, driven through REST with its own app key (offer, counter-proposals,
/// agreement approval, debit notes, invoices, terminations); its activities are served by an
/// exe-unit on the node's service bus. What providers do — command results, files, timings,
/// prices and faults — comes from `ProviderEngine`, the simulated node's own provider code.
public actor ProvideSession {
    /// One scenario provider on the real node.
    struct Agent: Sendable {
        var index: Int
        var name: String
        var rest: ProviderREST
        var nodeId = ""
        var offerId = ""
    }

    var engine: ProviderEngine
    var agents: [Agent]
    let yagna: String
    let logger: Logger
    /// Activities whose exe-unit is registered on the bus, with their provider.
    var served: [String: Int] = [:]
    /// Agreements this side terminated (a fault), so their end is not taken for the requestor's.
    var terminatedHere: Set<String> = []
    /// Agreements whose invoice was sent.
    var invoiced: Set<String> = []

    /// Where to keep the bodies of the calls the exe-unit serves (`nil`: nowhere).
    var busDump: String?
    var dumped = 0

    /// Keeps every call's body in `directory` (see `golem-sim provide --dump-bus`).
    public func dumpBus(into directory: String?) { busDump = directory }

    /// Counts for the final report.
    public private(set) var counts: [String: Int] = [:]

    public init(scenario: Scenario, seed: UInt64, yagna: String, keys: [String], files: any FileExchange, logger: Logger) throws {
        guard keys.count >= scenario.providers.count else {
            throw ProvideError(
                "the scenario has \(scenario.providers.count) providers but \(keys.count) provider app keys were given; "
                    + "start the node with one identity per provider (scripts/real-yagna.sh start DIR PORT \(scenario.providers.count)) and pass its PROVIDER_KEYS")
        }
        guard Set(keys).count == keys.count else { throw ProvideError("the provider app keys are not distinct: each provider needs its own identity") }
        engine = ProviderEngine(scenario: scenario, seed: seed, files: files)
        let base = yagna.hasSuffix("/") ? String(yagna.dropLast()) : yagna
        self.yagna = base
        agents = scenario.providers.enumerated().map { Agent(index: $0.offset, name: $0.element.name, rest: ProviderREST(base: base, key: keys[$0.offset])) }
        self.logger = logger
    }

    func count(_ what: String) { counts[what, default: 0] += 1 }

    static let constraints = "(&(golem.srv.comp.expiration>0))"

    // MARK: - Start

    /// Checks the node and each identity, and subscribes every provider's offer.
    public func start(requestorKey: String?) async throws {
        guard let first = agents.first else { throw ProvideError("the scenario has no providers to play") }
        let version: RESTAnswer
        do { version = try await first.rest.call(.GET, "/version/get") } catch {
            throw ProvideError("no yagna answers at \(yagna) (\(error)); start one with scripts/real-yagna.sh start DIR PORT \(agents.count), or let scripts/with-real-yagna.sh do it all")
        }
        guard version.status == 200, let current = version.json?["current"]?["version"]?.stringValue else {
            throw ProvideError("\(yagna) is not a yagna node answering this key (GET /version/get: \(version.status) \(version.text.prefix(200))); start one with scripts/real-yagna.sh")
        }
        if !current.hasPrefix("0.17.") {
            throw ProvideError("\(yagna) runs yagna \(current); provide is made for 0.17 (PyPI golem-node 0.17.6, as scripts/real-yagna.sh installs)")
        }
        var requestorIdentity: String?
        if let requestorKey {
            requestorIdentity = try? await ProviderREST(base: yagna, key: requestorKey).call(.GET, "/me").json?["identity"]?.stringValue
        }
        var seen: Set<String> = []
        for i in agents.indices {
            let me = try await agents[i].rest.call(.GET, "/me")
            guard me.status == 200, let id = me.json?["identity"]?.stringValue else {
                throw ProvideError("provider \(agents[i].name): its app key is not known to \(yagna) (GET /me: \(me.status)); create it with `yagna app-key create --id <identity> NAME` or scripts/real-yagna.sh")
            }
            guard id != requestorIdentity else {
                throw ProvideError("provider \(agents[i].name): its app key belongs to the requestor's identity \(id); each provider needs an identity of its own (scripts/real-yagna.sh start DIR PORT N)")
            }
            guard seen.insert(id).inserted else { throw ProvideError("provider \(agents[i].name): identity \(id) already plays another provider; give each provider its own identity") }
            agents[i].nodeId = id
        }
        for i in agents.indices {
            let rest = agents[i].rest
            // Offers an earlier run left behind would match demands too.
            for old in try await rest.call(.GET, "/market-api/v1/offers").json?.arrayValue ?? [] {
                if let id = old["offerId"]?.stringValue { _ = try? await rest.call(.DELETE, "/market-api/v1/offers/\(id)") }
            }
            let properties = engine.offerProperties(i, nodeId: agents[i].nodeId)
            let body: JSONValue = ["properties": .object(properties), "constraints": .string(Self.constraints)]
            let answer = try await rest.expect(.POST, "/market-api/v1/offers", body, "provider \(agents[i].name): subscribe its offer")
            guard let offer = answer.json?.stringValue else { throw ProvideError("provider \(agents[i].name): the offer's id is missing from \(answer.text.prefix(200))") }
            agents[i].offerId = offer
            logger.info("provider \(agents[i].name) (\(agents[i].nodeId)): offer \(offer)")
        }
    }

    // MARK: - Running

    /// Serves the providers until cancelled, then leaves the node clean.
    public func serve(bus: BusConnection) async {
        await withTaskGroup(of: Void.self) { group in
            for agent in agents {
                group.addTask { await self.loop("market", agent) { try await self.marketRound(agent) } }
                group.addTask { await self.loop("agreement events", agent) { try await self.agreementRound(agent) } }
                group.addTask { await self.activityLoop(agent, bus: bus) }
            }
            group.addTask { await self.effectsLoop(bus: bus) }
            group.addTask { await self.usageLoop(bus: bus) }
            await group.waitForAll()
        }
    }

    /// Repeats a polling round until cancelled; a failed round is logged and retried after a pause.
    nonisolated func loop(_ what: String, _ agent: Agent, _ round: @Sendable () async throws -> Void) async {
        while !Task.isCancelled {
            do { try await round() } catch {
                if Task.isCancelled { return }
                logger.warning("provider \(agent.name): \(what): \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    // MARK: - Market

    func marketRound(_ agent: Agent) async throws {
        let events = try await agent.rest.call(.GET, "/market-api/v1/offers/\(agent.offerId)/events?timeout=5&maxEvents=20", timeout: .seconds(15))
        guard events.status == 200 else {
            try await Task.sleep(for: .seconds(1))
            return
        }
        for event in events.json?.arrayValue ?? [] {
            switch event["eventType"]?.stringValue {
            case "ProposalEvent":
                guard let proposal = event["proposal"], proposal["state"]?.stringValue == "Draft", let id = proposal["proposalId"]?.stringValue else { continue }
                try await answerProposal(agent, id: id, proposal: proposal)
            case "AgreementEvent":
                guard let agreement = event["agreement"], let id = agreement["agreementId"]?.stringValue else { continue }
                try await answerAgreement(agent, id: id, agreement: agreement)
            case let other:
                logger.debug("provider \(agent.name): market event \(other ?? "?")")
            }
        }
    }

    /// Proposal chains this side has countered (by the requestor's first counter's predecessor).
    var negotiations: Set<String> = []

    func answerProposal(_ agent: Agent, id: String, proposal: JSONValue) async throws {
        let first = negotiations.insert(proposal["prevProposalId"]?.stringValue ?? id).inserted
        // Providers with equal delays answer in the scenario's order, as the simulated market
        // (which orders simultaneous offers by provider) shows them: 20 ms apart.
        let stagger = Duration.milliseconds(20 * agent.index)
        try await Task.sleep(for: first ? engine.firstCounterDelay(agent.index) + stagger : engine.responseDelay(agent.index))
        if let reason = engine.proposalRefusal(agent.index) {
            try await agent.rest.expect(.POST, "/market-api/v1/offers/\(agent.offerId)/proposals/\(id)/reject", ["message": .string(reason)], "reject proposal \(id)")
            count("proposals rejected")
            return
        }
        let properties = engine.counterProperties(agent.index, nodeId: agent.nodeId, requestor: proposal["properties"]?.objectValue ?? [:])
        let body: JSONValue = ["properties": .object(properties), "constraints": .string(Self.constraints)]
        try await agent.rest.expect(.POST, "/market-api/v1/offers/\(agent.offerId)/proposals/\(id)", body, "counter proposal \(id)")
        count("proposals countered")
    }

    func answerAgreement(_ agent: Agent, id: String, agreement: JSONValue) async throws {
        try await Task.sleep(for: engine.responseDelay(agent.index))
        if let reason = engine.agreementRefusal(agent.index) {
            try await agent.rest.expect(.POST, "/market-api/v1/agreements/\(id)/reject", ["message": .string(reason)], "reject agreement \(id)")
            count("agreements rejected")
            return
        }
        let decoded: Agreement
        do { decoded = try WireDecoder().decode(Agreement.self, from: agreement) } catch {
            throw ProvideError("agreement \(id): cannot read it (\(error))")
        }
        try await agent.rest.expect(.POST, "/market-api/v1/agreements/\(id)/approve?appSessionId=golem-sim-provide&timeout=10", nil, "approve agreement \(id)", timeout: .seconds(20))
        engine.agreementApproved(decoded, provider: agent.index, at: Date())
        count("agreements approved")
        logger.info("provider \(agent.name): approved agreement \(id)")
    }

    // MARK: - Agreement events

    var agreementCursor: [Int: String] = [:]

    func agreementRound(_ agent: Agent) async throws {
        let after = agreementCursor[agent.index] ?? WireTimestamp(Date().addingTimeInterval(-2), fractionDigits: 6).text
        let events = try await agent.rest.call(.GET, "/market-api/v1/agreementEvents?timeout=5&afterTimestamp=\(QueryItem.escape(after))", timeout: .seconds(15))
        guard events.status == 200 else {
            try await Task.sleep(for: .seconds(1))
            return
        }
        for event in events.json?.arrayValue ?? [] {
            if let date = event["eventDate"]?.stringValue { agreementCursor[agent.index] = date }
            guard event["eventType"]?.stringValue == "AgreementTerminatedEvent", let id = event["agreementId"]?.stringValue,
                engine.provider(ofAgreement: id) == agent.index
            else { continue }
            engine.agreementEnded(id, reason: event["reason"]?["message"]?.stringValue, byProvider: terminatedHere.contains(id), at: Date())
            logger.info("provider \(agent.name): agreement \(id) ended")
            }
    }

    // MARK: - Activities

    func activityLoop(_ agent: Agent, bus: BusConnection) async {
        var after = WireTimestamp(Date().addingTimeInterval(-2), fractionDigits: 6).text
        while !Task.isCancelled {
            do {
                let events = try await agent.rest.call(.GET, "/activity-api/v1/events?timeout=5&maxEvents=100&afterTimestamp=\(QueryItem.escape(after))", timeout: .seconds(15))
                guard events.status == 200 else {
                    try await Task.sleep(for: .seconds(1))
                    continue
                }
                for event in events.json?.arrayValue ?? [] {
                    if let date = event["eventDate"]?.stringValue { after = date }
                    guard let act = event["activityId"]?.stringValue, let kind = event["eventType"]?.objectValue else { continue }
                    if kind["CreateActivity"] != nil {
                        try await createActivity(agent, act, agreementId: event["agreementId"]?.stringValue ?? "", bus: bus)
                    } else if kind["DestroyActivity"] != nil {
                        try await destroyActivity(agent, act, bus: bus)
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("provider \(agent.name): activity events: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func createActivity(_ agent: Agent, _ id: String, agreementId: String, bus: BusConnection) async throws {
        guard served[id] == nil, engine.provider(ofAgreement: agreementId) == agent.index else { return }
        if let failure = engine.openActivity(id, agreementId: agreementId, at: Date()) {
            try await setState(id, .terminated, bus: bus, error: failure)
            count("activities refused")
            return
        }
        // The exe-unit first: the requestor may send a script as soon as the activity is Initialized.
        try await bus.register("/public/exeunit/\(id)") { call in await self.serveCall(call, bus: bus) }
        served[id] = agent.index
        try await setState(id, .initialized, bus: bus)
        count("activities")
        logger.info("provider \(agent.name): activity \(id) for agreement \(agreementId)")
    }

    func destroyActivity(_ agent: Agent, _ id: String, bus: BusConnection) async throws {
        guard served[id] != nil else { return }
        engine.destroyActivity(id, at: Date())
        try? await setState(id, .terminated, bus: bus)
        served[id] = nil
        try? await bus.unregister("/public/exeunit/\(id)")
        logger.info("provider \(agent.name): activity \(id) destroyed")
    }

    func setState(_ id: String, _ state: ActivityState, bus: BusConnection, error: String? = nil) async throws {
        let message: JSONValue = [
            "activityId": .string(id),
            "state": ["state": [.string(state.rawValue), nil], "reason": nil, "errorMessage": error.map { .string($0) } ?? nil],
            "timeout": nil, "credentials": nil,
        ]
        let reply = try await bus.call("/local/activity/SetActivityState", body: BusBody.encode(message))
        if case .object(let o)? = try? BusBody.decode(reply), let err = o["Err"] {
            throw ProvideError("SetActivityState \(state.rawValue) for \(id): \(JSONWriter.string(err))")
        }
    }

    /// Reports usage of every activity that answers, about once a second, as a real exe-unit
    /// does (without reports the daemon marks an activity unresponsive after 5 s).
    func usageLoop(bus: BusConnection) async {
        while !Task.isCancelled {
            let now = Date()
            for (id, _) in served.sorted(by: { $0.key < $1.key }) where engine.answers(id) {
                let usage = engine.usage(id, at: now)
                let message: JSONValue = [
                    "activityId": .string(id),
                    "usage": ["currentUsage": .array(usage.map { .double($0) }), "timestamp": .int(Int(now.timeIntervalSince1970))],
                    "timeout": nil,
                ]
                do { _ = try await bus.call("/local/activity/SetActivityUsage", body: BusBody.encode(message)) } catch {
                    if Task.isCancelled { return }
                    logger.warning("SetActivityUsage for \(id): \(error)")
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Effects (debit notes, invoices, terminations, state changes)

    /// Carries out what the engine schedules, at its time (checked at least every 200 ms, as
    /// new agreements and activities add to the schedule).
    func effectsLoop(bus: BusConnection) async {
        while !Task.isCancelled {
            for effect in engine.due(until: Date()) {
                do { try await perform(effect, bus: bus) } catch {
                    logger.warning("\(effect): \(error)")
                }
            }
            let wait = min(0.2, max(0.001, engine.nextDeadline?.timeIntervalSinceNow ?? 0.2))
            try? await Task.sleep(for: .seconds(wait))
        }
    }

    func agent(ofAgreement id: String) -> Agent? { engine.provider(ofAgreement: id).map { agents[$0] } }

    func perform(_ effect: ProviderEngine.Effect, bus: BusConnection) async throws {
        switch effect {
        case .debitNote(let activityId, let amount, let usage, let paymentDue):
            guard let agreementId = engine.agreement(ofActivity: activityId), let agent = agent(ofAgreement: agreementId) else { return }
            var fields: [String: JSONValue] = ["activityId": .string(activityId), "totalAmountDue": .string("\(amount)"), "usageCounterVector": .array(usage.map { .double($0) })]
            if let paymentDue { fields["paymentDueDate"] = .string(WireTimestamp(paymentDue, fractionDigits: 6).text) }
            let body = JSONValue.object(fields)
            let note = try await agent.rest.expect(.POST, "/payment-api/v1/debitNotes", body, "issue a debit note for \(activityId)")
            guard let id = note.json?["debitNoteId"]?.stringValue else { throw ProvideError("the debit note's id is missing from \(note.text.prefix(200))") }
            try await agent.rest.expect(.POST, "/payment-api/v1/debitNotes/\(id)/send", nil, "send debit note \(id)", timeout: .seconds(60))
            count("debit notes")
        case .invoice(let agreementId, let activityIds, let amount):
            guard let agent = agent(ofAgreement: agreementId), invoiced.insert(agreementId).inserted else { return }
            let body: JSONValue = [
                "agreementId": .string(agreementId), "activityIds": .array(activityIds.map { .string($0) }), "amount": .string("\(amount)"),
                "paymentDueDate": .string(WireTimestamp(Date().addingTimeInterval(86400), fractionDigits: 6).text),
            ]
            let invoice = try await agent.rest.expect(.POST, "/payment-api/v1/invoices", body, "issue the invoice of \(agreementId)")
            guard let id = invoice.json?["invoiceId"]?.stringValue else { throw ProvideError("the invoice's id is missing from \(invoice.text.prefix(200))") }
            try await agent.rest.expect(.POST, "/payment-api/v1/invoices/\(id)/send", nil, "send invoice \(id)", timeout: .seconds(60))
            count("invoices")
            logger.info("provider \(agent.name): invoice \(id) for \(agreementId): \(amount)")
        case .terminateAgreement(let agreementId, let reason):
            guard let agent = agent(ofAgreement: agreementId) else { return }
            terminatedHere.insert(agreementId)
            for id in engine.activities(ofAgreement: agreementId) where served[id] != nil {
                try? await setState(id, .terminated, bus: bus)
            }
            try await agent.rest.expect(
                .POST, "/market-api/v1/agreements/\(agreementId)/terminate", ["message": .string(reason), "golem.provider.code": "Terminated"],
                "terminate agreement \(agreementId)")
            count("agreements terminated by providers")
            logger.info("provider \(agent.name): terminated agreement \(agreementId): \(reason)")
        case .activityState(let activityId, let state):
            guard served[activityId] != nil else { return }
            try await setState(activityId, state, bus: bus)
        }
    }

    // MARK: - Stop

    /// Leaves the node clean, as a provider shutting down does: its agreements terminated (so
    /// requestors learn at once and get their invoices), activities terminated and their
    /// exe-units gone, invoices sent for every agreement that ended, offers unsubscribed.
    public func stop(bus: BusConnection) async {
        for id in engine.openAgreements {
            let reason = "golem-sim provide stopped"
            do { try await perform(.terminateAgreement(agreementId: id, reason: reason), bus: bus) } catch {
                logger.warning("stopping: terminate agreement \(id): \(error)")
            }
            engine.agreementEnded(id, reason: reason, byProvider: true, at: Date())
        }
        for (id, _) in served.sorted(by: { $0.key < $1.key }) {
            engine.destroyActivity(id, at: Date())
            try? await setState(id, .terminated, bus: bus)
            try? await bus.unregister("/public/exeunit/\(id)")
        }
        served = [:]
        for effect in engine.due(until: .distantFuture) {
            if case .invoice = effect { try? await perform(effect, bus: bus) }
        }
        await unsubscribeOffers()
    }

    /// Withdraws every provider's offer.
    public func unsubscribeOffers() async {
        for agent in agents where !agent.offerId.isEmpty {
            _ = try? await agent.rest.call(.DELETE, "/market-api/v1/offers/\(agent.offerId)")
        }
    }
}
