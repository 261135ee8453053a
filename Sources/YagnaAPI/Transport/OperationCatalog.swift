/// Every operation of the yagna REST API that this client models, keyed by method and path:
/// the map that recordings, replay, `inspect` and `verify` share to name an exchange.
///
/// ```swift
/// let op = OperationCatalog.match(method: .POST, path: "/market-api/v1/agreements/a1/confirm")
/// // op?.spec.name == "market.confirmAgreement", op?.ids == ["a1"]
/// ```
public enum OperationCatalog {
    /// One operation: its name, the API it belongs to, its method and path pattern, the statuses
    /// the daemon answers with, and the wire model of a successful answer.
    public struct Spec: Sendable {
        public let name: String
        /// `market`, `activity`, `payment`, `identity`, `version`, `registry`.
        public let api: String
        public let method: HTTPMethod
        /// Path segments; `*` stands for an id.
        public let pattern: [String]
        /// Statuses a client expects (others are drift).
        public let statuses: Set<Int>
        /// The model of a 200 answer's body, if it has one.
        public let model: Model
        /// Whether the operation changes nothing on the node (reads and long polls).
        public let readOnly: Bool
    }

    /// The wire model a successful answer decodes into.
    public enum Model: Sendable {
        case none
        case string
        case decode(@Sendable ([UInt8]) throws -> any Sendable)
    }

    /// The operation a request names, with the ids found in its path.
    public struct Match: Sendable {
        /// Where the operation is in `all` (a match is copied with every exchange it names: an
        /// index is cheaper to carry than the spec).
        let index: Int
        public let ids: [String]
        public var spec: Spec { OperationCatalog.all[index] }
    }

    static func model<T: Decodable & Sendable>(_ type: T.Type) -> Model {
        .decode { try WireDecoder().decode(T.self, from: $0) }
    }

    static func op(
        _ name: String, _ method: HTTPMethod, _ path: String, _ statuses: [Int], _ model: Model = .none, readOnly: Bool? = nil
    ) -> Spec {
        let api = String(name.split(separator: ".").first ?? "")
        return Spec(
            name: name, api: api, method: method, pattern: path.split(separator: "/").map(String.init), statuses: Set(statuses).union(common),
            model: model, readOnly: readOnly ?? (method == .GET))
    }

    // Statuses common to every authenticated call: 401 without the key, 500 GSB errors, 504.
    static let common: Set<Int> = [401, 500, 504]

    /// The catalog, in matching order (more specific paths first where they overlap).
    public static let all: [Spec] = [
        op("version.get", .GET, "/version/get", [200], model(VersionInfo.self)),
        op("identity.me", .GET, "/me", [200], model(Identity.self)),
        op("registry.imageInfo", .GET, "/v1/image/info", [200, 404], model(JSONValue.self)),
        op("registry.image", .HEAD, "/images/*", [200, 404]),
        op("registry.image", .GET, "/images/*", [200, 404]),
        // Market
        op("market.subscribeDemand", .POST, "/market-api/v1/demands", [201, 200, 400], .string),
        op("market.getDemands", .GET, "/market-api/v1/demands", [200], model([Demand].self)),
        op("market.unsubscribeDemand", .DELETE, "/market-api/v1/demands/*", [204, 200, 404, 410]),
        op("market.collectDemandEvents", .GET, "/market-api/v1/demands/*/events", [200, 400, 404, 408, 410], model([MarketEvent].self)),
        op("market.rejectProposalOffer", .POST, "/market-api/v1/demands/*/proposals/*/reject", [204, 200, 400, 404, 410, 500]),
        op("market.counterProposalDemand", .POST, "/market-api/v1/demands/*/proposals/*", [201, 200, 400, 404, 410], .string),
        op("market.getProposalOffer", .GET, "/market-api/v1/demands/*/proposals/*", [200, 404, 410], model(Proposal.self)),
        op("market.createAgreement", .POST, "/market-api/v1/agreements", [201, 200, 400, 404, 410], .string),
        op("market.listAgreements", .GET, "/market-api/v1/agreements", [200], model([AgreementListEntry].self)),
        op("market.confirmAgreement", .POST, "/market-api/v1/agreements/*/confirm", [204, 200, 400, 404, 410]),
        op("market.waitForApproval", .POST, "/market-api/v1/agreements/*/wait", [204, 200, 400, 404, 408, 410], readOnly: true),
        op("market.cancelAgreement", .POST, "/market-api/v1/agreements/*/cancel", [204, 200, 400, 404, 409, 410]),
        op("market.terminateAgreement", .POST, "/market-api/v1/agreements/*/terminate", [204, 200, 400, 404, 409, 410]),
        op("market.getTerminateReason", .GET, "/market-api/v1/agreements/*/terminate/reason", [200, 404], model(AgreementEvent.self)),
        op("market.getAgreement", .GET, "/market-api/v1/agreements/*", [200, 400, 404], model(Agreement.self)),
        op("market.collectAgreementEvents", .GET, "/market-api/v1/agreementEvents", [200, 400, 408], model([AgreementEvent].self)),
        // Activity
        op("activity.createActivity", .POST, "/activity-api/v1/activity", [201, 200, 400, 404, 408, 409, 500], model(CreateActivityResponse.self)),
        op("activity.destroyActivity", .DELETE, "/activity-api/v1/activity/*", [204, 200, 404, 410, 500]),
        op("activity.exec", .POST, "/activity-api/v1/activity/*/exec", [201, 200, 400, 404, 410, 500], .string),
        op("activity.getExecBatchResults", .GET, "/activity-api/v1/activity/*/exec/*", [200, 400, 404, 408, 410, 500], model([ExeScriptCommandResult].self)),
        op("activity.getActivityState", .GET, "/activity-api/v1/activity/*/state", [200, 404, 500], model(ActivityStateResponse.self)),
        op("activity.getActivityUsage", .GET, "/activity-api/v1/activity/*/usage", [200, 404, 500], model(ActivityUsage.self)),
        // Payment
        op("payment.getRequestorAccounts", .GET, "/payment-api/v1/requestorAccounts", [200], model([Account].self)),
        op("payment.createAllocation", .POST, "/payment-api/v1/allocations", [201, 200, 400], model(Allocation.self)),
        op("payment.getAllocations", .GET, "/payment-api/v1/allocations", [200], model([Allocation].self)),
        op("payment.getAllocation", .GET, "/payment-api/v1/allocations/*", [200, 404], model(Allocation.self)),
        op("payment.amendAllocation", .PUT, "/payment-api/v1/allocations/*", [200, 400, 404], model(Allocation.self)),
        op("payment.releaseAllocation", .DELETE, "/payment-api/v1/allocations/*", [200, 204, 404, 410]),
        op("payment.getAllocationExpenditures", .GET, "/payment-api/v1/allocations/*/expenditures", [200]),
        op("payment.getAllocationOrders", .GET, "/payment-api/v1/allocations/*/orders", [200]),
        op("payment.getDemandDecorations", .GET, "/payment-api/v1/demandDecorations", [200, 400], model(DemandDecoration.self)),
        op("payment.getDebitNoteEvents", .GET, "/payment-api/v1/debitNoteEvents", [200, 408], model([PaymentEvent].self)),
        op("payment.getInvoiceEvents", .GET, "/payment-api/v1/invoiceEvents", [200, 408], model([PaymentEvent].self)),
        op("payment.acceptDebitNote", .POST, "/payment-api/v1/debitNotes/*/accept", [200, 204, 400, 404, 409, 410]),
        op("payment.rejectDebitNote", .POST, "/payment-api/v1/debitNotes/*/reject", [501, 404]),
        op("payment.getDebitNote", .GET, "/payment-api/v1/debitNotes/*", [200, 404], model(DebitNote.self)),
        op("payment.acceptInvoice", .POST, "/payment-api/v1/invoices/*/accept", [200, 204, 400, 404, 409, 410]),
        op("payment.rejectInvoice", .POST, "/payment-api/v1/invoices/*/reject", [200, 204, 400, 404, 409, 410]),
        op("payment.getInvoice", .GET, "/payment-api/v1/invoices/*", [200, 404], model(Invoice.self)),
    ] + netOperations("/net-api/v1") + netOperations("/net-api/v2/vpn")

    /// The net API (requestor side), the same under v1 (`/net-api/v1`) and v2 (`/net-api/v2/vpn`).
    static func netOperations(_ root: String) -> [Spec] {
        [
            op("net.createNetwork", .POST, "\(root)/net", [201, 200, 400], model(JSONValue.self)),
            op("net.getNetworks", .GET, "\(root)/net", [200], model(JSONValue.self)),
            op("net.getNetwork", .GET, "\(root)/net/*", [200, 403, 404], model(JSONValue.self)),
            op("net.removeNetwork", .DELETE, "\(root)/net/*", [200, 204, 403, 404]),
            op("net.getAddresses", .GET, "\(root)/net/*/addresses", [200, 403, 404], model(JSONValue.self)),
            op("net.addAddress", .POST, "\(root)/net/*/addresses", [200, 201, 204, 400, 403, 404]),
            op("net.getNodes", .GET, "\(root)/net/*/nodes", [200, 403, 404], model(JSONValue.self)),
            op("net.addNode", .POST, "\(root)/net/*/nodes", [200, 201, 204, 400, 403, 404]),
            op("net.removeNode", .DELETE, "\(root)/net/*/nodes/*", [200, 403, 404]),
            op("net.connectTcp", .GET, "\(root)/net/*/tcp/*/*", [101, 403, 404, 504]),
        ]
    }

    /// The operation for `method` and `path` (without its query), or `nil` for one the client
    /// does not know.
    public static func match(method: HTTPMethod, path: String) -> Match? {
        var path = path
        return path.withUTF8 { bytes -> Match? in
            // The segments' places, on the stack: no pattern is longer than `maxSegments`.
            withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: maxSegments) { segments -> Match? in
                var count = 0
                let fits = eachSegment(bytes) { range in
                    guard count < maxSegments else { return false }
                    segments[count] = range
                    count += 1
                    return true
                }
                guard fits else { return nil }
                let candidates = byShape[shape(method, count)]
                candidateLoop: for i in candidates {
                    let pattern = patternBytes[i]
                    for s in 0..<count {
                        guard let p = pattern[s] else { continue }
                        let r = segments[s]
                        guard p.count == r.count else { continue candidateLoop }
                        for k in 0..<p.count where p[k] != bytes[r.lowerBound + k] { continue candidateLoop }
                    }
                    var ids: [String] = []
                    for s in 0..<count where pattern[s] == nil {
                        ids.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[segments[s]]), as: UTF8.self))
                    }
                    return Match(index: i, ids: ids)
                }
                return nil
            }
        }
    }

    /// Where a path's non-empty segments between slashes lie in its UTF-8 bytes (what
    /// `split(separator: "/")` gives, without walking `Character`s).
    public static func segmentRanges(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var segments: [Range<Int>] = []
        segments.reserveCapacity(8)
        _ = eachSegment(bytes) { segments.append($0); return true }
        return segments
    }

    /// Calls `body` with the place of each non-empty segment between slashes, in order, while it
    /// returns `true`; whether it always did.
    @inline(__always)
    static func eachSegment(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Bool) -> Bool {
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "/") {
            if i > start, !body(start..<i) { return false }
            start = i + 1
        }
        return true
    }

    /// Catalog indices by method and number of path segments, in matching order: a lookup
    /// compares a path with the few patterns of its shape only.
    static let byShape: [[Int]] = {
        var out = Array(repeating: [Int](), count: methods.count * (maxSegments + 1))
        for (i, spec) in all.enumerated() { out[shape(spec.method, spec.pattern.count)].append(i) }
        return out
    }()

    static let methods: [HTTPMethod] = [.GET, .POST, .PUT, .DELETE, .HEAD]
    /// More segments than any pattern has.
    static let maxSegments = all.map(\.pattern.count).max()! + 1

    /// Where the patterns of `method` with `segments` segments are listed in `byShape`.
    static func shape(_ method: HTTPMethod, _ segments: Int) -> Int {
        let m: Int
        switch method {
        case .GET: m = 0
        case .POST: m = 1
        case .PUT: m = 2
        case .DELETE: m = 3
        case .HEAD: m = 4
        }
        return m * (maxSegments + 1) + segments
    }

    /// Each pattern's segments as bytes; `nil` for an id (`*`).
    static let patternBytes: [[[UInt8]?]] = all.map { $0.pattern.map { $0 == "*" ? nil : Array($0.utf8) } }

    /// The API a path belongs to, from its root segment (`market`, `activity`, …, or `other`).
    public static func api(of path: String) -> String {
        let first = path.split(separator: "/").first.map(String.init) ?? ""
        switch first {
        case "market-api": return "market"
        case "activity-api": return "activity"
        case "payment-api": return "payment"
        case "net-api": return "net"
        case "me": return "identity"
        case "version": return "version"
        case "v1", "images": return "registry"
        default: return "other"
        }
    }
}
