import Foundation
public import YagnaAPI

/// Reads a session's exchanges in order and follows its resources — proposals, agreements,
/// activities, batches, debit notes, invoices — back to the provider they concern. From that
/// it derives the protocol-level operations (what replay and `diff` compare) and the timeline
/// events (what `inspect` draws).
///
/// The analyzer is incremental: replay feeds it the live session exchange by exchange and asks
/// it what a request means before the node answers.
public struct ProtocolAnalyzer: Sendable {
    /// What the analyzer learned about one provider.
    public struct Provider: Sendable, Hashable {
        public var id: String
        public var name: String
        /// The provider's first offer (an `Initial` proposal), as sent.
        public var offer: JSONValue?
        public var firstSeen: Int64
    }

    public private(set) var providers: [String: Provider] = [:]
    public private(set) var providerOrder: [String] = []
    public private(set) var operations: [ProtocolOperation] = []
    public private(set) var events: [TimelineEvent] = []
    /// Whether the analyzer keeps operations and timeline events. Replay's referee only asks
    /// what a request means, so it follows the ids and nothing more.
    public let keepsTimeline: Bool

    var proposalProvider: [String: String] = [:]
    var counterIds: Set<String> = []
    /// Whether the requestor's latest counter-proposal to a provider chose a payment platform
    /// (`golem.com.payment.chosen-platform`): without one the provider never invoices.
    var choosesPlatform: [String: Bool] = [:]
    var agreementProvider: [String: String] = [:]
    var agreementLabel: [String: String] = [:]
    var activityAgreement: [String: String] = [:]
    var activityLabel: [String: String] = [:]
    var batchInfo: [String: Batch] = [:]
    var documentProvider: [String: String] = [:]
    var documentAgreement: [String: String] = [:]
    var counters: [String: Int] = [:]
    var documentsShown: Set<String> = []

    struct Batch: Sendable {
        var activity: String
        var label: String
        var commands: [JSONValue]
        var start: Int64
        var results: [Int: JSONValue] = [:]
        var finished = false
        var eventIndex: Int
    }

    /// - Parameter keepsTimeline: keep operations and timeline events (`false`: follow the
    ///   session's ids only, for classifying requests).
    public init(keepsTimeline: Bool = true) { self.keepsTimeline = keepsTimeline }

    /// Analyzes a whole session.
    public init(_ exchanges: [ProtocolExchange]) {
        self.keepsTimeline = true
        for e in exchanges.sorted(by: { ($0.start, $0.sequence) < ($1.start, $1.sequence) }) { ingest(e) }
    }

    public static let requestorLane = "requestor"

    /// A provider's display name (its `golem.node.id.name`, else a shortened id).
    public func name(of lane: String) -> String {
        if lane == Self.requestorLane { return lane }
        return providers[lane]?.name ?? String(lane.prefix(10))
    }

    mutating func label(_ lane: String, _ kind: String) -> String {
        let key = lane + "/" + kind
        counters[key, default: 0] += 1
        return "\(kind) \(counters[key]!)"
    }

    // MARK: - Classifying a request

    /// What a request means, from what the analyzer has seen so far: its lane, resource and
    /// relevant fields, or `nil` for reads, long polls and requests the catalog does not know.
    public func classify(_ e: ProtocolExchange) -> ProtocolOperation? {
        guard let match = e.match, !match.spec.readOnly else { return nil }
        let name = match.spec.name
        let ids = match.ids
        // Read only by the operations that look at it (an exec handed over in-process does not).
        lazy var body = e.request
        let requestor = Self.requestorLane
        func op(_ lane: String?, _ resource: String, _ fields: JSONValue = [:]) -> ProtocolOperation {
            ProtocolOperation(
                lane: lane ?? "unknown", kind: name, resource: resource, fields: fields, offset: e.start, sequence: e.sequence,
                status: e.status)
        }
        switch name {
        case "payment.createAllocation":
            return op(requestor, "allocation", Normalize.allocation(body))
        case "payment.amendAllocation":
            return op(requestor, "allocation", Normalize.allocation(body))
        case "payment.releaseAllocation": return op(requestor, "allocation")
        case "market.subscribeDemand": return op(requestor, "demand", Normalize.demand(body))
        case "market.unsubscribeDemand": return op(requestor, "demand")
        case "market.counterProposalDemand", "market.rejectProposalOffer":
            let lane = ids.count > 1 ? proposalProvider[ids[1]] : nil
            return op(lane, "proposal")
        case "market.createAgreement":
            let lane = body?["proposalId"]?.stringValue.flatMap { proposalProvider[$0] }
            return op(lane, "agreement")
        case "market.confirmAgreement", "market.cancelAgreement", "market.terminateAgreement":
            let id = ids.first ?? ""
            return op(agreementProvider[id], agreementLabel[id] ?? "agreement ?")
        case "activity.createActivity":
            let agreement = body?["agreementId"]?.stringValue ?? body?.stringValue ?? ""
            return op(agreementProvider[agreement], agreementLabel[agreement].map { "activity of \($0)" } ?? "activity")
        case "activity.destroyActivity":
            let id = ids.first ?? ""
            return op(activityAgreement[id].flatMap { agreementProvider[$0] }, activityLabel[id] ?? "activity ?")
        case "activity.exec":
            let id = ids.first ?? ""
            // A typed client's script handed over in-process is what the text says (see `NodeCore.exec`).
            let script = MessageBody.takesHandedOver ? e.requestContent.handedOver(as: ExeScriptRequest.Prepared.self)?.script : nil
            return op(activityAgreement[id].flatMap { agreementProvider[$0] }, activityLabel[id] ?? "activity ?", Normalize.exec(script.map { .object(["commands": $0]) } ?? body))
        case "payment.acceptDebitNote", "payment.rejectDebitNote", "payment.acceptInvoice", "payment.rejectInvoice":
            let id = ids.first ?? ""
            let kind = name.hasSuffix("Invoice") ? "invoice" : "debit note"
            return op(documentProvider[id], documentAgreement[id].flatMap { agreementLabel[$0] }.map { "\(kind) of \($0)" } ?? kind)
        default:
            return op(requestor, name)
        }
    }

    // MARK: - Ingesting an exchange

    /// Takes in one complete exchange.
    /// The operations that teach the analyzer a session's ids (which provider a proposal,
    /// agreement, activity or document belongs to): all that one without a timeline reads.
    static let idOperations: Set<String> = [
        "market.collectDemandEvents", "market.counterProposalDemand", "market.createAgreement", "activity.createActivity",
        "payment.getDebitNote", "payment.getInvoice",
    ]

    /// Without a timeline a document teaches only its agreement: taken from the document an
    /// in-process node handed over, when there is one, without writing its JSON (the node's own
    /// value, which its JSON is written from: nothing a decoding could check). Whether it did.
    mutating func learnedDocument(status: Int, ids: [String], response: MessageBody) -> Bool {
        guard !keepsTimeline, (200..<300).contains(status), let id = ids.first,
            let agreement = response.handedOver(as: DebitNote.self)?.agreementId ?? response.handedOver(as: Invoice.self)?.agreementId
        else { return false }
        documentAgreement[id] = agreement
        documentProvider[id] = agreementProvider[agreement]
        return true
    }

    public mutating func ingest(_ exchange: ProtocolExchange) {
        guard let name = exchange.operation, keepsTimeline || Self.idOperations.contains(name) else { return }
        if learnedDocument(status: exchange.status, ids: exchange.ids, response: exchange.responseContent) { return }
        // Each body is read once here, however often the cases below look at it.
        var e = exchange
        // Parsed once here for the reads below, the bytes kept as they came.
        if e.requestJSON == nil, !e.requestContent.isEmpty, let json = e.request { e.requestContent = MessageBody(json: json, bytes: e.requestBody) }
        if e.responseJSON == nil, !e.responseContent.isEmpty, let json = e.response { e.responseContent = MessageBody(json: json, bytes: e.responseBody) }
        // Operations the daemon processed count, whatever it answered (a 410 to a terminate is
        // part of the session); transient failures (408, 5xx, no answer) do not.
        if keepsTimeline, var op = classify(e), e.status >= 200, e.status < 500, e.status != 408 {
            op.status = e.status
            operations.append(op)
        }
        let ids = e.ids
        let at = e.end
        let requestor = Self.requestorLane
        let timeline = keepsTimeline
        func event(
            _ lane: String?, _ kind: TimelineEvent.Kind, _ summary: @autoclosure () -> String, _ resource: @autoclosure () -> String = "",
            details: @autoclosure () -> JSONValue = [:], failure: Bool = false
        ) {
            guard timeline else { return }
            events.append(TimelineEvent(
                lane: lane ?? "unknown", kind: kind, offset: at, end: at, sequence: e.sequence, summary: summary(),
                resource: resource(), details: details(), failure: failure))
        }
        if name == "market.waitForApproval", e.status == 410, let id = ids.first {
            let reason = e.response?["message"]?.stringValue ?? ""
            event(agreementProvider[id], .agreementRejected, "\(agreementLabel[id] ?? "agreement") not approved: \(reason)", agreementLabel[id] ?? "", failure: true)
            return
        }
        if !e.ok && e.status != 408 && e.status != 204 && e.status != 101 && !name.hasPrefix("registry") {
            guard timeline else { return }
            let message = e.response?["message"]?.stringValue ?? String(decoding: e.responseBody.prefix(200), as: UTF8.self)
            let lane = classify(e)?.lane ?? requestor
            event(lane == "unknown" ? requestor : lane, .error, "\(name) answered \(e.status == -1 ? "nothing (connection closed)" : String(e.status)): \(message)", failure: true)
            return
        }
        // A 408 is a wait that ran out (a poll, an approval wait) or a request that timed out:
        // either way nothing happened that the timeline could show.
        if e.status == 408 { return }
        switch name {
        case "payment.createAllocation":
            let amount = e.response?["totalAmount"]?.stringValue ?? e.request?["totalAmount"].map(Normalize.amount) ?? "?"
            event(requestor, .allocation, "allocation of \(amount) GLM", "allocation")
        case "payment.releaseAllocation": event(requestor, .allocationReleased, "allocation released", "allocation")
        case "market.subscribeDemand": event(requestor, .demand, "demand subscribed", "demand")
        case "market.collectDemandEvents":
            for item in e.response?.arrayValue ?? [] { marketEvent(item, e) }
        case "market.counterProposalDemand":
            let provider = ids.count > 1 ? proposalProvider[ids[1]] : nil
            if let counter = e.response?.stringValue, let provider {
                proposalProvider[counter] = provider
                counterIds.insert(counter)
            }
            let properties = e.request?["properties"]
            let chosen = properties?["golem.com.payment.chosen-platform"] ?? properties?["golem"]?["com"]?["payment"]?["chosen-platform"]
            if let provider { choosesPlatform[provider] = chosen != nil }
            event(provider, .counter, chosen == nil ? "counter-proposal sent (no payment platform chosen)" : "counter-proposal sent", "proposal")
        case "market.rejectProposalOffer":
            let provider = ids.count > 1 ? proposalProvider[ids[1]] : nil
            event(provider, .proposalRejectedByRequestor, "requestor rejected the proposal", "proposal")
        case "market.createAgreement":
            let provider = e.request?["proposalId"]?.stringValue.flatMap { proposalProvider[$0] }
            if let id = e.response?.stringValue, let provider {
                agreementProvider[id] = provider
                agreementLabel[id] = label(provider, "agreement")
                // Billable only when the negotiation chose a payment platform (a real provider
                // sends no invoice otherwise).
                let billable = choosesPlatform[provider] ?? true
                event(provider, .agreementCreated, "\(agreementLabel[id]!) created\(billable ? "" : " (unbillable: no payment platform was chosen)")",
                      agreementLabel[id]!, details: ["billable": .bool(billable)])
            }
        case "market.confirmAgreement":
            let id = ids.first ?? ""
            event(agreementProvider[id], .agreementConfirmed, "\(agreementLabel[id] ?? "agreement") confirmed", agreementLabel[id] ?? "")
        case "market.waitForApproval":
            let id = ids.first ?? ""
            if e.status == 204 || e.status == 200 {
                event(agreementProvider[id], .agreementApproved, "\(agreementLabel[id] ?? "agreement") approved by the provider", agreementLabel[id] ?? "")
            }
        case "market.terminateAgreement":
            let id = ids.first ?? ""
            let reason = e.request?["message"]?.stringValue ?? ""
            event(agreementProvider[id], .agreementTerminated, "\(agreementLabel[id] ?? "agreement") terminated by the requestor\(reason.isEmpty ? "" : ": \(reason)")", agreementLabel[id] ?? "", details: ["terminator": "Requestor"])
        case "market.cancelAgreement":
            let id = ids.first ?? ""
            event(agreementProvider[id], .agreementCancelled, "\(agreementLabel[id] ?? "agreement") cancelled by the requestor", agreementLabel[id] ?? "")
        case "market.collectAgreementEvents":
            for item in e.response?.arrayValue ?? [] { agreementEvent(item, e) }
        case "activity.createActivity":
            let agreement = e.request?["agreementId"]?.stringValue ?? e.request?.stringValue ?? ""
            let id = e.response?.stringValue ?? e.response?["activityId"]?.stringValue
            if let id, let provider = agreementProvider[agreement] {
                activityAgreement[id] = agreement
                activityLabel[id] = label(provider, "activity")
                event(provider, .activityCreated, "\(activityLabel[id]!) created on \(agreementLabel[agreement] ?? "its agreement")", activityLabel[id]!)
            }
        case "activity.destroyActivity":
            let id = ids.first ?? ""
            event(activityAgreement[id].flatMap { agreementProvider[$0] }, .activityDestroyed, "\(activityLabel[id] ?? "activity") destroyed", activityLabel[id] ?? "")
        case "activity.exec":
            guard timeline else { break }
            let activity = ids.first ?? ""
            guard let batchId = e.response?.stringValue else { break }
            let provider = activityAgreement[activity].flatMap { agreementProvider[$0] }
            let lbl = label(provider ?? "unknown", "batch")
            let commands = Normalize.commands(e.request)
            let summary = commands.map(Normalize.commandLine).joined(separator: "; ")
            events.append(TimelineEvent(
                lane: provider ?? "unknown", kind: .batch, offset: e.start, end: e.end, sequence: e.sequence,
                summary: "\(lbl) on \(activityLabel[activity] ?? "activity"): \(summary)", resource: lbl,
                details: ["commands": .array(commands.map { .string(Normalize.commandLine($0)) })], failure: false))
            batchInfo[batchId] = Batch(activity: activity, label: lbl, commands: commands, start: e.start, eventIndex: events.count - 1)
        case "activity.getExecBatchResults":
            guard timeline, ids.count > 1, var batch = batchInfo[ids[1]] else { break }
            if e.frames.isEmpty {
                for r in e.response?.arrayValue ?? [] { batchResult(&batch, r, at: at, sequence: e.sequence) }
            } else {
                for f in e.frames {
                    guard let v = try? JSONParser.parse(f.data) else { continue }
                    batchFrame(&batch, v, at: at, sequence: e.sequence)
                }
            }
            batchInfo[ids[1]] = batch
        case "payment.getDebitNote", "payment.getInvoice":
            let id = ids.first ?? ""
            if let agreement = e.response?["agreementId"]?.stringValue {
                documentAgreement[id] = agreement
                documentProvider[id] = agreementProvider[agreement]
                let isInvoice = name == "payment.getInvoice"
                let amount = e.response?[isInvoice ? "amount" : "totalAmountDue"].map(Normalize.amount) ?? "?"
                if documentsShown.insert(id).inserted {
                    event(agreementProvider[agreement], isInvoice ? .invoice : .debitNote,
                        "\(isInvoice ? "invoice" : "debit note") for \(amount) GLM on \(agreementLabel[agreement] ?? "agreement")", id,
                        details: ["amount": .string(amount)])
                }
            }
        case "payment.acceptDebitNote", "payment.acceptInvoice":
            let id = ids.first ?? ""
            let amount = e.request?["totalAmountAccepted"].map(Normalize.amount) ?? "?"
            let isInvoice = name == "payment.acceptInvoice"
            event(documentProvider[id], isInvoice ? .invoiceAccepted : .debitNoteAccepted,
                "\(isInvoice ? "invoice" : "debit note") accepted: \(amount) GLM", id, details: ["amount": .string(amount)])
        case "payment.rejectInvoice":
            let id = ids.first ?? ""
            event(documentProvider[id], .invoiceRejected, "invoice rejected: \(e.request?["rejectionReason"]?.stringValue ?? "")", id, failure: true)
        default: break
        }
    }

    mutating func marketEvent(_ item: JSONValue, _ e: ProtocolExchange) {
        let type = item["eventType"]?.stringValue ?? ""
        if type == "ProposalEvent", let p = item["proposal"], let id = p["proposalId"]?.stringValue, let issuer = p["issuerId"]?.stringValue {
            proposalProvider[id] = issuer
            let prev = p["prevProposalId"]?.stringValue
            if providers[issuer] == nil {
                providers[issuer] = Provider(
                    id: issuer, name: p["properties"].flatMap { Normalize.property($0, "golem.node.id.name")?.stringValue } ?? String(issuer.prefix(10)),
                    offer: p, firstSeen: e.end)
                providerOrder.append(issuer)
            }
            guard keepsTimeline else { return }
            if let prev, counterIds.contains(prev) {
                events.append(TimelineEvent(lane: issuer, kind: .draft, offset: e.end, end: e.end, sequence: e.sequence, summary: "provider answered with a Draft proposal", resource: "proposal", details: [:], failure: false))
            } else {
                events.append(TimelineEvent(lane: issuer, kind: .offer, offset: e.end, end: e.end, sequence: e.sequence, summary: "offer received (\(Normalize.pricing(p)))", resource: "proposal", details: [:], failure: false))
            }
        } else if keepsTimeline, type == "ProposalRejectedEvent", let id = item["proposalId"]?.stringValue {
            let reason = item["reason"]?["message"]?.stringValue ?? ""
            events.append(TimelineEvent(lane: proposalProvider[id] ?? "unknown", kind: .proposalRejected, offset: e.end, end: e.end, sequence: e.sequence, summary: "provider rejected the proposal: \(reason)", resource: "proposal", details: ["reason": .string(reason)], failure: true))
        }
    }

    mutating func agreementEvent(_ item: JSONValue, _ e: ProtocolExchange) {
        guard keepsTimeline, let id = item["agreementId"]?.stringValue, let provider = agreementProvider[id] else { return }
        let type = item["eventType"]?.stringValue ?? ""
        let reason = item["reason"]?["message"]?.stringValue ?? ""
        let lbl = agreementLabel[id] ?? "agreement"
        switch type {
        case "AgreementTerminatedEvent" where item["terminator"]?.stringValue == "Provider":
            events.append(TimelineEvent(lane: provider, kind: .agreementTerminated, offset: e.end, end: e.end, sequence: e.sequence, summary: "\(lbl) terminated by the provider: \(reason)", resource: lbl, details: ["terminator": "Provider", "reason": .string(reason)], failure: true))
        case "AgreementRejectedEvent":
            events.append(TimelineEvent(lane: provider, kind: .agreementRejected, offset: e.end, end: e.end, sequence: e.sequence, summary: "\(lbl) rejected by the provider: \(reason)", resource: lbl, details: ["reason": .string(reason)], failure: true))
        default: break
        }
    }

    mutating func batchResult(_ batch: inout Batch, _ r: JSONValue, at: Int64, sequence: Int) {
        // A recording is input: an index no command could have is ignored, not trusted.
        guard let index = r["index"]?.intValue, index >= 0, batch.results[index] == nil else { return }
        batch.results[index] = r
        let ok = r["result"]?.stringValue == "Ok"
        let command = index < batch.commands.count ? Normalize.commandLine(batch.commands[index]) : "command \(index)"
        var details: [String: JSONValue] = ["index": .int(index), "command": .string(command), "result": r["result"] ?? .null]
        for key in ["stdout", "stderr", "message"] { if let v = r[key], !v.isNull { details[key] = .string(Normalize.output(v)) } }
        let lane = events[batch.eventIndex].lane
        var text = "\(batch.label) #\(index) \(command): \(ok ? "ok" : "failed")"
        if let out = details["stdout"]?.stringValue, !out.isEmpty { text += " — \(Normalize.short(out))" }
        if !ok, let err = details["stderr"]?.stringValue ?? details["message"]?.stringValue { text += " — \(Normalize.short(err))" }
        events.append(TimelineEvent(lane: lane, kind: .commandResult, offset: at, end: at, sequence: sequence, summary: text, resource: batch.label, details: .object(details), failure: !ok))
        if !ok { events[batch.eventIndex].failure = true }
        events[batch.eventIndex].end = max(events[batch.eventIndex].end, at)
        if r["isBatchFinished"]?.boolValue == true { batch.finished = true }
    }

    mutating func batchFrame(_ batch: inout Batch, _ v: JSONValue, at: Int64, sequence: Int) {
        guard let index = v["index"]?.intValue, let kind = v["kind"] else { return }
        if let finished = kind["finished"] {
            let code = finished["return_code"]?.intValue ?? finished["returnCode"]?.intValue ?? 0
            let r: JSONValue = ["index": .int(index), "result": .string(code == 0 ? "Ok" : "Error"), "stderr": finished["message"] ?? .null, "isBatchFinished": .bool(index == batch.commands.count - 1 || code != 0)]
            batchResult(&batch, r, at: at, sequence: sequence)
        }
    }
}
