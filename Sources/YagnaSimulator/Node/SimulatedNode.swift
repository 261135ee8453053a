public import Foundation
public import YagnaAPI
public import GolemTime

/// The simulated yagna node: drives a `NodeCore` on an injected clock, keeps long polls open,
/// streams batch results, applies the daemon's faults, and journals every exchange.
///
/// Both front ends use it: `InProcessTransport` (no sockets, for virtual-time runs) and the
/// HTTP server of `SimulatorServer`.
///
/// The node is a class guarded by a lock, not an actor: a request runs on its caller's task
/// and holds the lock only while it reads or changes the node, never across a wait (a long
/// poll, a stream's next frame, a delay). In a `Simulation` this saves the two executor hops an
/// actor costs per request (into the actor and back: half the async jobs of an exchange); under
/// `serve` requests from many threads take turns at the lock as they took turns on the actor.
public final class SimulatedNode: @unchecked Sendable {
    /// The answer to a request.
    public enum Reply: Sendable {
        case response(YagnaResponse)
        case stream(AsyncThrowingStream<ServerSentEvent, any Error>)
        /// Close the connection without answering.
        case drop
    }

    /// Guards every `var` below. Never held across a suspension, and nothing called under it
    /// calls back into the node.
    private let lock = NSLock()
    private var core: NodeCore
    public let clock: any GolemClock
    public let appKey: String
    public let scenario: Scenario
    public let seed: UInt64
    /// Wakes the streams waiting for their next frame.
    let notifier = ChangeSignal()
    /// The long polls waiting for an answer.
    let parked = ParkedPolls()
    let start: Date
    private var entries: JournalStore
    private var faultRandom: SeededRandom
    private var faultCounts: [Int: Int] = [:]
    /// While the daemon is restarting, nothing answers.
    private var downUntil: Date?
    private var restarts = 0
    /// Judges the requestor against a recorded session, when replaying one.
    private var referee: ReplayReferee?
    /// Told of every exchange once it is complete (`serve --journal` commits it then).
    private var observer: (@Sendable (JournalEntry) -> Void)?
    /// `GOLEM_SIM_TRACE` set: every request is logged on stderr with its virtual time.
    let traceRequests = ProcessInfo.processInfo.environment["GOLEM_SIM_TRACE"] != nil

    /// - Parameter retainJournal: keep every exchange in memory for `journal` (runs, tests,
    ///   checks at the end). `serve` passes `false`: a completed exchange goes to the observer
    ///   (the `--journal` file) and is then forgotten, so a node left running for days under a
    ///   polling app does not grow with every request.
    public init(scenario: Scenario, seed: UInt64, clock: any GolemClock, appKey: String, files: any FileExchange, retainJournal: Bool = true) {
        self.entries = JournalStore(retain: retainJournal)
        self.core = NodeCore(scenario: scenario, seed: seed, appKey: appKey, files: files)
        self.clock = clock
        self.appKey = appKey
        self.scenario = scenario
        self.seed = seed
        self.start = clock.now
        self.faultRandom = SeededRandom(seed: seed).derived("daemon")
        if let system = clock as? SystemClock, system.speed != 1 { core.clientClock = (system.origin, system.speed) }
    }

    /// Runs `body` holding the node's lock.
    @inline(__always)
    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Calls `observer` with every exchange once it is complete: answered, dropped, or for a
    /// streamed answer, once its last frame is sent. It is called with the node locked: it must
    /// not call the node.
    public func observeExchanges(_ observer: @escaping @Sendable (JournalEntry) -> Void) {
        locked { self.observer = observer }
    }

    /// Replays a recorded session: every request is judged by `referee` before it is served.
    public func enableReplay(_ referee: ReplayReferee) {
        locked {
            self.referee = referee
            // About as many exchanges as the recording had: room for them at once.
            entries.reserve(referee.recordedExchanges + referee.recordedExchanges / 8)
        }
    }

    /// The replay's referee (its divergences and unperformed operations), when replaying.
    public var replay: ReplayReferee? { locked { referee } }

    /// Completes exchange `index` (the lock held).
    private func completed(_ index: Int) {
        guard let entry = entries.complete(index) else { return }
        if referee != nil {
            if let judged = entry.judged { referee!.observe(entry, match: judged.match) } else { referee!.observe(entry) }
        }
        observer?(entry)
    }

    /// Completes a streamed exchange whose client went away before its last frame.
    func completeDropped(_ index: Int) {
        locked { completed(index) }
    }

    /// When the node's clock started: offsets in the journal count from here.
    public var startDate: Date { start }

    /// Every exchange served so far, in order (empty when the node does not retain its journal).
    public var journal: [JournalEntry] { locked { entries.retained } }

    /// How many exchanges the node has served or is serving.
    public var exchangeCount: Int { locked { entries.count } }

    /// A snapshot of the node's state, for checks and invariants.
    public var state: NodeSnapshot { locked { NodeSnapshot(core) } }

    func offset(_ date: Date) -> Int64 { start.duration(to: date).totalNanoseconds }

    /// The tunnel a request opens (see `NodeCore.tunnelTarget`), journalled as a 101 exchange;
    /// `nil` when the request is to be served as an ordinary one.
    public func openTunnel(_ request: NodeRequest) -> TunnelTarget? {
        locked {
            guard downUntil.map({ clock.now >= $0 }) ?? true else { return nil }
            core.advance(to: clock.now)
            guard let target = core.tunnelTarget(request) else { return nil }
            let now = offset(clock.now)
            let index = entries.append(JournalEntry(
                sequence: entries.count, startOffset: now, endOffset: now, method: request.method.rawValue,
                target: request.target, request: request.content, status: 101, response: MessageBody(), frames: []))
            completed(index)
            return target
        }
    }

    /// The answer of a tunnel's HTTP service to one request, at the node's current time.
    public func tunnelAnswer(_ request: TunnelHTTPRequest, _ target: TunnelTarget) -> [UInt8] {
        locked {
            core.advance(to: clock.now)
            let answer = core.tunnelAnswer(request, target, now: clock.now)
            changed()
            return answer
        }
    }

    /// What a request does once it is journalled and judged.
    private enum Admission {
        case reply(Reply)
        /// Served after the daemon's delay (a fault's, then the scenario's latency).
        case serve(delay: Duration?)
    }

    /// Serves one request. It runs on the caller's task; it suspends only to wait (a delay, a
    /// long poll, a stream's frames).
    public func handle(_ request: NodeRequest) async -> Reply {
        // Without a delay a request is journalled, served and answered in one turn at the lock,
        // as one turn of the actor did: under `serve` no other request comes between its place
        // in the journal and its effect, or between its effect and its answer.
        let latency = scenario.daemon.latency
        var step: Step = locked {
            let (index, admission) = admit(request)
            switch admission {
            case .reply(let reply): return .done(reply)
            case .serve(nil) where latency <= .zero: return serve(index, request)
            case .serve(let delay): return .delayed(index, delay)
            }
        }
        if case .delayed(let index, let delay) = step {
            if let delay { try? await clock.sleep(for: delay) }
            if latency > .zero { try? await clock.sleep(for: latency) }
            step = locked { serve(index, request) }
        }
        switch step {
        case .done(let reply): return reply
        case .waiting(let index, let poll, let deadline, let restartsAtStart):
            return await wait(index, poll, until: deadline, restartsAtStart: restartsAtStart)
        case .delayed: preconditionFailure("a delayed request is served above")
        }
    }

    /// Where a request stands after a turn at the lock.
    private enum Step {
        case done(Reply)
        /// Admitted; to be served after the daemon's delay.
        case delayed(Int, Duration?)
        /// A long poll with nothing to answer yet (and the restarts counted when it was served).
        case waiting(Int, Poll, Date, restartsAtStart: Int)
    }

    /// Serves admitted request `index` (the lock held): its answer, or the long poll to wait.
    private func serve(_ index: Int, _ request: NodeRequest) -> Step {
        if traceRequests { FileHandle.standardError.write(Data("\(offset(clock.now) / 1_000_000)ms \(request.method.rawValue) \(request.target)\n".utf8)) }
        let outcome = core.handle(request, now: clock.now)
        changed()
        switch outcome {
        case .respond(let r): return .done(finish(index, .response(r)))
        case .drop: return .done(finish(index, .drop))
        case .wait(let poll, let deadline): return .waiting(index, poll, deadline, restartsAtStart: restarts)
        case .stream(let activityId, let batchId):
            entries.update(index) { $0.status = 200 }
            let cursor = StreamCursor(node: self, entry: index, activityId: activityId, batchId: batchId, completeWhenDropped: !entries.retain)
            return .done(.stream(AsyncThrowingStream { try await cursor.next() }))
        }
    }

    /// Journals a request, judges it (replay) and applies the daemon's faults (the lock held).
    private func admit(_ request: NodeRequest) -> (Int, Admission) {
        let started = clock.now
        // The journal does not keep a typed client's value (a deferred body's `make` may still
        // hold it until its bytes are first read).
        var content = request.content
        content.typed = nil
        let index = entries.append(JournalEntry(
            sequence: entries.count, startOffset: offset(started), endOffset: offset(started), method: request.method.rawValue,
            path: request.path, query: request.query, request: content, status: 0, response: MessageBody(), frames: []))
        if let downUntil, clock.now < downUntil { return (index, .reply(finish(index, .drop))) }
        if referee != nil {
            let (divergence, match) = referee!.judge(request, sequence: index, offset: offset(started))
            entries.update(index) { $0.judged = JournalEntry.Judged(match: match) }
            if let divergence { return (index, .reply(finish(index, .response(divergence)))) }
        }
        guard let fault = daemonFault(for: request) else { return (index, .serve(delay: nil)) }
        let reply: Reply
        switch fault.kind {
        case .restart:
            downUntil = clock.now.adding(fault.duration)
            restarts += 1
            parked.wakeAll()
            notifier.notify()
            reply = .drop
        case .delay: return (index, .serve(delay: fault.duration))
        case .gsbError: reply = .response(NodeCore.message(500, "GSB error: GSB failure: Bad request: endpoint address not found"))
        case .timeout: reply = .response(NodeCore.message(408, "Timeout"))
        case .gatewayTimeout: reply = .response(NodeCore.message(504, "Timeout waiting for acknowledgement"))
        case .dropConnection: reply = .drop
        }
        return (index, .reply(finish(index, reply)))
    }

    /// Keeps a long poll open until it can be answered, its deadline comes, the daemon restarts
    /// or its task is cancelled.
    private func wait(_ index: Int, _ poll: Poll, until deadline: Date, restartsAtStart: Int) async -> Reply {
        while true {
            // Looked at with the node locked: a change after this sends the parked poll round
            // again (see `ParkedPolls.wait`), so none is missed between the look and the wait.
            enum Look { case done(Reply), park(wake: Date, round: Int) }
            let look: Look = locked {
                // A restart since the poll was served (under `serve`, between two turns at the
                // lock) drops it, as its wake-up would have.
                if restarts != restartsAtStart { return .done(finish(index, .drop)) }
                let now = clock.now
                let final = now >= deadline
                if let r = core.retry(poll, now: now, final: final) {
                    changed()
                    return .done(finish(index, .response(r)))
                }
                let wake = reading { min(deadline, $0.nextScheduledTime ?? deadline, $0.nextChange(of: poll, after: now) ?? deadline) }
                return .park(wake: max(wake, now), round: parked.round)
            }
            switch look {
            case .done(let reply): return reply
            case .park(let wake, let round):
                if let r = await parked.wait(poll, until: wake, clock: clock, after: round) {
                    // Answered by `changed()`, which already told the others.
                    return locked { finish(index, .response(r)) }
                }
            }
            // Woken without an answer: its timer, a restart (the next look drops it) or cancellation.
            if Task.isCancelled { return locked { finish(index, .drop) } }
        }
    }

    /// After the node's state changed (the lock held): answers every parked long poll that can
    /// now be answered, in the order they parked (each answer may change what the others see,
    /// so the round is repeated until nothing more answers), then wakes the streams. A poll that
    /// cannot be answered stays parked without running: no task switch for the polls a request
    /// does not concern.
    private func changed() {
        let now = clock.now
        let woken = parked.answer { poll, wake in core.probe(poll, now: now, wake: wake) }
        for (continuation, response) in woken { continuation.resume(returning: response) }
        notifier.notify()
    }

    /// Reads the node's state in place: an `inout` access does not copy the struct (a copy is a
    /// retain of every table, measurable on every long poll).
    private func reading<T>(_ read: (inout NodeCore) -> T) -> T { read(&core) }

    /// Ends exchange `index` with `reply` (the lock held).
    private func finish(_ index: Int, _ reply: Reply) -> Reply {
        let end = offset(clock.now)
        entries.update(index) { entry in
            entry.endOffset = end
            switch reply {
            case .response(let r):
                entry.status = r.status
                // The typed answer stays until the exchange completes (the referee may take it);
                // the retained journal then keeps only the value and its bytes.
                entry.response = r.content
            case .drop: entry.status = -1
            case .stream: entry.status = 200
            }
        }
        if case .stream = reply { return reply }
        completed(index)
        return reply
    }

    /// The next frame of a streamed batch (`nil` once the batch is finished).
    func frame(activityId: String, batchId: String, after count: Int, entry: Int) async -> ServerSentEvent? {
        while true {
            enum Look { case frame(ServerSentEvent), finished, wait(generation: Int, until: Date) }
            let look: Look = locked {
                core.advance(to: clock.now)
                let now = clock.now
                let (frames, next, finished) = reading { $0.frames(activityId, batchId, from: count, limit: 1, now: now) }
                if let event = frames.first {
                    let data = JSONWriter.string(JSONValue(event))
                    let sse = ServerSentEvent(event: "runtime", data: data, id: String(count + 1))
                    let at = offset(now)
                    entries.update(entry) { e in
                        e.frames.append((at, sse))
                        e.endOffset = at
                    }
                    return .frame(sse)
                }
                if finished {
                    completed(entry)
                    return .finished
                }
                return .wait(generation: notifier.generation, until: next ?? now.addingTimeInterval(15))
            }
            switch look {
            case .frame(let sse): return sse
            case .finished: return nil
            case .wait(let generation, let wake):
                await notifier.wait(after: generation, until: wake, clock: clock)
                if Task.isCancelled {
                    locked { completed(entry) }
                    return nil
                }
            }
        }
    }

    /// The daemon fault that strikes `request`, if any (the lock held).
    private func daemonFault(for request: NodeRequest) -> DaemonFault? {
        if scenario.daemon.faults.isEmpty { return nil }
        let line = "\(request.method.rawValue) \(request.path)"
        for (i, fault) in scenario.daemon.faults.enumerated() {
            guard fault.match == "*" || line.contains(fault.match) else { continue }
            if let times = fault.times, faultCounts[i, default: 0] >= times { continue }
            guard fault.trigger.probability >= 1 || faultRandom.chance(fault.trigger.probability) else { continue }
            faultCounts[i, default: 0] += 1
            return fault
        }
        return nil
    }
}

extension NodeCore {
    /// What a change means for a poll parked until `wake`: its answer, if it has one now; a
    /// wake-up if the change scheduled something sooner than its timer (a provider's answer to
    /// a counter-proposal), so that it sets its timer again; otherwise it stays parked.
    mutating func probe(_ poll: Poll, now: Date, wake: Date) -> ParkedPolls.Probe {
        if let r = retry(poll, now: now, final: false) { return .answer(r) }
        if let next = nextScheduledTime, next < wake { return .wake }
        if let next = nextChange(of: poll, after: now), next < wake { return .wake }
        return .keep
    }
}

/// The node's long polls waiting for something to answer them, in the order they parked. A poll
/// leaves when `answer` finds it an answer, when its timer fires (the caller then looks again
/// itself: its deadline or a scheduled change came), on `wakeAll` or when its task is cancelled.
final class ParkedPolls: Sendable {
    struct Parked {
        let id: Int
        let poll: Poll
        /// When its timer wakes it.
        let wake: Date
        let continuation: CheckedContinuation<YagnaResponse?, Never>
    }
    /// What a change means for a parked poll.
    enum Probe {
        /// Its answer: the poll leaves with it.
        case answer(YagnaResponse)
        /// It leaves without an answer, to look again and set a sooner timer.
        case wake
        /// It stays parked.
        case keep
    }
    private struct State {
        var nextId = 0
        var list: [Parked] = []
        /// Rounds of `answer` and `wakeAll` so far.
        var round = 0
    }
    private let state = Mutex(State())

    /// How many times the node looked at its parked polls after a change (or woke them all).
    var round: Int { state.withLock { $0.round } }

    /// Parks `poll` until `answer` answers it (its response is returned) or until `deadline` on
    /// `clock`, cancellation or `wakeAll` (`nil`). `round` is the `round` the caller read when it
    /// last looked at the node: if a change came since, the poll is not parked and `nil` comes
    /// back at once, so that the caller looks again.
    func wait(_ poll: Poll, until deadline: Date, clock: any GolemClock, after round: Int) async -> YagnaResponse? {
        let id = state.withLock { s -> Int in
            s.nextId += 1
            return s.nextId
        }
        let timer = WaitTimer()
        let response = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<YagnaResponse?, Never>) in
                // Checked under the lock the cancellation handler takes: a cancellation either
                // comes first and is seen here, or finds the poll parked and takes it out.
                let parked = state.withLock { s -> Bool in
                    if Task.isCancelled || s.round != round { return false }
                    s.list.append(Parked(id: id, poll: poll, wake: deadline, continuation: c))
                    return true
                }
                guard parked else { c.resume(returning: nil); return }
                timer.set(clock.schedule(at: deadline) { [self] in self.remove(id)?.resume(returning: nil) })
            }
        } onCancel: {
            remove(id)?.resume(returning: nil)
        }
        timer.finish()
        return response
    }

    private func remove(_ id: Int) -> CheckedContinuation<YagnaResponse?, Never>? {
        state.withLock { s in
            guard let i = s.list.firstIndex(where: { $0.id == id }) else { return nil }
            return s.list.remove(at: i).continuation
        }
    }

    /// Runs `probe` on each parked poll (and its wake-up time) in order; those it answers or
    /// wakes leave (the caller resumes them, with the answer or `nil`). After an answer the round
    /// starts again from the first poll. The polls stay locked meanwhile, so a timer or a
    /// cancellation cannot take one mid-round.
    func answer(_ probe: (Poll, Date) -> Probe) -> [(CheckedContinuation<YagnaResponse?, Never>, YagnaResponse?)] {
        state.withLock { s in
            s.round += 1
            var out: [(CheckedContinuation<YagnaResponse?, Never>, YagnaResponse?)] = []
            var i = 0
            while i < s.list.count {
                switch probe(s.list[i].poll, s.list[i].wake) {
                case .answer(let response):
                    out.append((s.list.remove(at: i).continuation, response))
                    i = 0
                case .wake: out.append((s.list.remove(at: i).continuation, nil))
                case .keep: i += 1
                }
            }
            return out
        }
    }

    /// Wakes every parked poll without an answer (the daemon restarted).
    func wakeAll() {
        let all = state.withLock { s in
            s.round += 1
            defer { s.list.removeAll() }
            return s.list
        }
        for p in all { p.continuation.resume(returning: nil) }
    }
}

/// Pulls a batch's frames one by one for a streamed answer.
final class StreamCursor: Sendable {
    let node: SimulatedNode
    let entry: Int
    let activityId: String
    let batchId: String
    private let count = Mutex2(0)

    /// Complete the exchange when the stream is dropped unfinished (a client that went away
    /// mid-batch): only where nothing else would (`serve`, which keeps just the exchanges in
    /// flight). Done in place: the node is never locked while a stream is let go.
    let completeWhenDropped: Bool

    init(node: SimulatedNode, entry: Int, activityId: String, batchId: String, completeWhenDropped: Bool) {
        self.node = node
        self.entry = entry
        self.activityId = activityId
        self.batchId = batchId
        self.completeWhenDropped = completeWhenDropped
    }

    deinit {
        guard completeWhenDropped else { return }
        node.completeDropped(entry)
    }

    func next() async throws -> ServerSentEvent? {
        let n = count.value
        guard let frame = await node.frame(activityId: activityId, batchId: batchId, after: n, entry: entry) else { return nil }
        count.value = n + 1
        return frame
    }
}

import Synchronization

/// A tiny lock-protected box.
final class Mutex2<Value: Sendable>: Sendable {
    private let m: Mutex<Value>
    init(_ v: Value) { m = Mutex(v) }
    var value: Value {
        get { m.withLock { $0 } }
        set { m.withLock { $0 = newValue } }
    }
}

/// The node's journal: every exchange (retained), or only those still being served (the rest
/// went to the observer once complete).
struct JournalStore: Sendable {
    let retain: Bool
    private(set) var retained: [JournalEntry] = []
    private var open: [Int: JournalEntry] = [:]
    /// Exchanges so far; the next one's sequence.
    private(set) var count = 0
    /// Whether each retained exchange is complete, by index.
    private var completedRetained: [Bool] = []

    init(retain: Bool) { self.retain = retain }

    /// Makes room for `count` retained exchanges (a journal grown one by one moves its
    /// entries each time it doubles).
    mutating func reserve(_ count: Int) {
        guard retain else { return }
        retained.reserveCapacity(count)
        completedRetained.reserveCapacity(count)
    }

    /// Adds an exchange being served; its sequence is its index.
    mutating func append(_ entry: JournalEntry) -> Int {
        if retain {
            retained.append(entry)
            completedRetained.append(false)
        } else {
            open[count] = entry
        }
        count += 1
        return count - 1
    }

    /// Changes an exchange still being served (one already complete stays as it was observed).
    mutating func update(_ index: Int, _ change: (inout JournalEntry) -> Void) {
        if retain {
            if !completedRetained[index] { change(&retained[index]) }
        } else if open[index] != nil {
            change(&open[index]!)
        }
    }

    /// The exchange, once, when it completes (`nil` if it already did).
    mutating func complete(_ index: Int) -> JournalEntry? {
        if retain {
            guard !completedRetained[index] else { return nil }
            completedRetained[index] = true
            let entry = retained[index]
            // The referee's match and the typed answer served the exchange's completion; the
            // journal does not keep them (a deferred answer's `make` holds its value until the
            // bytes are first read).
            if entry.judged != nil { retained[index].judged = nil }
            if entry.response.typed != nil { retained[index].response.typed = nil }
            return entry
        }
        return open.removeValue(forKey: index)
    }
}
