import Foundation
import GolemTime
import YagnaAPI

extension NodeCore {
    static let platform = "erc20-holesky-tglm"

    mutating func payment(_ request: NodeRequest, _ p: [String], now: Date) -> YagnaResponse {
        switch (request.method, p.count, p.first) {
        case (.GET, 1, "requestorAccounts"):
            return NodeCore.encode(200, [Account(platform: NodeCore.platform, address: requestorId, driver: "erc20", network: "holesky", token: "tGLM", send: true, receive: false)])
        case (.POST, 1, "allocations"): return createAllocation(request, now: now)
        case (.GET, 1, "allocations"):
            return NodeCore.encode(200, allocationOrder.compactMap { allocations[$0] }.filter { !$0.released }.map(\.allocation))
        case (.GET, 2, "allocations"):
            guard let a = allocations[p[1]], !a.released else { return .json(404, ["message": .null]) }
            return NodeCore.encode(200, a.allocation)
        case (.PUT, 2, "allocations"):
            guard var a = allocations[p[1]] else { return .json(404, ["message": .null]) }
            guard !a.released else { return NodeCore.message(410, "Allocation [\(p[1])] was released") }
            let update: AllocationUpdate
            switch body(AllocationUpdate.self, request) {
            case .failure(let e): return e.response
            case .success(let u): update = u
            }
            if let total = update.totalAmount, case .refused(let status, let message) = a.budget.amend(total: total) {
                return NodeCore.message(status, message)
            }
            if let timeout = update.timeout { a.allocation.timeout = timeout }
            a.allocation.updatedTs = WireTimestamp(now)
            allocations[p[1]] = a
            return NodeCore.encode(200, a.allocation)
        case (.DELETE, 2, "allocations"):
            guard var a = allocations[p[1]] else { return .json(404, ["message": .null]) }
            if case .refused(let status, let message) = a.budget.release() { return NodeCore.message(status, "Allocation [\(p[1])] \(message)") }
            allocations[p[1]] = a
            return NodeCore.okNull
        case (.GET, 1, "demandDecorations"):
            let ids = (request.query("allocationIds") ?? "").split(separator: ",").map(String.init)
            for id in ids where allocations[id] == nil || allocations[id]!.released {
                return NodeCore.message(404, "Allocation [\(id)] not found")
            }
            return NodeCore.encode(200, DemandDecoration(
                properties: [.init(key: "golem.com.payment.platform.\(NodeCore.platform).address", value: requestorId), .init(key: "golem.com.payment.protocol.version", value: "3")],
                constraints: ["(golem.com.payment.platform.\(NodeCore.platform).address=*)"]))
        case (.GET, 1, "debitNotes"):
            return NodeCore.encode(200, debitNotes.values.map(\.note).sorted { ($0.timestamp, $0.debitNoteId) < ($1.timestamp, $1.debitNoteId) })
        case (.GET, 2, "debitNotes"):
            guard let d = debitNotes[p[1]] else { return NodeCore.message(404, "Debit note [\(p[1])] not found") }
            return NodeCore.encode(200, d.note)
        case (.POST, 3, "debitNotes") where p[2] == "accept": return acceptDebitNote(request, p[1], now: now)
        case (.POST, 3, "debitNotes") where p[2] == "reject":
            return NodeCore.message(501, "Rejecting debit notes is not implemented")
        case (.GET, 1, "invoices"):
            return NodeCore.encode(200, invoices.values.map(\.invoice).sorted { ($0.timestamp, $0.invoiceId) < ($1.timestamp, $1.invoiceId) })
        case (.GET, 2, "invoices"):
            guard let i = invoices[p[1]] else { return NodeCore.message(404, "Invoice [\(p[1])] not found") }
            return NodeCore.encode(200, i.invoice)
        case (.POST, 3, "invoices") where p[2] == "accept": return acceptInvoice(request, p[1], now: now)
        case (.POST, 3, "invoices") where p[2] == "reject": return rejectInvoice(request, p[1], now: now)
        default:
            return NodeCore.message(404, "no such payment endpoint: \(request.method.rawValue) \(request.path)")
        }
    }

    func paymentEventsOutcome(_ request: NodeRequest, invoices: Bool, now: Date) -> NodeOutcome {
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
        let max: Int?
        switch integer(request, "maxEvents") {
        case .failure(let e): return .respond(e.response)
        case .success(let m): max = m
        }
        return .wait(.paymentEvents(invoices: invoices, after: after, maxEvents: max), until: now.addingTimeInterval(timeout))
    }

    mutating func createAllocation(_ request: NodeRequest, now: Date) -> YagnaResponse {
        let new: NewAllocation
        switch body(NewAllocation.self, request) {
        case .failure(let e):
            return .init(status: 400, headers: [Header("Content-Type", "application/problem+json")],
                body: JSONWriter.bytes(["type": "about:blank", "title": "Bad Request", "detail": .string(YagnaError.daemonMessage(e.response) ?? "invalid allocation")]))
        case .success(let n): new = n
        }
        let platform = new.paymentPlatform?.platformName ?? NodeCore.platform
        guard platform == NodeCore.platform else {
            return .init(status: 400, headers: [Header("Content-Type", "application/problem+json")],
                body: JSONWriter.bytes(["type": "about:blank", "title": "Bad Request", "detail": .string("Unsupported payment platform \(platform); the simulator has \(NodeCore.platform)"), "paymentPlatform": .string(platform)]))
        }
        guard new.totalAmount > 0 else {
            return .init(status: 400, headers: [Header("Content-Type", "application/problem+json")],
                body: JSONWriter.bytes(["type": "about:blank", "title": "Bad Request", "detail": "totalAmount must be positive", "requestedFunds": .string(new.totalAmount.wireString)]))
        }
        let id = uuid()
        let allocation = Allocation(
            allocationId: id, address: new.address ?? requestorId, paymentPlatform: platform, totalAmount: new.totalAmount, spentAmount: 0,
            remainingAmount: new.totalAmount, timestamp: WireTimestamp(now), makeDeposit: new.makeDeposit ?? false, timeout: new.timeout)
        allocations[id] = AllocationRecord(allocation: allocation)
        allocationOrder.append(id)
        return NodeCore.encode(201, allocation)
    }

    mutating func issueDebitNote(_ activityId: String, at time: Date) {
        guard let a = activities[activityId], a.destroyed == nil, a.state != .terminated,
            let agreement = agreements[a.agreementId], agreement.agreement.state == .approved
        else { return }
        let id = uuid()
        let note = DebitNote(
            debitNoteId: id, issuerId: providers[a.provider].id, recipientId: requestorId, payeeAddr: providers[a.provider].id,
            payerAddr: requestorId, paymentPlatform: NodeCore.platform, previousDebitNoteId: a.lastDebitNote, timestamp: WireTimestamp(time),
            agreementId: a.agreementId, activityId: activityId, totalAmountDue: cost(a, at: time),
            usageCounterVector: .array(usageVector(a, at: time).map { .double($0) }), paymentDueDate: nil, status: .received)
        debitNotes[id] = DebitNoteRecord(note: note)
        activities[activityId]?.lastDebitNote = id
        debitNoteEvents.append(PaymentEvent(eventType: "DebitNoteReceivedEvent", eventDate: WireTimestamp(time), debitNoteId: id))
        if let interval = debitNoteInterval(a.provider) { schedule(.debitNote(activityId: activityId), at: time.adding(interval)) }
    }

    mutating func scheduleInvoice(_ agreementId: String, at time: Date) {
        guard let a = agreements[agreementId] else { return }
        let provider = a.provider
        var delay = providers[provider].spec.invoiceDelay
        for fault in faults(provider) {
            switch fault {
            case .withholdInvoice(let trigger): if strikes(trigger, provider: provider) { return }
            case .delayInvoice(let d, let trigger): if strikes(trigger, provider: provider) { delay = d }
            default: break
            }
        }
        schedule(.invoice(agreementId: agreementId), at: time.adding(delay))
    }

    mutating func issueInvoice(_ agreementId: String, at time: Date) {
        guard var a = agreements[agreementId], a.invoiceId == nil else { return }
        let end = a.endedAt ?? time
        let total = a.activities.compactMap { activities[$0] }.reduce(Decimal(0)) { $0 + cost($1, at: end) }
        let id = uuid()
        let invoice = Invoice(
            invoiceId: id, issuerId: providers[a.provider].id, recipientId: requestorId, payeeAddr: providers[a.provider].id,
            payerAddr: requestorId, paymentPlatform: NodeCore.platform, timestamp: WireTimestamp(time), agreementId: agreementId,
            activityIds: a.activities, amount: total, paymentDueDate: WireTimestamp(time.addingTimeInterval(86400)), status: .received)
        invoices[id] = InvoiceRecord(invoice: invoice)
        a.invoiceId = id
        agreements[agreementId] = a
        invoiceEvents.append(PaymentEvent(eventType: "InvoiceReceivedEvent", eventDate: WireTimestamp(time), invoiceId: id))
    }

    /// Checks an acceptance against the amount due and the allocation.
    func checkAcceptance(_ acceptance: Acceptance, due: Decimal, spend: Bool) -> YagnaResponse? {
        guard acceptance.totalAmountAccepted == due else {
            return NodeCore.message(400, "Invalid amount accepted: \(acceptance.totalAmountAccepted.wireString) (due: \(due.wireString))")
        }
        guard let allocation = allocations[acceptance.allocationId] else { return NodeCore.message(404, "Allocation [\(acceptance.allocationId)] not found") }
        if case .refused(let status, let message) = allocation.budget.canSpend(spend ? due : 0) {
            return NodeCore.message(status, "Allocation [\(acceptance.allocationId)]: \(message)")
        }
        return nil
    }

    mutating func acceptDebitNote(_ request: NodeRequest, _ id: String, now: Date) -> YagnaResponse {
        guard var d = debitNotes[id] else { return NodeCore.message(404, "Debit note [\(id)] not found") }
        switch DocumentStateMachine(status: d.note.status).transitionPreview(.accept) {
        case .unchanged: return NodeCore.okNull
        case .refused(let message): return NodeCore.message(400, "Debit note [\(id)] \(message)")
        case .moved: break
        }
        let acceptance: Acceptance
        switch body(Acceptance.self, request) {
        case .failure(let e): return e.response
        case .success(let a): acceptance = a
        }
        if let error = checkAcceptance(acceptance, due: d.note.totalAmountDue, spend: false) { return error }
        _ = d.on(.accept)
        debitNotes[id] = d
        return NodeCore.okNull
    }

    mutating func acceptInvoice(_ request: NodeRequest, _ id: String, now: Date) -> YagnaResponse {
        guard var i = invoices[id] else { return NodeCore.message(404, "Invoice [\(id)] not found") }
        switch DocumentStateMachine(status: i.invoice.status).transitionPreview(.accept) {
        case .unchanged: return NodeCore.okNull
        case .refused(let message): return NodeCore.message(400, "Invoice [\(id)] \(message)")
        case .moved: break
        }
        let acceptance: Acceptance
        switch body(Acceptance.self, request) {
        case .failure(let e): return e.response
        case .success(let a): acceptance = a
        }
        if let error = checkAcceptance(acceptance, due: i.invoice.amount, spend: true) { return error }
        _ = i.on(.accept)
        invoices[id] = i
        var allocation = allocations[acceptance.allocationId]!
        _ = allocation.budget.spend(i.invoice.amount)
        allocation.allocation.updatedTs = WireTimestamp(now)
        allocations[acceptance.allocationId] = allocation
        return NodeCore.okNull
    }

    mutating func rejectInvoice(_ request: NodeRequest, _ id: String, now: Date) -> YagnaResponse {
        guard var i = invoices[id] else { return NodeCore.message(404, "Invoice [\(id)] not found") }
        if case .refused(let message) = DocumentStateMachine(status: i.invoice.status).transitionPreview(.reject) {
            return NodeCore.message(400, "Invoice [\(id)] \(message)")
        }
        switch body(Rejection.self, request) {
        case .failure(let e): return e.response
        case .success: break
        }
        _ = i.on(.reject)
        invoices[id] = i
        return NodeCore.okNull
    }

    func collectPaymentEvents(invoices: Bool, after: WireTimestamp?, maxEvents: Int?, final: Bool) -> YagnaResponse? {
        let source = invoices ? invoiceEvents : debitNoteEvents
        var list = source.filter { after == nil || ($0.eventDate.epochNanoseconds ?? 0) > (after!.epochNanoseconds ?? 0) }
        if let maxEvents { list = Array(list.prefix(maxEvents)) }
        if list.isEmpty && !final { return nil }
        return NodeCore.encode(200, list)
    }
}
