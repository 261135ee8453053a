public import Foundation

/// Everything the engine does, as a typed event: market, agreements, activities, scripts,
/// commands, tasks and payments.
public enum GolemEvent: Sendable, Hashable {
    case allocationCreated(id: String, amount: Decimal)
    case allocationReleased(id: String)
    case demandSubscribed(id: String)
    case proposalReceived(provider: String, proposalId: String)
    case proposalRejected(provider: String, reason: String)
    case proposalResponded(provider: String, proposalId: String)
    case agreementCreated(provider: String, agreementId: String)
    case agreementConfirmed(provider: String, agreementId: String)
    /// A multi-activity agreement kept from an earlier job serves this one.
    case agreementReused(provider: String, agreementId: String)
    case agreementRejected(provider: String, agreementId: String, reason: String)
    /// The agreement could not be concluded for another reason than the provider's refusal
    /// (approval timed out, the connection failed, the job was cancelled): it was cancelled.
    case agreementCancelled(provider: String, agreementId: String, reason: String)
    case agreementTerminated(provider: String, agreementId: String, byProvider: Bool, reason: String)
    case activityCreated(provider: String, activityId: String)
    case activityCreateFailed(provider: String, reason: String)
    case activityDestroyed(provider: String, activityId: String)
    case scriptSent(provider: String, batchId: String, commands: Int)
    case scriptFinished(provider: String, batchId: String)
    case commandFailed(provider: String, command: String, message: String)
    /// A task job (`executeTasks`) began: its number in this engine (from 1) and its size.
    case jobStarted(job: Int, tasks: Int)
    /// The job ended: `failure` says why it failed (`nil`: every task accepted).
    case jobFinished(job: Int, failure: String?)
    /// Task events name their job, so jobs running at once on one engine stay apart.
    case taskStarted(job: Int, taskId: Int, provider: String)
    case taskAccepted(job: Int, taskId: Int, provider: String)
    case taskRejected(job: Int, taskId: Int, provider: String, reason: String, retry: Bool)
    /// The job was cancelled while the task ran.
    case taskCancelled(job: Int, taskId: Int, provider: String)
    case providerExcluded(provider: String, reason: String)
    case debitNoteAccepted(provider: String, debitNoteId: String, amount: Decimal)
    case debitNoteIgnored(provider: String, debitNoteId: String, reason: String)
    case invoiceAccepted(provider: String, invoiceId: String, amount: Decimal)
    case invoiceRejected(provider: String, invoiceId: String, reason: String)
    case unpaidAgreement(provider: String, agreementId: String)
    case serviceStateChanged(instance: Int, from: ServiceState, to: ServiceState)
}

/// Per-provider totals the examples print at the end.
public struct ProviderSummary: Sendable, Hashable {
    public var name: String
    public var tasksAccepted = 0
    public var failures = 0
    public var cost: Decimal = 0
}

/// A run's summary, built from the event stream.
public struct RunSummary: Sendable, CustomStringConvertible {
    public var providers: [String: ProviderSummary] = [:]
    public var unpaidAgreements = 0
    /// Service instances that reached running (counting each time).
    public var instancesRunning = 0
    /// Instances started again after failing.
    public var respawns = 0
    /// Task ids that started at least once; how many times each was accepted; those given up
    /// (rejected without retry, cancelled with the job, or left unfinished by a job that failed).
    /// The checks "no task lost or returned twice" read these.
    public var tasksStarted: Set<TaskKey> = []
    public var acceptances: [TaskKey: Int] = [:]
    public var tasksGivenUp: Set<TaskKey> = []
    /// Jobs that ended, with their failure (`nil`: succeeded).
    public var jobsFinished: [Int: String?] = [:]

    /// A task of a job.
    public struct TaskKey: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var job: Int
        public var task: Int
        public init(job: Int, task: Int) {
            self.job = job
            self.task = task
        }
        public static func < (a: TaskKey, b: TaskKey) -> Bool { (a.job, a.task) < (b.job, b.task) }
        public var description: String { job <= 1 ? "task \(task)" : "task \(task) of job \(job)" }
    }

    public init() {}

    public mutating func record(_ event: GolemEvent) {
        switch event {
        case .jobFinished(let job, let failure):
            jobsFinished[job] = failure
            if failure != nil {
                // A failed job gives up every task it started and did not finish.
                for key in tasksStarted where key.job == job && acceptances[key] == nil { tasksGivenUp.insert(key) }
            }
        case .taskStarted(let job, let id, _): tasksStarted.insert(TaskKey(job: job, task: id))
        case .taskAccepted(let job, let id, let p):
            providers[p, default: .init(name: p)].tasksAccepted += 1
            acceptances[TaskKey(job: job, task: id), default: 0] += 1
        case .taskRejected(let job, let id, let p, _, let retry):
            providers[p, default: .init(name: p)].failures += 1
            if !retry { tasksGivenUp.insert(TaskKey(job: job, task: id)) }
        case .taskCancelled(let job, let id, _): tasksGivenUp.insert(TaskKey(job: job, task: id))
        case .commandFailed(let p, _, _), .activityCreateFailed(let p, _):
            providers[p, default: .init(name: p)].failures += 1
        case .invoiceAccepted(let p, _, let amount): providers[p, default: .init(name: p)].cost += amount
        case .unpaidAgreement: unpaidAgreements += 1
        case .serviceStateChanged(_, let from, let to):
            if to == .running && from == .starting { instancesRunning += 1 }
            if to == .pending && from == .terminated { respawns += 1 }
        default: break
        }
    }

    public var totalCost: Decimal { providers.values.reduce(0) { $0 + $1.cost } }

    public var description: String {
        var lines = ["provider                 tasks  failures  cost (GLM)"]
        for p in providers.values.sorted(by: { $0.name < $1.name }) {
            lines.append("\(p.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(p.tasksAccepted).leftPad(5))  \(String(p.failures).leftPad(8))  \(NSDecimalNumber(decimal: p.cost).stringValue)")
        }
        lines.append("total cost: \(NSDecimalNumber(decimal: totalCost).stringValue) GLM" + (unpaidAgreements > 0 ? ", \(unpaidAgreements) agreement(s) left unpaid" : ""))
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}
