/// The requestor side of the payment API (`/payment-api/v1`).
public struct PaymentAPI: Sendable {
    let caller: Caller
    public init(transport: any Transport) { caller = Caller(transport: transport, service: .payment) }

    public func requestorAccounts() async throws -> [Account] {
        try await caller.decode([Account].self, caller.request("payment.getRequestorAccounts", .GET, "/requestorAccounts"))
    }

    public func createAllocation(_ allocation: NewAllocation) async throws -> Allocation {
        let r = try caller.withBody(caller.request("payment.createAllocation", .POST, "/allocations"), allocation)
        return try await caller.decode(Allocation.self, r)
    }

    public func allocations() async throws -> [Allocation] {
        try await caller.decode([Allocation].self, caller.request("payment.getAllocations", .GET, "/allocations"))
    }

    public func allocation(_ allocationId: String) async throws -> Allocation {
        try await caller.decode(Allocation.self, caller.request("payment.getAllocation", .GET, "/allocations/\(allocationId)"))
    }

    public func amendAllocation(_ allocationId: String, _ update: AllocationUpdate) async throws -> Allocation {
        let r = try caller.withBody(caller.request("payment.amendAllocation", .PUT, "/allocations/\(allocationId)"), update)
        return try await caller.decode(Allocation.self, r)
    }

    public func releaseAllocation(_ allocationId: String) async throws {
        try await caller.perform(caller.request("payment.releaseAllocation", .DELETE, "/allocations/\(allocationId)"))
    }

    public func demandDecorations(allocationIds: [String]) async throws -> DemandDecoration {
        let q = [QueryItem("allocationIds", allocationIds.joined(separator: ","))]
        return try await caller.decode(DemandDecoration.self, caller.request("payment.getDemandDecorations", .GET, "/demandDecorations", query: q))
    }

    /// Long-polls debit-note events strictly after `afterTimestamp`.
    public func debitNoteEvents(afterTimestamp: WireTimestamp? = nil, timeout: Duration? = .seconds(5), maxEvents: Int? = nil) async throws
        -> [PaymentEvent]
    {
        try await events("payment.getDebitNoteEvents", "/debitNoteEvents", afterTimestamp, timeout, maxEvents)
    }

    /// Long-polls invoice events strictly after `afterTimestamp`.
    public func invoiceEvents(afterTimestamp: WireTimestamp? = nil, timeout: Duration? = .seconds(5), maxEvents: Int? = nil) async throws
        -> [PaymentEvent]
    {
        try await events("payment.getInvoiceEvents", "/invoiceEvents", afterTimestamp, timeout, maxEvents)
    }

    private func events(_ op: String, _ path: String, _ after: WireTimestamp?, _ timeout: Duration?, _ maxEvents: Int?) async throws
        -> [PaymentEvent]
    {
        var q: [QueryItem] = []
        if let timeout { q.append(QueryItem("timeout", timeout.queryValue)) }
        if let after { q.append(QueryItem("afterTimestamp", after.text)) }
        if let maxEvents { q.append(QueryItem("maxEvents", String(maxEvents))) }
        return try await caller.decode([PaymentEvent].self, caller.request(op, .GET, path, query: q, longPoll: timeout))
    }

    public func debitNote(_ id: String) async throws -> DebitNote {
        try await caller.decode(DebitNote.self, caller.request("payment.getDebitNote", .GET, "/debitNotes/\(id)"))
    }

    public func acceptDebitNote(_ id: String, _ acceptance: Acceptance) async throws {
        let r = try caller.withBody(caller.request("payment.acceptDebitNote", .POST, "/debitNotes/\(id)/accept"), acceptance)
        try await caller.perform(r)
    }

    /// The daemon answers 501: debit notes cannot be rejected.
    public func rejectDebitNote(_ id: String, _ rejection: Rejection) async throws {
        let r = try caller.withBody(caller.request("payment.rejectDebitNote", .POST, "/debitNotes/\(id)/reject"), rejection)
        try await caller.perform(r)
    }

    public func invoice(_ id: String) async throws -> Invoice {
        try await caller.decode(Invoice.self, caller.request("payment.getInvoice", .GET, "/invoices/\(id)"))
    }

    public func acceptInvoice(_ id: String, _ acceptance: Acceptance) async throws {
        let r = try caller.withBody(caller.request("payment.acceptInvoice", .POST, "/invoices/\(id)/accept"), acceptance)
        try await caller.perform(r)
    }

    public func rejectInvoice(_ id: String, _ rejection: Rejection) async throws {
        let r = try caller.withBody(caller.request("payment.rejectInvoice", .POST, "/invoices/\(id)/reject"), rejection)
        try await caller.perform(r)
    }
}

/// Identity and version at the API root.
public struct IdentityAPI: Sendable {
    let caller: Caller
    public init(transport: any Transport) { caller = Caller(transport: transport, service: .root) }

    public func me() async throws -> Identity {
        try await caller.decode(Identity.self, caller.request("identity.me", .GET, "/me"))
    }

    public func version() async throws -> VersionInfo {
        try await caller.decode(VersionInfo.self, caller.request("version.get", .GET, "/version/get"))
    }
}

/// What the image registry knows of an image.
public struct ImageInfo: Codable, Sendable, Hashable {
    public var http: String?
    public var https: String?
    public var sha3: String
    public var size: Int?
    public var tag: String?
    public var unknownFields = UnknownFields()
}

/// The image registry (`GET {registry}/v1/image/info`), as yapapi's `vm.repo` calls it.
public struct RegistryAPI: Sendable {
    let caller: Caller
    public init(transport: any Transport) { caller = Caller(transport: transport, service: .registry) }

    /// Resolves an image by hash or tag.
    public func imageInfo(hash: String? = nil, tag: String? = nil) async throws -> ImageInfo {
        var q: [QueryItem] = []
        if let hash { q.append(QueryItem("hash", hash)) }
        if let tag { q.append(QueryItem("tag", tag)) }
        q.append(QueryItem("count", "true"))
        return try await caller.decode(ImageInfo.self, caller.request("registry.imageInfo", .GET, "/v1/image/info", query: q))
    }
}
