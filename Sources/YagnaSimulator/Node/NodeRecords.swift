import Foundation
import GolemTime
import YagnaAPI

/// A simulated provider: its spec, identity and offer.
struct SimProvider: Sendable {
    var spec: ProviderSpec
    var id: String
    var offer: Properties
}

struct DemandRecord: Sendable {
    var demand: Demand
    var constraint: Constraint
    var events: [MarketEvent] = []
    var removed = false
    var expired = false
}

struct ProposalRecord: Sendable {
    var proposal: Proposal
    var subscriptionId: String
    var provider: Int
    /// Issued by the provider (true) or by the requestor (a counter-proposal).
    var fromProvider: Bool
    var countered = false
}

struct AgreementRecord: Sendable {
    var agreement: Agreement
    var provider: Int
    var approvedAt: Date?
    var endedAt: Date?
    var terminationEvent: AgreementEvent?
    var activities: [String] = []
    var batches = 0
    var invoiceId: String?
    var multiActivity: Bool
}

struct BatchRecord: Sendable {
    var id: String
    var commands: [ExeScriptCommand]
    /// Results in order, each visible from its time on.
    var results: [(at: Date, result: ExeScriptCommandResult)] = []
    /// Streamed frames, each visible from its time on: what each says, its runtime event
    /// written only when a stream reads it (most batches are polled, never streamed).
    var frames: [(at: Date, frame: Frame)] = []

    /// A frame as the exe-unit notes it.
    struct Frame: Sendable {
        var index: Int
        var kind: Kind
        enum Kind: Sendable {
            case started(ExeScriptCommand)
            case event(RuntimeEventKind)
        }
    }

    /// Every frame with its runtime event.
    var events: [(at: Date, event: RuntimeEvent)] { frames.indices.map { (frames[$0].at, event($0)) } }

    /// Frame `i`'s runtime event.
    func event(_ i: Int) -> RuntimeEvent {
        let (at, frame) = frames[i]
        let kind: RuntimeEventKind
        switch frame.kind {
        case .started(let command): kind = .started(command: command.fastWireValue ?? JSONValue(command))
        case .event(let k): kind = k
        }
        return RuntimeEvent(batchId: id, index: frame.index, timestamp: ExeUnit.naive(at), kind: kind)
    }
    /// Whether the batch stopped progressing (unresponsive provider): later results never come.
    var stalled = false
}

struct ActivityRecord: Sendable {
    var id: String
    var agreementId: String
    var provider: Int
    var state: ActivityState = .initialized
    /// Where it returns once it answers again, while unresponsive.
    var resumeState: ActivityState?
    var created: Date
    var destroyed: Date?
    var files: [String: [UInt8]] = [:]
    /// Directories made by `mkdir` (files' parents exist without being listed here).
    var directories: Set<String> = []
    var batches: [String: BatchRecord] = [:]
    var batchOrder: [String] = []
    var cpuSeconds: Double = 0
    /// Custom counters set by command rules: the value and when it was set.
    var counters: [String: (value: Double, at: Date)] = [:]
    /// Its addresses in the requestor's networks, once deployed with them.
    var networkAddresses: [String] = []
    /// Until when the activity does not answer (`nil`: it answers).
    var unresponsiveUntil: Date?
    var pollsStopped = false
    var lastDebitNote: String?
    /// When the last payable debit note (one with a due date) was issued.
    var lastPayableNote: Date?
    /// When the last command scheduled on the activity ends.
    var busyUntil: Date
    /// Files a background loop rewrites periodically (`while true; do date > f; sleep 5; done &`).
    var periodic: [String: PeriodicWriter] = [:]

    /// The files directly in directory `dir`, in name order, with their sizes.
    func files(in dir: String) -> [(name: String, size: Int)] {
        let prefix = dir.hasSuffix("/") ? dir : dir + "/"
        return files.compactMap { path, bytes -> (name: String, size: Int)? in
            guard path.hasPrefix(prefix) else { return nil }
            let name = path.dropFirst(prefix.count)
            return name.isEmpty || name.contains("/") ? nil : (String(name), bytes.count)
        }.sorted { $0.name < $1.name }
    }
}

struct DebitNoteRecord: Sendable {
    var note: DebitNote
}

struct InvoiceRecord: Sendable {
    var invoice: Invoice
}

struct AllocationRecord: Sendable {
    var allocation: Allocation
    var released = false
    /// What acceptances spent from it, per agreement and activity (none for an invoice), in
    /// the order they were first spent: `GET /allocations/{id}/expenditures`.
    var expenditures: [Expenditure] = []

    struct Expenditure: Sendable {
        var agreementId: String
        var activityId: String?
        var accepted: Decimal
    }
}

/// Something the simulated providers do at a time of their own.
enum ScheduledAction: Sendable {
    case offer(subscriptionId: String, provider: Int)
    case counterReply(subscriptionId: String, provider: Int, counterId: String)
    case rejectProposal(subscriptionId: String, proposalId: String, reason: String)
    case decideAgreement(agreementId: String, approve: Bool, reason: String)
    case terminateAgreement(agreementId: String, reason: String)
    case debitNote(activityId: String)
    case invoice(agreementId: String)
    case activityUnresponsive(activityId: String, duration: Duration?)
    case activityResponsive(activityId: String)
    /// The demand's `golem.srv.comp.expiration` passed: the subscription ends.
    case expireDemand(subscriptionId: String)
    /// The agreement's `validTo` passed before it was approved.
    case expireAgreement(agreementId: String)
}

struct Scheduled: Sendable {
    var at: Date
    var seq: Int
    var action: ScheduledAction
}

/// A background shell loop that rewrites a file with a command's output every `interval`.
struct PeriodicWriter: Sendable {
    var command: String
    var interval: Duration
    var start: Date
}

extension AgreementRecord {
    /// Applies a lifecycle event through `AgreementStateMachine`, keeping the wire model's
    /// state in step.
    mutating func on(_ event: AgreementStateMachine.Event) -> AgreementStateMachine.Outcome {
        var machine = AgreementStateMachine(state: agreement.state)
        let outcome = machine.on(event)
        agreement.state = machine.state
        return outcome
    }
}

extension ActivityRecord {
    /// Applies a lifecycle event through `ActivityStateMachine`.
    @discardableResult
    mutating func on(_ event: ActivityStateMachine.Event) -> ActivityStateMachine.Outcome {
        var machine = ActivityStateMachine(state: state, resumeState: resumeState)
        let outcome = machine.on(event)
        state = machine.state
        resumeState = machine.resumeState
        return outcome
    }
}

extension AllocationRecord {
    /// The allocation's budget as its state machine; setting it writes the amounts and the
    /// release back to the wire model.
    var budget: AllocationStateMachine {
        get { AllocationStateMachine(total: allocation.totalAmount, spent: allocation.spentAmount, released: released) }
        set {
            allocation.totalAmount = newValue.total
            allocation.spentAmount = newValue.spent
            allocation.remainingAmount = newValue.remaining
            released = newValue.released
        }
    }
}

/// A debit note or invoice the requestor decides on through `DocumentStateMachine`.
protocol DocumentRecord {
    var status: DocumentStatus { get set }
}

extension DocumentRecord {
    mutating func on(_ event: DocumentStateMachine.Event) -> DocumentStateMachine.Outcome {
        var machine = DocumentStateMachine(status: status)
        let outcome = machine.on(event)
        status = machine.status
        return outcome
    }
}

extension DebitNoteRecord: DocumentRecord {
    var status: DocumentStatus {
        get { note.status }
        set { note.status = newValue }
    }
}

extension InvoiceRecord: DocumentRecord {
    var status: DocumentStatus {
        get { invoice.status }
        set { invoice.status = newValue }
    }
}
