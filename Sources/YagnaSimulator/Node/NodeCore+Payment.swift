import Foundation
import GolemTime
import YagnaAPI

/// How a payment query parameter is read: as serde_urlencoded reads yagna's params structs
/// (`timeout: f64`, `afterTimestamp: DateTime<Utc>`, `maxEvents`/`maxItems: u32`, strings).
enum PaymentQueryField {
    case seconds, timestamp, count, text
}

/// A payment endpoint's query parameters, once read.
struct PaymentQuery {
    var timeout: Double?
    var after: WireTimestamp?
    /// `maxEvents` or `maxItems`.
    var count: Int?
    var texts: [String: String] = [:]
}

/// What a requested payment platform resolves to, as yagna 0.17.6 parses it.
enum PaymentPlatformChoice {
    case platform(String)
    case unparsable(String)
}

/// The requestor side of yagna 0.17.6's payment API (`/payment-api/v1`), answered as the daemon
/// answers: malformed bodies and query values as `text/plain` serde errors, unknown documents
/// and allocations as 404 `{"message": null}`, refusals as `{"message": …}`, allocation
/// creation problems as `application/problem+json`.
extension NodeCore {
    static let platform = "erc20-holesky-tglm"

    mutating func payment(_ request: NodeRequest, _ p: [String], now: Date) -> YagnaResponse {
        releaseExpiredAllocations(now: now)
        switch (request.method, p.count, p.first) {
        case (.GET, 1, "requestorAccounts"): return requestorAccounts()
        case (.GET, 1, "providerAccounts"): return .json(200, [])
        case (.POST, 1, "allocations"): return createAllocation(request, now: now)
        case (.GET, 1, "allocations"): return listAllocations(request)
        case (.GET, 3, "allocations") where p[2] == "expenditures": return expenditures(p[1])
        // Orders are what the payment driver is asked to pay: a simulated node pays nothing.
        case (.GET, 3, "allocations") where p[2] == "orders": return .json(200, [])
        case (.GET, 2, "allocations"):
            guard let a = allocations[p[1]], !a.released else { return NodeCore.paymentNotFound }
            return NodeCore.encode(200, a.allocation)
        case (.PUT, 2, "allocations"): return amendAllocation(request, p[1], now: now)
        case (.DELETE, 2, "allocations"): return releaseAllocation(p[1])
        case (.GET, 1, "demandDecorations"): return demandDecorations(request)
        case (.GET, 1, "payments"): return payments(request)
        case (.GET, 2, "payments") where p[1] == "status": return paymentDriverStatus(request)
        case (.GET, 2, "payments"): return NodeCore.paymentNotFound
        case (.GET, 1, "debitNotes"): return listDebitNotes(request)
        case (.GET, 2, "debitNotes"):
            guard let d = debitNotes[p[1]] else { return NodeCore.paymentNotFound }
            return NodeCore.encode(200, d.note)
        case (.GET, 3, "debitNotes") where p[2] == "payments": return NodeCore.documentRefusal(501, nil)
        case (.POST, 3, "debitNotes") where p[2] == "accept": return acceptDebitNote(request, p[1])
        case (.POST, 3, "debitNotes") where p[2] == "reject": return rejectDebitNote(request)
        case (.GET, 1, "invoices"): return listInvoices(request)
        case (.GET, 2, "invoices"):
            guard let i = invoices[p[1]] else { return NodeCore.paymentNotFound }
            return NodeCore.encode(200, i.invoice)
        case (.GET, 3, "invoices") where p[2] == "payments":
            // The simulated node makes no payments: an invoice's list is empty.
            return invoices[p[1]] == nil ? NodeCore.paymentNotFound : .json(200, [])
        case (.POST, 3, "invoices") where p[2] == "accept": return acceptInvoice(request, p[1])
        case (.POST, 3, "invoices") where p[2] == "reject": return rejectInvoice(request, p[1])
        default:
            return NodeCore.message(404, "no such payment endpoint: \(request.method.rawValue) \(request.path)")
        }
    }

    // MARK: - Answers

    /// The payment API's 404 for an unknown allocation, debit note, invoice or payment.
    static let paymentNotFound = YagnaResponse.json(404, ["message": .null])

    /// A refusal as the daemon's `ErrorMessage`; `nil` is `{"message": null}`.
    static func documentRefusal(_ status: Int, _ message: String?) -> YagnaResponse {
        .json(status, ["message": message.map { JSONValue.string($0) } ?? .null])
    }

    /// An `application/problem+json` answer (allocation creation).
    static func problem(_ status: Int, _ fields: [String: JSONValue]) -> YagnaResponse {
        YagnaResponse(status: status, headers: [Header("Content-Type", "application/problem+json")], body: JSONWriter.bytes(.object(fields)))
    }

    // MARK: - Accounts and allocations

    /// The node's send accounts: its account on the platform exists once an allocation for its
    /// own address was made there (the daemon initialises it when creating the allocation).
    func requestorAccounts() -> YagnaResponse {
        let registered = scenario.requestor.paymentInitialised || allocations.values.contains {
            $0.allocation.paymentPlatform == NodeCore.platform && ($0.allocation.address ?? requestorId) == requestorId
        }
        guard registered else { return .json(200, []) }
        return NodeCore.encode(200, [Account(platform: NodeCore.platform, address: requestorId, driver: "erc20", network: "holesky", token: "tGLM", send: true, receive: false)])
    }

    /// Allocations whose timeout passed are released, as the daemon's release task does.
    mutating func releaseExpiredAllocations(now: Date) {
        let nowNanos = NodeCore.nanoseconds(now)
        for id in allocationOrder {
            guard var a = allocations[id], !a.released, let timeout = a.allocation.timeout?.epochNanoseconds, clientDeadline(nanoseconds: timeout) <= nowNanos else { continue }
            a.released = true
            allocations[id] = a
        }
    }

    func listAllocations(_ request: NodeRequest) -> YagnaResponse {
        let query: PaymentQuery
        switch paymentQuery(request, NodeCore.filterFields) {
        case .failure(let e): return e.response
        case .success(let q): query = q
        }
        var list = allocationOrder.compactMap { allocations[$0] }.filter { !$0.released }.map(\.allocation)
        // The daemon filters allocations on their timeout, not their creation.
        if let after = query.after?.epochNanoseconds {
            list = list.filter { allocation in (allocation.timeout?.epochNanoseconds).map { timeout in timeout > after } ?? false }
        }
        if let max = query.count { list = Array(list.prefix(max)) }
        return NodeCore.encode(200, list)
    }

    mutating func createAllocation(_ request: NodeRequest, now: Date) -> YagnaResponse {
        let new: NewAllocation
        switch body(NewAllocation.self, request, style: .text) {
        case .failure(let e): return e.response
        case .success(let n): new = n
        }
        var platform = NodeCore.platform
        if let requested = new.paymentPlatform {
            switch NodeCore.choosePlatform(requested) {
            case .unparsable(let error):
                return NodeCore.problem(400, [
                    "type": "/payment-api/v1/allocations/bad-payment-platform",
                    "detail": "Payment platform doesn't parse",
                    "parseError": .string(error),
                    "requestBody": NodeCore.allocationRequestBody(new),
                    "requestedPaymentPlatform": NodeCore.platformJSON(requested),
                ])
            case .platform(let p): platform = p
            }
        }
        let address = new.address ?? requestorId
        if let timeout = new.timeout, let t = timeout.epochNanoseconds, clientDeadline(nanoseconds: t) < NodeCore.nanoseconds(now) {
            return NodeCore.problem(400, [
                "type": "/payment-api/v1/allocations/validation-error",
                "instance": "/payment-api/v1/allocations/validation-error/timeout-passed",
                "detail": "Requested allocation timeout is in the past",
                "requestedTimeout": .string(NodeCore.chronoText(timeout, zulu: false)),
                "requestBody": NodeCore.allocationRequestBody(new),
                "paymentPlatform": .string(platform),
                "address": .string(address),
            ])
        }
        // The simulated node holds unlimited test tokens on its own platform, and none elsewhere.
        guard platform == NodeCore.platform else {
            return NodeCore.problem(400, [
                "type": "/payment-api/v1/allocations/validation-error",
                "instance": "/payment-api/v1/allocations/validation-error/insufficient-account-funds",
                "detail": "Insufficient funds to create the allocation. Top up your account or release all existing allocations to unlock the funds via `yagna payment release-allocations`",
                "requestedFunds": .string(new.totalAmount.wireString),
                "availableFunds": "0",
                "reservedFunds": "0",
                "requestBody": NodeCore.allocationRequestBody(new),
                "paymentPlatform": .string(platform),
                "address": .string(address),
            ])
        }
        let id = uuid()
        var allocation = Allocation(
            allocationId: id, address: address, paymentPlatform: platform, totalAmount: new.totalAmount, spentAmount: 0,
            remainingAmount: new.totalAmount, timestamp: WireTimestamp(now, fractionDigits: 9), makeDeposit: new.makeDeposit ?? false, timeout: new.timeout)
        if let deposit = new.deposit, !deposit.isNull { allocation.deposit = deposit }
        allocation.extendTimeout = new.extendTimeout
        allocations[id] = AllocationRecord(allocation: allocation)
        allocationOrder.append(id)
        return NodeCore.encode(201, allocation)
    }

    /// `PUT /allocations/{id}`: a new total or timeout. The daemon keeps `timestamp` and
    /// `updatedTs` as they were.
    mutating func amendAllocation(_ request: NodeRequest, _ id: String, now: Date) -> YagnaResponse {
        let update: AllocationUpdate
        switch body(AllocationUpdate.self, request, style: .text) {
        case .failure(let e): return e.response
        case .success(let u): update = u
        }
        guard var a = allocations[id], !a.released else { return NodeCore.paymentNotFound }
        var budget = a.budget
        switch budget.amend(total: update.totalAmount ?? a.allocation.totalAmount) {
        case .released: return NodeCore.paymentNotFound
        case .refused(let status, let message): return NodeCore.message(status, message)
        case .done: break
        }
        if let timeout = update.timeout, let t = timeout.epochNanoseconds, clientDeadline(nanoseconds: t) < NodeCore.nanoseconds(now) {
            return NodeCore.message(400, "New allocation timeout is in the past")
        }
        if let deposit = update.unknownFields["deposit"], !deposit.isNull, a.allocation.deposit == nil {
            return NodeCore.message(400, "Cannot update deposit of an allocation created without one")
        }
        a.budget = budget
        if let timeout = update.timeout { a.allocation.timeout = timeout }
        allocations[id] = a
        return NodeCore.encode(200, a.allocation)
    }

    mutating func releaseAllocation(_ id: String) -> YagnaResponse {
        guard var a = allocations[id] else { return NodeCore.paymentNotFound }
        var budget = a.budget
        switch budget.release() {
        case .released: return NodeCore.message(410, "Allocation \(id) has been already released")
        case .refused(let status, let message): return NodeCore.message(status, message)
        case .done: break
        }
        a.budget = budget
        allocations[id] = a
        return NodeCore.okNull
    }

    /// `GET /demandDecorations?allocationIds=a,b`: every id must name an allocation that is not
    /// released (else 404). One address property per allocation and the protocol version;
    /// constraints: the allocations' platforms (one, or an `|` clause as the daemon lays it
    /// out) and the lowest protocol version the provider must speak.
    func demandDecorations(_ request: NodeRequest) -> YagnaResponse {
        let query: PaymentQuery
        switch paymentQuery(request, [("allocationIds", .text)]) {
        case .failure(let e): return e.response
        case .success(let q): query = q
        }
        guard let list = query.texts["allocationIds"] else { return NodeCore.queryError("missing field `allocationIds`") }
        let ids = list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let wanted = Set(ids)
        let found = allocationOrder.compactMap { allocations[$0] }.filter { !$0.released && wanted.contains($0.allocation.allocationId) }
        guard found.count == ids.count else { return NodeCore.paymentNotFound }
        var properties = found.map {
            DemandDecoration.Property(
                key: "golem.com.payment.platform.\($0.allocation.paymentPlatform ?? NodeCore.platform).address",
                value: $0.allocation.address ?? requestorId)
        }
        let clauses = properties.map { "(\($0.key)=*)" }
        let platformClause = clauses.count == 1 ? clauses[0] : "(|\n" + clauses.map { "  \($0)\n" }.joined() + ")"
        properties.append(.init(key: "golem.com.payment.protocol.version", value: "3"))
        let withDeposit = found.contains { record in record.allocation.deposit.map { !$0.isNull } ?? false }
        let protocolClause = "(golem.com.payment.protocol.version>\(withDeposit ? 2 : 1))"
        return NodeCore.encode(200, DemandDecoration(properties: properties, constraints: [platformClause, protocolClause]))
    }

    /// `GET /payments`: the node's payments (a long poll on the daemon). The simulated node
    /// makes none, so the list is empty once the query reads.
    func payments(_ request: NodeRequest) -> YagnaResponse {
        let fields = NodeCore.eventFields + [("network", .text), ("driver", .text)]
        let query: PaymentQuery
        switch paymentQuery(request, fields) {
        case .failure(let e): return e.response
        case .success(let q): query = q
        }
        // Network and driver names are parsed by strum; a miss is a 500.
        if let network = query.texts["network"], NodeCore.networkTokens[network] == nil {
            return NodeCore.message(500, "Matching variant not found")
        }
        if let driver = query.texts["driver"], driver != "erc20" {
            return NodeCore.message(500, "Matching variant not found")
        }
        return .json(200, [])
    }

    /// `GET /payments/status`: the drivers' status properties; none while all is well.
    func paymentDriverStatus(_ request: NodeRequest) -> YagnaResponse {
        if let driver = request.query("driver"), driver != "erc20" {
            return NodeCore.message(404, "Requested driver not registered \(driver)")
        }
        if let network = request.query("network"), NodeCore.networkTokens[network] == nil || network == "rinkeby" {
            return NodeCore.message(404, "Requested network not supported \(network)")
        }
        return .json(200, [])
    }

    // MARK: - Payment platforms

    /// The networks yagna 0.17.6 knows, with each one's token as a platform name spells it.
    static let networkTokens: [String: String] = [
        "mainnet": "glm", "sepolia": "tglm", "rinkeby": "tglm", "goerli": "tglm", "holesky": "tglm",
        "hoodi": "tglm", "polygon": "glm", "mumbai": "tglm", "amoy": "tglm",
    ]

    /// A requested platform as the daemon resolves it: a `driver-network-token` name, or an
    /// object whose missing parts take defaults (erc20, holesky, or polygon for `glm`).
    static func choosePlatform(_ requested: PaymentPlatform) -> PaymentPlatformChoice {
        switch requested {
        case .name(let name):
            let parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else {
                return .unparsable("paymentPlatform must be of the form driver-network-token instead of \(name)")
            }
            return platformTriple(driver: parts[0], network: parts[1], token: parts[2], stage: 2)
        case .parts(nil, nil, nil):
            return .platform(NodeCore.platform)
        case .parts(nil, nil, let token?):
            switch token {
            case "GLM", "tGLM": return .unparsable("Uppercase token names are not supported. Use lowercase glm or tglm instead of \(token)")
            case "glm": return .platform("erc20-polygon-glm")
            case "tglm": return .platform(NodeCore.platform)
            default: return .unparsable("Only glm or tglm token values are accepted vs \(token) provided")
            }
        case .parts(let driver, let network, let token):
            let net = network ?? (token == "glm" ? "polygon" : "holesky")
            return platformTriple(driver: driver ?? "erc20", network: net, token: token, stage: 1)
        }
    }

    /// Checks network, driver and token in the daemon's order; `stage` is the number its
    /// messages carry (1 for an object, 2 for a name).
    static func platformTriple(driver: String, network: String, token: String?, stage: Int) -> PaymentPlatformChoice {
        if network == "rinkeby" { return .unparsable("Validate network failed (\(stage)): Rinkeby is no longer supported") }
        guard let expected = networkTokens[network] else {
            return .unparsable("Validate network failed (\(stage)): Invalid network name: \(network)")
        }
        guard driver == "erc20" else { return .unparsable("Validate driver failed (\(stage)): Invalid driver name \(driver)") }
        if let token {
            if token == "GLM" || token == "tGLM" {
                return .unparsable("Validate token failed (\(stage)): Uppercase token names are not supported. Use lowercase glm or tglm instead of \(token)")
            }
            if token != expected {
                return .unparsable(
                    "Validate token failed (\(stage)): Token \(token) does not match expected token \(expected) for driver \(driver) and network \(network). "
                        + "Note that for test networks expected token name is tglm and for production networks it is glm")
            }
        }
        return .platform("\(driver)-\(network)-\(expected)")
    }

    /// The platform as the daemon echoes the request: a name, or an object with all three keys.
    static func platformJSON(_ platform: PaymentPlatform) -> JSONValue {
        switch platform {
        case .name(let name): return .string(name)
        case .parts(let driver, let network, let token):
            return .object([
                "driver": driver.map { JSONValue.string($0) } ?? .null,
                "network": network.map { JSONValue.string($0) } ?? .null,
                "token": token.map { JSONValue.string($0) } ?? .null,
            ])
        }
    }

    /// The `NewAllocation` as the daemon serialises it back in a problem's `requestBody`.
    static func allocationRequestBody(_ new: NewAllocation) -> JSONValue {
        let extendTimeout: JSONValue = new.extendTimeout.map { JSONValue.int($0) } ?? .null
        let timeout: JSONValue = new.timeout.map { JSONValue.string(chronoText($0, zulu: true)) } ?? .null
        return .object([
            "address": new.address.map { JSONValue.string($0) } ?? .null,
            "deposit": new.deposit ?? .null,
            "extendTimeout": extendTimeout,
            "makeDeposit": .bool(new.makeDeposit ?? false),
            "paymentPlatform": new.paymentPlatform.map { platformJSON($0) } ?? .null,
            "timeout": timeout,
            "totalAmount": .string(new.totalAmount.wireString),
        ])
    }

    /// A UTC time as chrono writes it: 0, 3, 6 or 9 fractional digits, whichever suffices,
    /// and `Z` (serde) or `+00:00` (`to_rfc3339`).
    static func chronoText(_ t: WireTimestamp, zulu: Bool) -> String {
        guard let nanos = t.epochNanoseconds else { return t.text }
        let fraction = ((nanos % 1_000_000_000) + 1_000_000_000) % 1_000_000_000
        let digits = fraction == 0 ? 0 : fraction % 1_000_000 == 0 ? 3 : fraction % 1000 == 0 ? 6 : 9
        let text = WireTimestamp(epochNanoseconds: nanos, fractionDigits: digits, zulu: zulu).text
        return zulu ? text : text + "+00:00"
    }

    /// A date in nanoseconds since 1970, held to what 64 bits hold (a `timeout` of 9999 is the latest instant).
    static func nanoseconds(_ date: Date) -> Int64 {
        let ns = (date.timeIntervalSince1970 * 1e9).rounded()
        if ns >= 9.2e18 { return .max }
        if ns <= -9.2e18 { return .min }
        return Int64(ns)
    }

    // MARK: - Debit notes and invoices

    /// Whether the provider can bill the agreement: the daemon refuses a provider's debit notes
    /// and invoices ("Missing golem.com.payment.chosen-platform") unless the requestor's side of
    /// the agreement names the payment platform, as yapapi and golem-core's negotiators do.
    func billable(_ agreement: AgreementRecord) -> Bool {
        agreement.agreement.demand.properties["golem.com.payment.chosen-platform"] != nil
    }

    mutating func issueDebitNote(_ activityId: String, at time: Date) {
        guard let a = activities[activityId], a.destroyed == nil, a.state != .terminated,
            let agreement = agreements[a.agreementId], agreement.agreement.state == .approved, billable(agreement)
        else { return }
        let id = uuid()
        // A note names the activity's previous note (none for the first). On a single daemon that
        // also holds the provider's identity, yagna links a note to the provider's copy of itself
        // instead: a one-node artefact the fidelity walk tolerates, not something to imitate.
        let previous = activities[activityId]?.lastDebitNote
        // With mid-agreement payments, a note is payable (has a due date) once per payment
        // timeout since the activity began or the last payable note; the others only report.
        var payable: Duration?
        if let timeout = paymentTimeout(agreement), time.timeIntervalSince(a.lastPayableNote ?? a.created) >= timeout.timeInterval {
            payable = timeout
            activities[activityId]?.lastPayableNote = time
        }
        let note = DebitNote(
            debitNoteId: id, issuerId: providers[a.provider].id, recipientId: requestorId, payeeAddr: providers[a.provider].id,
            payerAddr: requestorId, paymentPlatform: NodeCore.platform, previousDebitNoteId: previous, timestamp: WireTimestamp(time, fractionDigits: 3),
            agreementId: a.agreementId, activityId: activityId, totalAmountDue: cost(a, at: time),
            usageCounterVector: .array(usageVector(a, at: time).map { .double($0) }),
            paymentDueDate: payable.map { WireTimestamp(time.adding($0), fractionDigits: 3) }, status: .received)
        store(debitNote: DebitNoteRecord(note: note))
        activities[activityId]?.lastDebitNote = id
        NodeCore.addEvent(PaymentEvent(eventType: "DebitNoteReceivedEvent", eventDate: WireTimestamp(time, fractionDigits: 6), debitNoteId: id), to: &debitNoteEvents, \.eventDate)
        if let interval = debitNoteInterval(agreement) { schedule(.debitNote(activityId: activityId), at: time.adding(interval)) }
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
        guard var a = agreements[agreementId], a.invoiceId == nil, billable(a) else { return }
        let end = a.endedAt ?? time
        let total = a.activities.compactMap { activities[$0] }.reduce(Decimal(0)) { $0 + cost($1, at: end) }
        let id = uuid()
        let invoice = Invoice(
            invoiceId: id, issuerId: providers[a.provider].id, recipientId: requestorId, payeeAddr: providers[a.provider].id,
            payerAddr: requestorId, paymentPlatform: NodeCore.platform, timestamp: WireTimestamp(time, fractionDigits: 3), agreementId: agreementId,
            activityIds: a.activities, amount: total, paymentDueDate: WireTimestamp(time.addingTimeInterval(86400), fractionDigits: 3), status: .received)
        invoices[id] = InvoiceRecord(invoice: invoice)
        a.invoiceId = id
        agreements[agreementId] = a
        NodeCore.addEvent(PaymentEvent(eventType: "InvoiceReceivedEvent", eventDate: WireTimestamp(time, fractionDigits: 6), invoiceId: id), to: &invoiceEvents, \.eventDate)
    }

    func listDebitNotes(_ request: NodeRequest) -> YagnaResponse {
        listDocuments(request, debitNotes.values.map(\.note), timestamp: \.timestamp, id: \.debitNoteId)
    }

    func listInvoices(_ request: NodeRequest) -> YagnaResponse {
        listDocuments(request, invoices.values.map(\.invoice), timestamp: \.timestamp, id: \.invoiceId)
    }

    /// A list of documents as the daemon pages it: newer than `afterTimestamp`, oldest first, at most `maxItems`.
    func listDocuments<D: Encodable & Sendable>(
        _ request: NodeRequest, _ documents: [D], timestamp: KeyPath<D, WireTimestamp>, id: KeyPath<D, String>
    ) -> YagnaResponse {
        let query: PaymentQuery
        switch paymentQuery(request, NodeCore.filterFields) {
        case .failure(let e): return e.response
        case .success(let q): query = q
        }
        var list = documents
        if let after = query.after?.epochNanoseconds { list = list.filter { ($0[keyPath: timestamp].epochNanoseconds ?? .min) > after } }
        list.sort { ($0[keyPath: timestamp], $0[keyPath: id]) < ($1[keyPath: timestamp], $1[keyPath: id]) }
        if let max = query.count { list = Array(list.prefix(max)) }
        return NodeCore.encode(200, list)
    }

    /// What the requestor has accepted so far for each activity of an agreement: the largest
    /// of its accepted debit notes (their amounts are cumulative), as yagna keeps it.
    func acceptedByActivity(agreementId: String) -> [String: Decimal] {
        acceptedDebitNoteAmounts[agreementId] ?? [:]
    }

    /// Pays what an acceptance adds from the allocation it names, or answers why not: an
    /// unknown or released allocation is "not found" (400 here), a short one "Not enough funds".
    mutating func payFromAllocation(_ amount: Decimal, _ allocationId: String, agreementId: String, activityId: String?) -> YagnaResponse? {
        guard var a = allocations[allocationId], !a.released else { return NodeCore.message(400, "Allocation \(allocationId) not found") }
        var budget = a.budget
        switch budget.spend(amount) {
        case .released: return NodeCore.message(400, "Allocation \(allocationId) not found")
        case .refused(let status, let message): return NodeCore.message(status, message)
        case .done: break
        }
        a.budget = budget
        if amount > 0 {
            if let i = a.expenditures.firstIndex(where: { $0.agreementId == agreementId && $0.activityId == activityId }) {
                a.expenditures[i].accepted += amount
            } else {
                a.expenditures.append(.init(agreementId: agreementId, activityId: activityId, accepted: amount))
            }
        }
        allocations[allocationId] = a
        return nil
    }

    /// `GET /allocations/{id}/expenditures`: a query by allocation, so an unknown id lists
    /// nothing; nothing is ever scheduled for payment on a simulated node.
    func expenditures(_ allocationId: String) -> YagnaResponse {
        let rows: [JSONValue] = (allocations[allocationId]?.expenditures ?? []).map { e in
            var row: [String: JSONValue] = [
                "allocationId": .string(allocationId), "agreementId": .string(e.agreementId),
                "acceptedAmount": .string(e.accepted.wireString), "scheduledAmount": "0",
            ]
            if let activity = e.activityId { row["activityId"] = .string(activity) }
            return .object(row)
        }
        return .json(200, .array(rows))
    }

    /// `POST /debitNotes/{id}/accept`, in the daemon's order: query and body, the note, the
    /// amount (exactly what is due), its status, the agreement's invoice (once decided, later
    /// notes are answered OK and left as they are), then the allocation pays what the note adds
    /// to the activity's accepted amount. A note of nothing is settled at once.
    mutating func acceptDebitNote(_ request: NodeRequest, _ id: String) -> YagnaResponse {
        let acceptance: Acceptance
        switch readAcceptance(request) {
        case .failure(let e): return e.response
        case .success(let a): acceptance = a
        }
        guard var record = debitNotes[id] else { return NodeCore.paymentNotFound }
        let note = record.note
        guard acceptance.totalAmountAccepted == note.totalAmountDue else { return NodeCore.message(400, "Invalid amount accepted") }
        switch DocumentStateMachine(status: note.status, kind: .debitNote).transitionPreview(.accept) {
        case .unchanged: return NodeCore.okNull
        case .refused(let status, let message): return NodeCore.documentRefusal(status, message)
        case .moved: break
        }
        if let invoiceId = agreements[note.agreementId]?.invoiceId, let invoice = invoices[invoiceId]?.invoice {
            switch invoice.status {
            case .received: break
            case .issued: return NodeCore.message(500, "Wrong status for invoice")
            case .accepted, .rejected, .failed, .settled, .cancelled: return NodeCore.okNull
            }
        }
        let accepted = acceptedByActivity(agreementId: note.agreementId)[note.activityId] ?? 0
        if let refusal = payFromAllocation(note.totalAmountDue - accepted, acceptance.allocationId, agreementId: note.agreementId, activityId: note.activityId) { return refusal }
        _ = record.on(.accept)
        if note.totalAmountDue.isZero { record.status = .settled }
        store(debitNote: record)
        return NodeCore.okNull
    }

    /// `POST /debitNotes/{id}/reject`: not implemented by the daemon, whatever the note, once
    /// the query and body read.
    func rejectDebitNote(_ request: NodeRequest) -> YagnaResponse {
        if case .failure(let e) = paymentQuery(request, NodeCore.ackFields) { return e.response }
        if case .failure(let e) = body(Rejection.self, request, style: .text) { return e.response }
        switch DocumentStateMachine(kind: .debitNote).transitionPreview(.reject) {
        case .refused(let status, let message): return NodeCore.documentRefusal(status, message)
        case .moved, .unchanged: return NodeCore.okNull
        }
    }

    /// An accept request as the daemon reads it: its query (`timeout`), then its body.
    func readAcceptance(_ request: NodeRequest) -> Result<Acceptance, BadRequest> {
        if case .failure(let e) = paymentQuery(request, NodeCore.ackFields) { return .failure(e) }
        return body(Acceptance.self, request, style: .text)
    }

    /// `POST /invoices/{id}/accept`: as for a debit note, the allocation paying what the
    /// invoice adds to the agreement's accepted debit notes (an invoice below them is refused).
    mutating func acceptInvoice(_ request: NodeRequest, _ id: String) -> YagnaResponse {
        let acceptance: Acceptance
        switch readAcceptance(request) {
        case .failure(let e): return e.response
        case .success(let a): acceptance = a
        }
        guard var record = invoices[id] else { return NodeCore.paymentNotFound }
        let invoice = record.invoice
        guard acceptance.totalAmountAccepted == invoice.amount else { return NodeCore.message(400, "Invalid amount accepted") }
        switch DocumentStateMachine(status: invoice.status, kind: .invoice).transitionPreview(.accept) {
        case .unchanged: return NodeCore.okNull
        case .refused(let status, let message): return NodeCore.documentRefusal(status, message)
        case .moved: break
        }
        let accepted = acceptedByActivity(agreementId: invoice.agreementId).values.reduce(Decimal(0), +)
        guard invoice.amount >= accepted else {
            return NodeCore.message(
                400,
                "Invoice is smaller than agreement.total_amount_accepted. invoice_id=\(id), invoice_amount=\(invoice.amount.wireString), total_amount_accepted=\(accepted.wireString)")
        }
        if let refusal = payFromAllocation(invoice.amount - accepted, acceptance.allocationId, agreementId: invoice.agreementId, activityId: nil) { return refusal }
        // (The daemon settles an invoice of nothing at once; here it stays Accepted, which the
        // scenario expectations read as paid.)
        _ = record.on(.accept)
        invoices[id] = record
        return NodeCore.okNull
    }

    mutating func rejectInvoice(_ request: NodeRequest, _ id: String) -> YagnaResponse {
        if case .failure(let e) = paymentQuery(request, NodeCore.ackFields) { return e.response }
        if case .failure(let e) = body(Rejection.self, request, style: .text) { return e.response }
        guard var record = invoices[id] else { return NodeCore.paymentNotFound }
        switch DocumentStateMachine(status: record.invoice.status, kind: .invoice).transitionPreview(.reject) {
        case .unchanged: return NodeCore.okNull
        case .refused(let status, let message): return NodeCore.documentRefusal(status, message)
        case .moved: break
        }
        _ = record.on(.reject)
        invoices[id] = record
        return NodeCore.okNull
    }

    // MARK: - Events

    func paymentEventsOutcome(_ request: NodeRequest, invoices: Bool, now: Date) -> NodeOutcome {
        let query: PaymentQuery
        switch paymentQuery(request, NodeCore.eventFields) {
        case .failure(let e): return .respond(e.response)
        case .success(let q): query = q
        }
        let timeout = query.timeout ?? 5
        guard timeout >= 0, timeout.isFinite else {
            // The daemon answers at once when events are there; otherwise turning the timeout
            // into a Duration panics and the connection drops.
            if let answer = collectPaymentEvents(invoices: invoices, after: query.after, maxEvents: query.count, final: false) { return .respond(answer) }
            return .drop
        }
        return .wait(.paymentEvents(invoices: invoices, after: query.after, maxEvents: query.count), until: now.addingTimeInterval(timeout))
    }

    func collectPaymentEvents(invoices: Bool, after: WireTimestamp?, maxEvents: Int?, final: Bool) -> YagnaResponse? {
        let source = invoices ? invoiceEvents : debitNoteEvents
        // Events are kept in the order they happened: when the newest is not after `after`,
        // none is (the common case of a parked poll looked at again after an unrelated change).
        if !final, source.last.map({ NodeCore.notAfter($0.eventDate, after) }) ?? true { return nil }
        var list = source.filter { after == nil || ($0.eventDate.epochNanoseconds ?? 0) > (after!.epochNanoseconds ?? 0) }
        if let maxEvents { list = Array(list.prefix(maxEvents)) }
        if list.isEmpty && !final { return nil }
        return NodeCore.encode(200, list)
    }

    // MARK: - Query parameters

    /// `params::Timeout` (accept and reject).
    static let ackFields: [(String, PaymentQueryField)] = [("timeout", .seconds)]
    /// `params::EventParams` (debit-note and invoice events).
    static let eventFields: [(String, PaymentQueryField)] = [("timeout", .seconds), ("afterTimestamp", .timestamp), ("maxEvents", .count), ("appSessionId", .text)]
    /// `params::FilterParams` (lists of allocations, debit notes, invoices).
    static let filterFields: [(String, PaymentQueryField)] = [("maxItems", .count), ("afterTimestamp", .timestamp)]

    /// Reads the query as serde_urlencoded does: pairs in the order they come, unknown names
    /// ignored, the first bad value (or a repeated name) answering `Query deserialize error`.
    /// `fields` is a short list (a handful of names): looked up in order, cheaper than hashing.
    func paymentQuery(_ request: NodeRequest, _ fields: [(String, PaymentQueryField)]) -> Result<PaymentQuery, BadRequest> {
        var query = PaymentQuery()
        // A handful of names at most: a list is cheaper than hashing each.
        var seen: [String] = []
        for item in request.query {
            guard let field = fields.first(where: { $0.0 == item.name })?.1 else { continue }
            guard !seen.contains(item.name) else {
                return .failure(BadRequest(response: NodeCore.queryError("duplicate field `\(item.name)`")))
            }
            seen.append(item.name)
            switch field {
            case .seconds:
                switch NodeCore.queryFloat(item.value) {
                case .failure(let e): return .failure(e)
                case .success(let v): query.timeout = v
                }
            case .timestamp:
                // Only what parses is kept: a refusal is made again each time.
                if let t = lastQueryTimestamp.value(item.value, { try? NodeCore.queryTimestamp($0).get() }) {
                    query.after = t
                } else if case .failure(let e) = NodeCore.queryTimestamp(item.value) {
                    return .failure(e)
                }
            case .count:
                switch NodeCore.queryCount(item.value) {
                case .failure(let e): return .failure(e)
                case .success(let n): query.count = n
                }
            case .text:
                query.texts[item.name] = item.value
            }
        }
        return .success(query)
    }

    /// The value of a few plain digits (`5`, `60`: the timeouts clients send), read without
    /// the general float parser; `nil` for any other text.
    static func plainDigits(_ text: String) -> Double? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Double(text.utf8.reduce(0) { $0 * 10 + Int($1 - 48) })
    }

    /// Rust's `f64::from_str`: an optional sign, then `inf`, `infinity`, `nan` or a decimal
    /// number with an optional exponent.
    static func queryFloat(_ text: String) -> Result<Double, BadRequest> {
        // The error is made only when needed (this runs for every poll's timeout).
        func invalid() -> Result<Double, BadRequest> { .failure(BadRequest(response: queryError("invalid float literal"))) }
        guard !text.isEmpty else { return .failure(BadRequest(response: queryError("cannot parse float from empty string"))) }
        if let whole = plainDigits(text) { return .success(whole) }
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        // Only a word starting with i or n can be one of these (no lowercased copy of every number).
        if let c = rest.utf8.first, c | 0x20 == UInt8(ascii: "i") || c | 0x20 == UInt8(ascii: "n") {
            switch rest.lowercased() {
            case "inf", "infinity": return .success(negative ? -Double.infinity : Double.infinity)
            case "nan": return .success(Double.nan)
            default: break
            }
        }
        // Digits, an optional fraction, an optional exponent, and nothing else.
        func wellFormed<C: RandomAccessCollection<UInt8>>(_ b: C) -> Bool where C.Index == Int {
            var i = b.startIndex
            var mantissaDigits = 0
            func isDigit(_ c: UInt8) -> Bool { (48...57).contains(c) }
            while i < b.endIndex, isDigit(b[i]) { i += 1; mantissaDigits += 1 }
            if i < b.endIndex, b[i] == UInt8(ascii: ".") {
                i += 1
                while i < b.endIndex, isDigit(b[i]) { i += 1; mantissaDigits += 1 }
            }
            guard mantissaDigits > 0 else { return false }
            if i < b.endIndex, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                if i < b.endIndex, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                var exponentDigits = 0
                while i < b.endIndex, isDigit(b[i]) { i += 1; exponentDigits += 1 }
                guard exponentDigits > 0 else { return false }
            }
            return i == b.endIndex
        }
        let valid = rest.utf8.withContiguousStorageIfAvailable(wellFormed) ?? wellFormed(Array(rest.utf8))
        guard valid, let value = Double(rest) else { return invalid() }
        return .success(negative ? -value : value)
    }

    /// Rust's `u32::from_str`.
    static func queryCount(_ text: String) -> Result<Int, BadRequest> {
        guard !text.isEmpty else { return .failure(BadRequest(response: queryError("cannot parse integer from empty string"))) }
        var digits = Substring(text)
        if digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return .failure(BadRequest(response: queryError("invalid digit found in string"))) }
        var value = 0
        for c in digits.utf8 {
            guard (48...57).contains(c) else { return .failure(BadRequest(response: queryError("invalid digit found in string"))) }
            value = value * 10 + Int(c - 48)
            if value > Int(UInt32.max) { return .failure(BadRequest(response: queryError("number too large to fit in target type"))) }
        }
        return .success(value)
    }

    /// chrono's RFC 3339 reading of `afterTimestamp` (`T`, `t` or a space between date and
    /// time; `Z` or an offset required), with its error texts.
    static func queryTimestamp(_ text: String) -> Result<WireTimestamp, BadRequest> {
        var utf8 = text
        return utf8.withUTF8 { queryTimestamp(text, $0) }
    }

    private static func queryTimestamp(_ text: String, _ b: UnsafeBufferPointer<UInt8>) -> Result<WireTimestamp, BadRequest> {
        func fail(_ detail: String) -> Result<WireTimestamp, BadRequest> { .failure(BadRequest(response: queryError(detail))) }
        let short = "premature end of input", invalid = "input contains invalid characters"
        var i = 0
        var problem: String?
        func number(_ width: Int) -> Int {
            var v = 0
            for _ in 0..<width {
                guard problem == nil else { return 0 }
                guard i < b.count else { problem = short; return 0 }
                guard (48...57).contains(b[i]) else { problem = invalid; return 0 }
                v = v * 10 + Int(b[i] - 48)
                i += 1
            }
            return v
        }
        func literal(_ allowed: String) {
            guard problem == nil else { return }
            guard i < b.count else { problem = short; return }
            guard allowed.utf8.contains(b[i]) else { problem = invalid; return }
            i += 1
        }
        let year = number(4)
        literal("-")
        let month = number(2)
        literal("-")
        let day = number(2)
        literal("Tt ")
        let hour = number(2)
        literal(":")
        let minute = number(2)
        literal(":")
        let second = number(2)
        if problem == nil, i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            if i >= b.count { problem = short } else if !(48...57).contains(b[i]) { problem = invalid }
            while problem == nil, i < b.count, (48...57).contains(b[i]) { i += 1 }
        }
        var offsetHours = 0, offsetMinutes = 0
        if problem == nil {
            if i >= b.count {
                problem = short
            } else if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
                i += 1
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                i += 1
                offsetHours = number(2)
                if problem == nil, i < b.count, b[i] == UInt8(ascii: ":") { i += 1 }
                offsetMinutes = number(2)
            } else {
                problem = invalid
            }
        }
        if let problem { return fail(problem) }
        guard i == b.count else { return fail("trailing input") }
        let monthDays = month == 2 ? ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28) : [4, 6, 9, 11].contains(month) ? 30 : 31
        guard (1...12).contains(month), (1...monthDays).contains(day), hour < 24, minute < 60, second <= 60, offsetHours < 24, offsetMinutes < 60 else {
            return fail("input is out of range")
        }
        return .success(WireTimestamp(text: text))
    }
}
