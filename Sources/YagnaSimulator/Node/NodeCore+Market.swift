import Foundation
import GolemTime
import YagnaAPI

extension NodeCore {
    mutating func market(_ request: NodeRequest, _ p: [String], now: Date) -> NodeOutcome {
        if let refusal = NodeCore.marketPathRefusal(p) { return .respond(refusal) }
        if !request.content.isEmpty, let type = request.header("Content-Type"), !type.lowercased().contains("json") {
            return .respond(NodeCore.message(400, "Content type error"))
        }
        switch (request.method, p.count, p.first) {
        case (.POST, 1, "demands"): return .respond(subscribe(request, now: now))
        // Offers of this node's requestor identity: it makes none.
        case (.GET, 1, "offers"): return .respond(.json(200, .array([])))
        case (.GET, 1, "demands"):
            let list = demands.values.filter { !$0.removed }.map(\.demand).sorted { ($0.timestamp, $0.demandId) < ($1.timestamp, $1.demandId) }
            return .respond(NodeCore.encode(200, list))
        case (.DELETE, 2, "demands"):
            guard var d = demands[p[1]], !d.removed else { return .respond(NodeCore.message(404, "Demand [\(p[1])] not found.")) }
            d.removed = true
            demands[p[1]] = d
            return .respond(NodeCore.noContent)
        case (.GET, 3, "demands") where p[2] == "events":
            guard demands[p[1]]?.removed == false else { return .respond(NodeCore.subscriptionNotFound(p[1], expired: demands[p[1]]?.expired == true)) }
            let timeout: Double
            switch seconds(request, "timeout", default: 5) {
            case .failure(let e): return .respond(e.response)
            case .success(let t): timeout = t
            }
            let maxEvents: Int
            switch integer(request, "maxEvents") {
            case .failure(let e): return .respond(e.response)
            case .success(let m):
                maxEvents = m ?? 20
                guard (1...100).contains(maxEvents) else { return .respond(NodeCore.message(400, "Invalid maxEvents '\(maxEvents)', should be between 1 and 100.")) }
            }
            return .wait(.demandEvents(subscriptionId: p[1], maxEvents: maxEvents), until: now.addingTimeInterval(timeout))
        case (.POST, 4, "demands") where p[2] == "proposals": return .respond(counter(request, sub: p[1], proposalId: p[3], now: now))
        case (.GET, 4, "demands") where p[2] == "proposals":
            guard let r = proposals[p[3]], r.subscriptionId == p[1] else { return .respond(NodeCore.proposalNotFound(p[3], subscription: p[1])) }
            return .respond(NodeCore.encode(200, r.proposal))
        case (.POST, 5, "demands") where p[2] == "proposals" && p[4] == "reject":
            if case .failure(let e) = body(Reason?.self, request, style: .json) { return .respond(e.response) }
            guard var r = proposals[p[3]], r.subscriptionId == p[1] else { return .respond(NodeCore.proposalNotFound(p[3], subscription: p[1], status: 500)) }
            r.proposal.state = .rejected
            proposals[p[3]] = r
            return .respond(NodeCore.noContent)
        case (.POST, 1, "agreements"): return .respond(createAgreement(request, now: now))
        case (.GET, 1, "agreements"):
            let state = request.query("state")
            let list = agreementOrder.compactMap { agreements[$0] }.filter { state == nil || $0.agreement.state.rawValue == state }
                .map { AgreementListEntry(id: $0.agreement.agreementId, timestamp: $0.agreement.timestamp, approvedDate: $0.agreement.approvedDate, role: "Requestor") }
            return .respond(NodeCore.encode(200, list))
        case (.GET, 2, "agreements"):
            guard let a = agreements[p[1]] else { return .respond(NodeCore.agreementNotFound(p[1])) }
            return .respond(NodeCore.encode(200, a.agreement))
        case (.POST, 3, "agreements") where p[2] == "confirm": return .respond(confirm(p[1], now: now))
        case (.POST, 3, "agreements") where p[2] == "wait":
            guard agreements[p[1]] != nil else { return .respond(NodeCore.agreementNotFound("R-" + p[1])) }
            let timeout: Double
            switch seconds(request, "timeout", default: 5) {
            case .failure(let e): return .respond(e.response)
            case .success(let t): timeout = t
            }
            return .wait(.agreementApproval(agreementId: p[1]), until: now.addingTimeInterval(timeout))
        case (.POST, 3, "agreements") where p[2] == "cancel":
            guard var a = agreements[p[1]] else { return .respond(NodeCore.message(404, "Agreement [\(p[1])] not found")) }
            if case .refused(let status, let message) = a.on(.cancel) {
                return .respond(NodeCore.message(status, "Agreement [\(p[1])] \(message)"))
            }
            agreements[p[1]] = a
            NodeCore.addEvent(AgreementEvent(eventType: .cancelled, eventDate: WireTimestamp(now, fractionDigits: 6), agreementId: p[1], reason: (try? WireDecoder().decode(Reason?.self, from: request.jsonBody())) ?? nil), to: &agreementEvents, \.eventDate)
            return .respond(YagnaResponse(status: 200))
        case (.POST, 3, "agreements") where p[2] == "terminate": return .respond(requestorTerminates(request, p[1], now: now))
        case (.GET, 4, "agreements") where p[2] == "terminate" && p[3] == "reason":
            guard let a = agreements[p[1]] else { return .respond(NodeCore.message(404, "Agreement [\(p[1])] not found")) }
            guard let event = a.terminationEvent else { return .respond(NodeCore.message(404, "Agreement [\(p[1])] is not terminated")) }
            return .respond(NodeCore.encode(200, event))
        case (.GET, 1, "agreementEvents"):
            let timeout: Double
            switch seconds(request, "timeout", default: 5) {
            case .failure(let e): return .respond(e.response)
            case .success(let t): timeout = t
            }
            let after: WireTimestamp?
            switch timestamp(request, "afterTimestamp") {
            case .failure(let e): return .respond(e.response)
            case .success(let t): after = t
            }
            let max: Int
            switch integer(request, "maxEvents") {
            case .failure(let e): return .respond(e.response)
            case .success(let m): max = m ?? 20
            }
            return .wait(.agreementEvents(after: after, maxEvents: max), until: now.addingTimeInterval(timeout))
        default:
            return .respond(YagnaResponse(status: 404))
        }
    }

    mutating func subscribe(_ request: NodeRequest, now: Date) -> YagnaResponse {
        let body: DemandBody
        switch self.body(DemandBody.self, request, style: .json) {
        case .failure(let e): return e.response
        case .success(let b): body = b
        }
        let constraint: Constraint
        do { constraint = try Constraint.parseCached(body.constraints) } catch {
            return NodeCore.message(400, "invalid demand constraints: \(error)")
        }
        let id = hexId(32) + "-" + hexId(64)
        let demand = Demand(properties: NodeCore.flatten(body.properties), constraints: body.constraints, demandId: id, requestorId: requestorId, timestamp: WireTimestamp(now, fractionDigits: 9))
        demands[id] = DemandRecord(demand: demand, constraint: constraint)
        // The daemon keeps a subscription for its own TTL (yagna's DEFAULT_SUBSCRIPTION_TTL, 1 h),
        // whatever golem.srv.comp.expiration says: the real 0.17.6 still delivers offers to a
        // demand whose expiration has passed (seen by the oracle).
        schedule(.expireDemand(subscriptionId: id), at: now.adding(scenario.daemon.subscriptionTTL))
        for (index, provider) in providers.enumerated() where constraint.matches(provider.offer) {
            schedule(.offer(subscriptionId: id, provider: index), at: now.adding(provider.spec.offerDelay))
        }
        return .json(201, .string(id))
    }

    /// Flattens nested property objects into dotted keys, as the daemon stores them.
    static func flatten(_ properties: Properties) -> Properties {
        var out: Properties = [:]
        func walk(_ prefix: String, _ value: JSONValue) {
            if case .object(let o) = value, !o.isEmpty {
                for (k, v) in o { walk(prefix.isEmpty ? k : "\(prefix).\(k)", v) }
            } else {
                out[prefix] = value
            }
        }
        for (k, v) in properties { walk(k, v) }
        return out
    }

    mutating func emitOffer(_ sub: String, provider: Int, at time: Date) {
        guard var d = demands[sub], !d.removed else { return }
        let p = providers[provider]
        let proposal = Proposal(
            properties: p.offer, constraints: "(&(golem.srv.comp.expiration>0))", proposalId: "R-" + hexId(64), issuerId: p.id,
            state: .initial, timestamp: WireTimestamp(time, fractionDigits: 9))
        proposals[proposal.proposalId] = ProposalRecord(proposal: proposal, subscriptionId: sub, provider: provider, fromProvider: true)
        d.events.append(.proposal(eventDate: WireTimestamp(time, fractionDigits: 3), proposal: proposal))
        demands[sub] = d
    }

    mutating func counter(_ request: NodeRequest, sub: String, proposalId: String, now: Date) -> YagnaResponse {
        let body: DemandBody
        switch self.body(DemandBody.self, request, style: .json) {
        case .failure(let e): return e.response
        case .success(let b): body = b
        }
        guard demands[sub]?.removed == false else { return NodeCore.subscriptionNotFound(sub, expired: demands[sub]?.expired == true) }
        guard var original = proposals[proposalId], original.subscriptionId == sub else {
            return NodeCore.proposalNotFound(proposalId, subscription: sub)
        }
        guard original.fromProvider else { return NodeCore.message(400, "Proposal [\(proposalId)] is your own; counter the provider's proposal") }
        guard !original.countered else { return NodeCore.message(410, "Proposal [\(proposalId)] was already countered") }
        let counter = Proposal(
            properties: NodeCore.flatten(body.properties), constraints: body.constraints, proposalId: "R-" + hexId(64), issuerId: requestorId,
            state: .draft, timestamp: WireTimestamp(now, fractionDigits: 9), prevProposalId: proposalId)
        if let mismatch = NodeCore.mismatch(counter, previous: original.proposal) { return NodeCore.message(400, mismatch) }
        original.countered = true
        proposals[proposalId] = original
        proposals[counter.proposalId] = ProposalRecord(proposal: counter, subscriptionId: sub, provider: original.provider, fromProvider: false)
        let provider = original.provider
        let reply = now.adding(providers[provider].spec.responseDelay)
        if let full = agreementLimitReached(provider) {
            schedule(.rejectProposal(subscriptionId: sub, proposalId: counter.proposalId, reason: full), at: reply)
            return .json(200, .string(counter.proposalId))
        }
        for case .rejectProposal(let reason, let trigger) in faults(provider) where strikes(trigger, provider: provider) {
            schedule(.rejectProposal(subscriptionId: sub, proposalId: counter.proposalId, reason: reason), at: reply)
            return .json(200, .string(counter.proposalId))
        }
        schedule(.counterReply(subscriptionId: sub, provider: provider, counterId: counter.proposalId), at: reply)
        return .json(200, .string(counter.proposalId))
    }

    /// Why a counter-proposal cannot follow the proposal it answers, in the daemon's words, or
    /// `nil` when they match: the counter's constraints must hold on the proposal's properties
    /// and the proposal's constraints on the counter's (each resolving to true, not undefined).
    static func mismatch(_ counter: Proposal, previous: Proposal) -> String? {
        let demand: Constraint
        let offer: Constraint
        do {
            demand = try Constraint.parseCached(counter.constraints)
            offer = try Constraint.parseCached(previous.constraints)
        } catch {
            return "Can't match Proposal [\(counter.proposalId)] with previous Proposal [\(previous.proposalId)]. Error: \(error)"
        }
        let onOffer = demand.resolve(previous.properties)
        let onDemand = offer.resolve(counter.properties)
        guard onOffer.value != true || onDemand.value != true else { return nil }
        func names(_ list: [String]) -> String { "[" + list.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        return "Proposal properties [\(counter.proposalId)] doesn't match previous Proposal [\(previous.proposalId)]. "
            + "Mismatched constraints - Offer: \(names(onOffer.unresolved)), Demand: \(names(onDemand.unresolved))"
    }

    mutating func emitDraft(_ sub: String, provider: Int, counterId: String, at time: Date) {
        guard var d = demands[sub], !d.removed, let counter = proposals[counterId] else { return }
        let properties = NodeCore.counterProperties(offer: providers[provider].offer, requestor: counter.proposal.properties)
        let draft = Proposal(
            properties: properties, constraints: "(&(golem.srv.comp.expiration>0))", proposalId: "R-" + hexId(64),
            issuerId: providers[provider].id, state: .draft, timestamp: WireTimestamp(time, fractionDigits: 9), prevProposalId: counterId)
        proposals[draft.proposalId] = ProposalRecord(proposal: draft, subscriptionId: sub, provider: provider, fromProvider: true)
        d.events.append(.proposal(eventDate: WireTimestamp(time, fractionDigits: 3), proposal: draft))
        demands[sub] = d
    }

    /// A provider's counter-proposal: its offer, echoing what it agreed to (the negotiated `…?`
    /// keys and the payment platform of the requestor's proposal).
    static func counterProperties(offer: Properties, requestor: Properties) -> Properties {
        var properties = offer
        for (k, v) in requestor where k.hasSuffix("?") || k == "golem.com.payment.chosen-platform" { properties[k] = v }
        return properties
    }

    /// Adds an event to a list kept in the order of the events' dates (a later event goes after
    /// every earlier one, one of the same date after those already there), so that a poll can
    /// tell from the last event alone whether any is new.
    static func addEvent<E>(_ event: E, to list: inout [E], _ date: KeyPath<E, WireTimestamp>) {
        let nanos = event[keyPath: date].epochNanoseconds ?? 0
        var i = list.endIndex
        while i > list.startIndex, (list[i - 1][keyPath: date].epochNanoseconds ?? 0) > nanos { i -= 1 }
        list.insert(event, at: i)
    }

    /// Whether an event of `date` is not one a poll for events after `after` returns.
    static func notAfter(_ date: WireTimestamp, _ after: WireTimestamp?) -> Bool {
        guard let after else { return false }
        return (date.epochNanoseconds ?? 0) <= (after.epochNanoseconds ?? 0)
    }

    mutating func collectDemandEvents(_ sub: String, maxEvents: Int, final: Bool) -> YagnaResponse? {
        if !final, let nothing = demandFoundNothing, nothing.version == demandsVersion, nothing.subscription == sub { return nil }
        // One lookup, and the record read in place: a parked poll is looked at after every
        // change, and a copy of the record is a retain of each of its fields.
        enum Look { case missing, expired, none, taken([MarketEvent]) }
        let look = NodeCore.inPlace(&demands[sub]) { d -> Look in
            guard d != nil else { return .missing }
            if d!.expired { return .expired }
            if d!.removed { return .missing }
            if d!.events.isEmpty { return .none }
            let taken = Array(d!.events.prefix(maxEvents))
            d!.events.removeFirst(taken.count)
            return .taken(taken)
        }
        switch look {
        case .missing: return NodeCore.subscriptionNotFound(sub, expired: false)
        case .expired: return NodeCore.subscriptionNotFound(sub, expired: true)
        case .none:
            // Noted after the look (reading in place counts as a change).
            demandFoundNothing = (sub, demandsVersion)
            return final ? .json(200, .array([]), typed: [MarketEvent]()) : nil
        case .taken(let taken): return NodeCore.encode(200, taken)
        }
    }

    mutating func createAgreement(_ request: NodeRequest, now: Date) -> YagnaResponse {
        let body: AgreementProposal
        switch self.body(AgreementProposal.self, request, style: .json) {
        case .failure(let e): return e.response
        case .success(let b): body = b
        }
        let pid = body.proposalId
        guard NodeCore.isProposalId(pid) else { return NodeCore.message(400, "Invalid Agreement id. Id [\(pid)] has invalid format.") }
        guard let record = proposals[pid] else { return NodeCore.message(400, "Can't create Agreement for Proposal [\(pid)]. Proposal [\(pid)] not found.") }
        guard record.fromProvider else {
            return NodeCore.message(400, "Can't create Agreement for an own Proposal [\(pid)]. You can promote only provider's Proposals to Agreement.")
        }
        guard record.fromProvider, record.proposal.state == .draft, let counterId = record.proposal.prevProposalId,
            let counter = proposals[counterId], let demand = demands[record.subscriptionId]
        else {
            return NodeCore.message(400, "No negotiation with the provider for Proposal [\(body.proposalId)]: counter the offer first and create the agreement from the provider's Draft")
        }
        guard record.proposal.state != .accepted else { return NodeCore.message(409, "Proposal [\(body.proposalId)] already has an agreement") }
        var accepted = record
        accepted.proposal.state = .accepted
        proposals[body.proposalId] = accepted
        let provider = providers[record.provider]
        let id = hexId(64)
        let agreement = Agreement(
            agreementId: id,
            demand: Demand(properties: counter.proposal.properties, constraints: counter.proposal.constraints, demandId: demand.demand.demandId, requestorId: requestorId, timestamp: WireTimestamp(now, fractionDigits: 9)),
            offer: Offer(properties: record.proposal.properties, constraints: record.proposal.constraints, offerId: NodeCore.offerSubscription(provider.id), providerId: provider.id, timestamp: WireTimestamp(now, fractionDigits: 9)),
            validTo: body.validTo, state: .proposal, timestamp: WireTimestamp(now, fractionDigits: 9))
        let multi = counter.proposal.properties["golem.srv.caps.multi-activity"]?.boolValue == true && provider.spec.multiActivity
        agreements[id] = AgreementRecord(agreement: agreement, provider: record.provider, multiActivity: multi)
        agreementOrder.append(id)
        if let deadline = body.validTo.epochNanoseconds {
            schedule(.expireAgreement(agreementId: id), at: max(now, clientDeadline(Date(timeIntervalSince1970: Double(deadline) / 1e9))))
        }
        return .json(200, .string(id))
    }

    mutating func confirm(_ id: String, now: Date) -> YagnaResponse {
        guard var a = agreements[id] else { return NodeCore.agreementNotFound("R-" + id) }
        if case .refused = a.on(.confirm) { return NodeCore.message(410, "Can't update Agreement state from \(a.agreement.state.rawValue) to Pending.") }
        agreements[id] = a
        let provider = a.provider
        let at = now.adding(providers[provider].spec.responseDelay)
        for case .rejectAgreement(let reason, let trigger) in faults(provider) where strikes(trigger, provider: provider) {
            schedule(.decideAgreement(agreementId: id, approve: false, reason: reason), at: at)
            return NodeCore.noContent
        }
        schedule(.decideAgreement(agreementId: id, approve: true, reason: ""), at: at)
        return NodeCore.noContent
    }

    /// ya-provider's limit on simultaneous agreements: the reason it refuses more once the
    /// provider holds that many approved, unended agreements; `nil` while it has room.
    func agreementLimitReached(_ provider: Int) -> String? {
        guard let limit = providers[provider].spec.maxAgreements else { return nil }
        let held = agreements.values.filter { $0.provider == provider && $0.approvedAt != nil && $0.endedAt == nil }.count
        return held >= limit ? "No capacity available. Reached Agreements limit: \(limit)" : nil
    }

    mutating func decideAgreement(_ id: String, approve requested: Bool, reason requestedReason: String, at time: Date) {
        // Two negotiations may run at once; the second approval finds the provider full.
        var approve = requested
        var reason = requestedReason
        if approve, let provider = agreements[id]?.provider, let full = agreementLimitReached(provider) {
            approve = false
            reason = full
        }
        guard var a = agreements[id], case .moved = a.on(approve ? .approve : .reject) else { return }
        if approve {
            a.agreement.approvedDate = WireTimestamp(time, fractionDigits: 9)
            a.agreement.proposedSignature = "NoSignature"
            a.agreement.approvedSignature = "NoSignature"
            a.agreement.committedSignature = "NoSignature"
            a.approvedAt = time
            NodeCore.addEvent(AgreementEvent(eventType: .approved, eventDate: WireTimestamp(time, fractionDigits: 6), agreementId: id), to: &agreementEvents, \.eventDate)
            scheduleTerminations(id, provider: a.provider, approvedAt: time)
        } else {
            a.endedAt = time
            NodeCore.addEvent(AgreementEvent(eventType: .rejected, eventDate: WireTimestamp(time, fractionDigits: 6), agreementId: id, reason: Reason(message: reason)), to: &agreementEvents, \.eventDate)
        }
        agreements[id] = a
    }

    /// A provider's faults that end an agreement at a time after its approval.
    mutating func scheduleTerminations(_ id: String, provider: Int, approvedAt time: Date) {
        for case .terminateAgreement(let reason, let trigger) in faults(provider) {
            if let at = trigger.at, strikes(trigger, provider: provider) {
                schedule(.terminateAgreement(agreementId: id, reason: reason), at: time.adding(at))
            }
        }
    }

    func waitResult(_ id: String, final: Bool) -> YagnaResponse? {
        guard let a = agreements[id] else { return NodeCore.message(404, "Agreement [\(id)] not found") }
        switch a.agreement.state {
        case .approved: return NodeCore.noContent
        case .rejected: return NodeCore.message(410, "Rejected")
        case .cancelled: return NodeCore.message(410, "Cancelled")
        case .expired: return NodeCore.message(410, "Expired")
        case .proposal: return NodeCore.message(400, "Agreement [R-\(id)] should be confirmed, before waiting for approval.")
        case .terminated: return NodeCore.message(400, "Agreement [\(id)] is already Terminated")
        case .pending: return final ? NodeCore.message(408, "Timeout waiting for Agreement [R-\(id)] approval") : nil
        }
    }

    mutating func requestorTerminates(_ request: NodeRequest, _ id: String, now: Date) -> YagnaResponse {
        let reason: Reason?
        switch self.body(Reason?.self, request, style: .json) {
        case .failure(let e): return e.response
        case .success(let r): reason = r
        }
        guard let a = agreements[id] else { return NodeCore.agreementNotFound(id) }
        if case .refused(let status, let message) = AgreementStateMachine.transition(from: a.agreement.state, on: .terminate) {
            if a.agreement.state == .terminated { return NodeCore.message(410, "Can't update Agreement state from Terminated to Terminated.") }
            return NodeCore.message(status, "Agreement [\(id)] \(message)")
        }
        terminate(id, by: .requestor, reason: reason, at: now)
        return YagnaResponse(status: 200)
    }

    mutating func providerTerminates(_ id: String, reason: String, at time: Date) {
        guard let a = agreements[id], case .moved = AgreementStateMachine.transition(from: a.agreement.state, on: .terminate) else { return }
        terminate(id, by: .provider, reason: Reason(message: reason, extra: ["golem.provider.code": "Terminated"]), at: time)
    }

    /// Ends an approved agreement: the event, its activities stopped, its invoice scheduled.
    mutating func terminate(_ id: String, by terminator: Terminator, reason: Reason?, at time: Date) {
        guard var a = agreements[id] else { return }
        guard case .moved = a.on(.terminate) else { return }
        let event = AgreementEvent(eventType: .terminated, eventDate: WireTimestamp(time, fractionDigits: 6), agreementId: id, reason: reason, terminator: terminator, signature: "")
        a.endedAt = time
        a.terminationEvent = event
        agreements[id] = a
        NodeCore.addEvent(event, to: &agreementEvents, \.eventDate)
        endActivities(of: id, at: time)
        scheduleInvoice(id, at: time)
        reoffer(a.provider, at: time)
    }

    /// The provider's offer is free again once an agreement ends: the daemon matches it anew
    /// with every demand still subscribed, which sees a fresh Initial proposal at once (seen on
    /// yagna 0.17.6 with both a requestor's and a provider's termination).
    mutating func reoffer(_ provider: Int, at time: Date) {
        guard scenario.daemon.reoffersAfterAgreements else { return }
        for sub in demands.keys.sorted() {
            guard let d = demands[sub], !d.removed, d.constraint.matches(providers[provider].offer) else { continue }
            schedule(.offer(subscriptionId: sub, provider: provider), at: time)
        }
    }

    /// The activities of an ended agreement stop: state Terminated, unfinished batches stall.
    mutating func endActivities(of agreementId: String, at time: Date) {
        for id in agreements[agreementId]?.activities ?? [] {
            guard var act = activities[id], act.state != .terminated else { continue }
            act.on(.terminate)
            for key in act.batchOrder {
                act.batches[key]?.results.removeAll { $0.at > time }
                act.batches[key]?.frames.removeAll { $0.at > time }
                if let b = act.batches[key], b.results.count < b.commands.count, b.results.last?.result.result != .error { act.batches[key]?.stalled = true }
            }
            if act.destroyed == nil { act.destroyed = time }
            activities[id] = act
        }
    }

    func collectAgreementEvents(after: WireTimestamp?, maxEvents: Int, final: Bool) -> YagnaResponse? {
        // In the order they happened, as payment events (see `collectPaymentEvents`).
        if !final, agreementEvents.last.map({ NodeCore.notAfter($0.eventDate, after) }) ?? true { return nil }
        let list = agreementEvents.filter { after == nil || ($0.eventDate.epochNanoseconds ?? 0) > (after!.epochNanoseconds ?? 0) }.prefix(maxEvents)
        if list.isEmpty && !final { return nil }
        return NodeCore.encode(200, Array(list))
    }
}

extension NodeCore {
    /// Runs `body` on `value` in place: passed `inout`, a dictionary's entry is reached through
    /// its modify accessor and not copied (a read through its getter copies the whole record).
    @inline(__always)
    static func inPlace<V, R>(_ value: inout V, _ body: (inout V) -> R) -> R { body(&value) }

    static func isHex(_ s: Substring, count: Int) -> Bool {
        s.utf8.count == count && s.utf8.allSatisfy(isHexDigit)
    }

    static func isHexDigit(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }

    /// `<hex32>-<hex64>`: a market subscription (demand or offer).
    static func isSubscriptionId(_ s: String) -> Bool {
        let bytes = s.utf8
        guard bytes.count == 97 else { return false }
        for (i, c) in bytes.enumerated() {
            if i == 32 {
                guard c == UInt8(ascii: "-") else { return false }
            } else if !isHexDigit(c) {
                return false
            }
        }
        return true
    }

    /// `R-<hex64>` or `P-<hex64>`: a proposal as the requestor or the provider sees it.
    static func isProposalId(_ s: String) -> Bool {
        (s.hasPrefix("R-") || s.hasPrefix("P-")) && isHex(s.dropFirst(2), count: 64)
    }

    /// The daemon's answer to a malformed id in a market path, or `nil` when every id is well formed.
    static func marketPathRefusal(_ p: [String]) -> YagnaResponse? {
        if p.first == "demands", p.count >= 2, !isSubscriptionId(p[1]) {
            return pathError("Subscription id [\(p[1])] has invalid format.")
        }
        if p.first == "demands", p.count >= 4, p[2] == "proposals", !isProposalId(p[3]) {
            return pathError("Id [\(p[3])] has invalid format.")
        }
        if p.first == "agreements", p.count >= 2 {
            let id = p[1].hasPrefix("R-") || p[1].hasPrefix("P-") ? Substring(p[1].dropFirst(2)) : Substring(p[1])
            // ASCII hex digits only, as the daemon's hex decoding reads them.
            if !id.utf8.allSatisfy(isHexDigit) {
                return message(400, "Invalid Agreement id. Id [\(p[1])] contains non hexadecimal characters.")
            }
            if id.utf8.count != 64 { return message(400, "Invalid Agreement id. Id [\(p[1])] has invalid format.") }
        }
        return nil
    }

    static func subscriptionNotFound(_ id: String, expired: Bool) -> YagnaResponse {
        message(404, expired ? "Subscription [\(id)] expired." : "Subscription [\(id)] not found. Could be unsubscribed.")
    }

    /// The daemon names the subscription with Rust's debug format of its id.
    static func proposalNotFound(_ id: String, subscription: String, status: Int = 404) -> YagnaResponse {
        let parts = subscription.split(separator: "-", maxSplits: 1).map(String.init)
        let random = parts.first ?? subscription, hash = parts.count > 1 ? parts[1] : ""
        return message(status, "Proposal [\(id)] not found (subscription [Some(SubscriptionId { random_id: \"\(random)\", hash: \"\(hash)\" })]).")
    }

    static func agreementNotFound(_ shownId: String) -> YagnaResponse {
        message(404, "Agreement [\(shownId)] not found.")
    }

    /// The subscription id of a simulated provider's offer: derived from its node id, so stable.
    static func offerSubscription(_ providerId: String) -> String {
        let hex = String(providerId.dropFirst(2).lowercased())
        let long = hex + hex
        return String(long.prefix(32)) + "-" + String(long.prefix(64))
    }
}
