public import Foundation
public import YagnaAPI
public import GolemTime

/// A request as the simulated node sees it, whichever front end it came through.
public struct NodeRequest: Sendable, Hashable, HasMessageBody {
    public var method: HTTPMethod
    /// The full path from the API root (`/market-api/v1/demands`).
    public var path: String
    public var query: [QueryItem]
    public var headers: [Header]
    /// The body: bytes, or the JSON value the typed clients built it from when the request came
    /// in-process (the node reads the value; the bytes are written only if someone asks).
    public var content: MessageBody
    /// The catalog operation a typed client named the request for, when it came in-process
    /// (`payment.getDebitNoteEvents`): lets the replay referee pass over reads it has no use for
    /// without matching their path. Not part of equality or hashing.
    package var operation: String?

    /// A request; with `json`, the body is that value's (and `body` is not used).
    public init(method: HTTPMethod, path: String, query: [QueryItem] = [], headers: [Header] = [], body: [UInt8] = [], json: JSONValue? = nil) {
        self.init(method: method, path: path, query: query, headers: headers, content: json.map { MessageBody(json: $0) } ?? MessageBody(bytes: body))
    }

    public init(method: HTTPMethod, path: String, query: [QueryItem] = [], headers: [Header] = [], content: MessageBody) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.content = content
    }

    public static func == (a: NodeRequest, b: NodeRequest) -> Bool {
        a.method == b.method && a.path == b.path && a.query == b.query && a.headers == b.headers && a.body == b.body
    }

    public func hash(into h: inout Hasher) {
        h.combine(method)
        h.combine(path)
        h.combine(body)
    }

    /// The body as JSON: the value it was written from, or the parsed bytes.
    func jsonBody() throws -> JSONValue {
        if let json { return json }
        return try WireDecoder().value(from: body)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.named(name) }?.value
    }

    public func query(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// The path with its query, as a client wrote it.
    public var target: String {
        QueryItem.target(path, query)
    }
}

/// What the node does with a request: answer now, wait for something (a long poll), stream,
/// or drop the connection.
public enum NodeOutcome: Sendable {
    case respond(YagnaResponse)
    case wait(Poll, until: Date)
    case stream(activityId: String, batchId: String)
    case drop
}

/// A result poll's batch and command index, for the cache of finished batches' answers.
struct ResultsKey: Hashable, Sendable {
    var batchId: String
    var commandIndex: Int?
}

/// A long poll the node keeps open until it has an answer or its deadline passes.
public enum Poll: Sendable, Hashable {
    case demandEvents(subscriptionId: String, maxEvents: Int)
    case agreementApproval(agreementId: String)
    case agreementEvents(after: WireTimestamp?, maxEvents: Int)
    case execResults(activityId: String, batchId: String, commandIndex: Int?)
    case paymentEvents(invoices: Bool, after: WireTimestamp?, maxEvents: Int?)
}

/// The simulated yagna node's state and rules: market, activity and payment, plus the
/// providers' behaviour and faults. A value type with no I/O: every entry point takes `now`;
/// time-driven behaviour (offers, approvals, debit notes, invoices, terminations) is kept in a
/// schedule that `advance(to:)` applies in time order.
public struct NodeCore: Sendable {
    public let scenario: Scenario
    public let appKey: String
    /// The `Authorization` header's value that carries the app key.
    let bearer: String
    var random: SeededRandom
    var providerRandom: [SeededRandom]
    var providers: [SimProvider]
    let requestorId: String

    var demands: [String: DemandRecord] = [:] {
        // Every change, in place or not (a `didSet` that does not read the old value keeps
        // writes in place).
        didSet { demandsVersion &+= 1 }
    }
    /// Counts the changes to `demands`.
    var demandsVersion = 0
    /// The subscription a demand-events poll last found nothing for, and `demandsVersion` then:
    /// while nothing changed, a parked poll looked at again finds nothing without a lookup (a
    /// parked poll is looked at after every change the node makes, and its id is long to hash).
    var demandFoundNothing: (subscription: String, version: Int)?
    var proposals: [String: ProposalRecord] = [:]
    var agreements: [String: AgreementRecord] = [:]
    var agreementOrder: [String] = []
    var activities: [String: ActivityRecord] = [:]
    var allocations: [String: AllocationRecord] = [:]
    var allocationOrder: [String] = []
    /// Written only through `store(debitNote:)`, which keeps `acceptedDebitNoteAmounts`.
    private(set) var debitNotes: [String: DebitNoteRecord] = [:]
    /// By agreement and activity, the largest amount of the accepted (or settled) debit notes:
    /// what `acceptedByActivity` answers, kept as notes are stored rather than summed anew.
    private(set) var acceptedDebitNoteAmounts: [String: [String: Decimal]] = [:]
    var invoices: [String: InvoiceRecord] = [:]
    var agreementEvents: [AgreementEvent] = []
    var debitNoteEvents: [PaymentEvent] = []
    var invoiceEvents: [PaymentEvent] = []
    var schedule: [Scheduled] = []
    var nextSeq = 0
    var daemonFaultCounts: [Int: Int] = [:]
    /// The net API's networks (VPN).
    var netState = NetStateMachine()
    /// Encoded answers of finished batches' result polls.
    var finishedResults: [ResultsKey: YagnaResponse] = [:]
    /// The last `afterTimestamp` read from a query: an event poll sends the same one until an
    /// event comes.
    let lastQueryTimestamp = LastParsed<WireTimestamp>()
    /// Files shared with the requestor through gftp URLs.
    let files: any FileExchange
    /// Whether a real daemon owns the networks (`provide`): `deploy` trusts the networks it names.
    var networksFromDaemon = false

    public init(scenario: Scenario, seed: UInt64, appKey: String, files: any FileExchange) {
        self.scenario = scenario
        self.appKey = appKey
        self.bearer = "Bearer \(appKey)"
        self.files = files
        let root = SeededRandom(seed: seed)
        self.random = root.derived("node")
        self.requestorId = scenario.requestor.identity
        var providers: [SimProvider] = []
        var randoms: [SeededRandom] = []
        for spec in scenario.providers {
            var r = root.derived("provider/\(spec.name)")
            let drawn = "0x" + r.hex(40)
            let id = spec.nodeId ?? drawn
            providers.append(SimProvider(spec: spec, id: id, offer: NodeCore.offerProperties(spec, id: id)))
            randoms.append(r)
        }
        self.providers = providers
        self.providerRandom = randoms
    }

    /// A provider's offer: realistic defaults modelled on real provider offers, then the
    /// scenario's overrides.
    static func offerProperties(_ spec: ProviderSpec, id: String) -> Properties {
        var p: Properties = [
            "golem.activity.caps.deploy.report-progress": true,
            "golem.activity.caps.transfer.protocol": ["gftp", "http", "https"],
            "golem.activity.caps.transfer.report-progress": true,
            "golem.com.payment.debit-notes.accept-timeout?": 240,
            "golem.com.payment.platform.erc20-holesky-tglm.address": .string(id),
            "golem.com.payment.protocol.version": 3,
            "golem.com.pricing.model": "linear",
            "golem.com.pricing.model.linear.coeffs": .array(spec.pricing.coefficients.map { .double($0) }),
            "golem.com.scheme": "payu",
            "golem.com.scheme.payu.payment-timeout-sec?": 120,
            "golem.com.usage.vector": .array(spec.pricing.usageVector.map { .string($0) }),
            "golem.inf.cpu.architecture": "x86_64",
            "golem.inf.cpu.cores": 4,
            "golem.inf.cpu.threads": 4,
            "golem.inf.mem.gib": 8.0,
            "golem.inf.storage.gib": 50.0,
            "golem.node.debug.subnet": "public",
            "golem.node.id.name": .string(spec.name),
            "golem.node.net.is-public": false,
            "golem.runtime.capabilities": ["inet", "vpn", "manifest-support", "start-entrypoint"],
            "golem.runtime.name": "vm",
            "golem.runtime.version": "0.4.2",
            "golem.srv.caps.multi-activity": .bool(spec.multiActivity),
        ]
        if let interval = spec.debitNoteInterval {
            p["golem.com.scheme.payu.debit-note.interval-sec?"] = .int(Int(interval.timeInterval.rounded()))
        }
        for (k, v) in spec.properties { p[k] = v }
        return p
    }

    // MARK: - Ids

    mutating func hexId(_ count: Int) -> String { random.hex(count) }

    mutating func uuid() -> String {
        // 32 hex digits drawn as always; the 13th is a version 4, the 17th variant `a`.
        var h = random.hex(32)
        return h.withUTF8 { hex in
            String(unsafeUninitializedCapacity: 36) { out in
                var o = 0
                for i in 0..<32 {
                    if i == 8 || i == 12 || i == 16 || i == 20 {
                        out[o] = UInt8(ascii: "-")
                        o += 1
                    }
                    out[o] = i == 12 ? UInt8(ascii: "4") : i == 16 ? UInt8(ascii: "a") : hex[i]
                    o += 1
                }
                return o
            }
        }
    }

    // MARK: - Schedule

    mutating func schedule(_ action: ScheduledAction, at time: Date) {
        nextSeq += 1
        let item = Scheduled(at: time, seq: nextSeq, action: action)
        let index = schedule.firstIndex { ($0.at, $0.seq) > (item.at, item.seq) } ?? schedule.count
        schedule.insert(item, at: index)
    }

    /// When the next scheduled action is due, if any.
    public var nextScheduledTime: Date? { schedule.first?.at }

    /// Where the node's clock and the wall clock agreed, and how much faster the node's runs
    /// (`serve --speed`); `nil` when they are the same clock (or the client shares the node's
    /// virtual clock, as in-process runs do).
    public var clientClock: (origin: Date, speed: Double)?

    /// The node's time for a deadline a client set in its own wall-clock time (a demand's
    /// expiration, an agreement's validTo, an allocation's timeout): at `--speed X` a deadline
    /// 15 wall minutes away is 15 × X node minutes away, so it still means what it meant.
    public func clientDeadline(_ wall: Date) -> Date {
        guard let (origin, speed) = clientClock, speed != 1 else { return wall }
        return origin.addingTimeInterval(wall.timeIntervalSince(origin) * speed)
    }

    /// `clientDeadline` of a timestamp in nanoseconds since the epoch.
    func clientDeadline(nanoseconds: Int64) -> Int64 {
        NodeCore.nanoseconds(clientDeadline(Date(timeIntervalSince1970: Double(nanoseconds) / 1e9)))
    }

    /// When a waiting poll's answer may next change by the passing of time alone, besides the
    /// schedule: the next result of the batch an exec-results poll waits for. A long poll is
    /// answered the moment its result exists, as the daemon does, not at its timeout.
    public func nextChange(of poll: Poll, after now: Date) -> Date? {
        guard case .execResults(let activityId, let batchId, _) = poll, let batch = activities[activityId]?.batches[batchId] else { return nil }
        return batch.results.lazy.map(\.at).filter { $0 > now }.min()
    }

    /// Applies every scheduled action due at or before `now`, in time order.
    public mutating func advance(to now: Date) {
        while let first = schedule.first, first.at <= now {
            schedule.removeFirst()
            apply(first.action, at: first.at)
        }
    }

    mutating func apply(_ action: ScheduledAction, at time: Date) {
        switch action {
        case .offer(let sub, let provider): emitOffer(sub, provider: provider, at: time)
        case .counterReply(let sub, let provider, let counterId): emitDraft(sub, provider: provider, counterId: counterId, at: time)
        case .rejectProposal(let sub, let proposalId, let reason):
            guard var d = demands[sub], !d.removed else { return }
            d.events.append(.proposalRejected(eventDate: WireTimestamp(time, fractionDigits: 3), proposalId: proposalId, reason: Reason(message: reason)))
            demands[sub] = d
        case .decideAgreement(let id, let approve, let reason): decideAgreement(id, approve: approve, reason: reason, at: time)
        case .terminateAgreement(let id, let reason): providerTerminates(id, reason: reason, at: time)
        case .debitNote(let activityId): issueDebitNote(activityId, at: time)
        case .invoice(let agreementId): issueInvoice(agreementId, at: time)
        case .activityUnresponsive(let activityId, let duration):
            guard activities[activityId]?.state != .terminated else { return }
            applyUnresponsive(activityId, from: time)
            if let duration { schedule(.activityResponsive(activityId: activityId), at: time.adding(duration)) }
        case .expireDemand(let sub):
            guard var d = demands[sub], !d.removed else { return }
            d.removed = true
            d.expired = true
            d.events.removeAll()
            demands[sub] = d
        case .expireAgreement(let id):
            guard var a = agreements[id], case .moved = a.on(.expire) else { return }
            agreements[id] = a
        case .activityResponsive(let activityId):
            if var a = activities[activityId], a.state == .unresponsive {
                a.on(.responsive)
                a.unresponsiveUntil = nil
                activities[activityId] = a
            }
        }
    }

    // MARK: - Faults

    /// Whether a provider's fault strikes now (draws from the provider's seeded stream).
    mutating func strikes(_ trigger: Trigger, provider: Int) -> Bool {
        trigger.strikes(&providerRandom[provider])
    }

    func faults(_ provider: Int) -> [ProviderFault] { providers[provider].spec.faults }

    // MARK: - Responses

    static func message(_ status: Int, _ text: String) -> YagnaResponse {
        .json(status, ["message": .string(text)])
    }

    /// A JSON answer of `value`: an in-process requestor of the same type takes `value` as it
    /// is, and its JSON is encoded only if someone reads the body (HTTP, the journal's bytes, a
    /// debug build's check). Encoding fails only on a non-finite `Double`; a value that holds
    /// one goes through `encodeNow`, which answers 500 when it cannot be encoded.
    static func encode<T: Encodable & Sendable>(_ status: Int, _ value: T) -> YagnaResponse {
        .json(status, deferred: {
            // Not reached for the node's answers without a `Double` (see above): a debug build
            // stops here if one gains such a field and is still encoded late.
            do { return try WireEncoder().encodeValue(value) } catch {
                assertionFailure("\(T.self) could not be encoded late (\(error)): answer it with encodeNow")
                return ["message": .string("internal error encoding the answer: \(error)")]
            }
        }, typed: value)
    }

    /// A JSON answer of `value` encoded at once, or a 500 when it cannot be encoded.
    static func encodeNow(_ status: Int, _ value: some Encodable & Sendable) -> YagnaResponse {
        do { return .json(status, try WireEncoder().encodeValue(value), typed: value) } catch {
            return message(500, "internal error encoding the answer: \(error)")
        }
    }

    static let noContent = YagnaResponse(status: 204)
    static let okNull = YagnaResponse.json(200, .null)
}

import Synchronization

/// The last text parsed and what it parsed to (a one-entry memo of a pure parse).
final class LastParsed<Value: Sendable>: Sendable {
    private let last = Mutex<(text: String, value: Value)?>(nil)

    func value(_ text: String, _ parse: (String) -> Value?) -> Value? {
        if let hit = last.withLock({ $0?.text == text ? $0?.value : nil }) { return hit }
        guard let value = parse(text) else { return nil }
        last.withLock { $0 = (text, value) }
        return value
    }
}

extension NodeCore {
    /// Stores a debit note (new, or with its new status), keeping what `acceptedByActivity`
    /// answers: a note counts once it is accepted or settled (a status it never leaves).
    mutating func store(debitNote record: DebitNoteRecord) {
        let note = record.note
        debitNotes[note.debitNoteId] = record
        guard note.status == .accepted || note.status == .settled else { return }
        let before = acceptedDebitNoteAmounts[note.agreementId]?[note.activityId] ?? 0
        acceptedDebitNoteAmounts[note.agreementId, default: [:]][note.activityId] = max(before, note.totalAmountDue)
    }
}
