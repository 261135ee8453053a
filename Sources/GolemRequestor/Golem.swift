public import YagnaAPI
public import GolemTime
import Foundation
public import Logging

/// The requestor engine: one allocation for the budget, market negotiation, agreements,
/// activities, the task model, payments and the event stream.
///
/// Design note: the engine is scoped. `withGolem` creates the allocation, runs your code and
/// then always cleans up, on success, error and cancellation alike: agreements terminated,
/// activities destroyed, due invoices awaited (for a bounded time) and accepted, demands
/// unsubscribed and the allocation released. Time comes from the injected clock, so the same
/// code runs in real time against a daemon and in virtual time against the simulator.
///
/// ```swift
/// try await Golem.withGolem(transport: transport, configuration: .init(budget: 1)) { golem in
///     let results = try await golem.executeTasks(["a", "b"], payload: .image(tag: "golem/alpine:latest")) { ctx, task in
///         let script = ctx.newScript()
///         let out = script.run("/bin/sh", "-c", "echo \(task.data)")
///         try await ctx.execute(script)
///         return try await out.value.stdout ?? ""
///     }
///     print(results.map(\.value))
/// }
/// ```
public actor Golem {
    public nonisolated let yagna: YagnaClient
    public nonisolated let configuration: GolemConfiguration
    public nonisolated let clock: any GolemClock
    nonisolated let storage: (any FileStorage)?
    nonisolated let logger: Logger

    public private(set) var allocation: Allocation?
    var identity: String?
    var decoration = DemandDecoration(properties: [], constraints: [])
    var subscriptions: [String] = []
    /// Agreements this engine made and what payments decide about them (sans I/O).
    var payments: PaymentPolicy
    /// Moves when an invoice is accepted (the shutdown waits on it).
    nonisolated let invoiceSettled = ChangeSignal()
    var activities: Set<String> = []
    var networks: [GolemNetwork] = []
    var streams: [AsyncStream<GolemEvent>.Continuation] = []
    var jobCount = 0
    var streamsFinished = false
    /// Multi-activity agreements a finished job left open, for the next job with the same
    /// payload; terminated at shutdown.
    var parked: [ParkedAgreement] = []
    public private(set) var summary = RunSummary()
    /// The most recent events (at most `configuration.eventBufferLimit`), oldest first.
    public var events: ArraySlice<GolemEvent> { eventLog.suffix(max(1, configuration.eventBufferLimit)) }
    var eventLog: [GolemEvent] = []
    var paymentsStopped = false

    struct ParkedAgreement {
        var id: String
        var draft: Draft
        var payloadKey: String
    }

    func park(_ id: String, draft: Draft, payloadKey: String) { parked.append(ParkedAgreement(id: id, draft: draft, payloadKey: payloadKey)) }

    func takeParked(payloadKey: String) -> ParkedAgreement? {
        guard let i = parked.firstIndex(where: { $0.payloadKey == payloadKey }) else { return nil }
        return parked.remove(at: i)
    }

    /// Takes out a parked agreement with `providerId` that a job with payload `reusable` could
    /// not reuse (any, when `nil`).
    func takeParked(provider providerId: String, unless reusable: String?) -> ParkedAgreement? {
        guard let i = parked.firstIndex(where: { $0.draft.proposal.issuerId == providerId && $0.payloadKey != reusable }) else { return nil }
        return parked.remove(at: i)
    }

    init(yagna: YagnaClient, configuration: GolemConfiguration, clock: any GolemClock, storage: (any FileStorage)?, logger: Logger) {
        self.yagna = yagna
        self.configuration = configuration
        self.clock = clock
        self.storage = storage
        self.logger = logger
        payments = PaymentPolicy(budget: configuration.budget)
    }

    /// Runs `body` with an engine and cleans up afterwards, whatever happens: when `body`
    /// returns, throws, or is cancelled (a signal through `GracefulShutdown`, a timeout), the
    /// cleanup — agreements ended, invoices waited for and accepted, the allocation released,
    /// networks removed — runs shielded from that cancellation and bounded in time
    /// (`invoiceWait` plus `cleanupLimit`), so its requests reach the daemon.
    public static func withGolem<R: Sendable>(
        transport: any Transport, configuration: GolemConfiguration, clock: any GolemClock = SystemClock(),
        storage: (any FileStorage)? = nil, logger: Logger = Logger(label: "golem"),
        _ body: @Sendable (Golem) async throws -> R
    ) async throws -> R {
        let golem = Golem(yagna: YagnaClient(transport: transport), configuration: configuration, clock: clock, storage: storage, logger: logger)
        try await golem.start()
        // The payment loop lives until shutdown stops it, whatever cancels `body`: invoices for
        // work done are accepted during a graceful shutdown too.
        let payments = Task(executorPreference: clock.taskExecutor) { try? await golem.paymentLoop() }
        let result: Result<R, any Error>
        do { result = .success(try await body(golem)) } catch { result = .failure(error) }
        let limit = configuration.invoiceWait + configuration.cleanupLimit
        if await clock.shielded(limit: limit, { await golem.shutdown() }) == nil {
            logger.warning("shutdown did not finish within \(limit); \(GolemLedger.shared.summary)")
        }
        await golem.stopPayments()
        payments.cancel()
        _ = await payments.value
        if await clock.shielded(limit: configuration.cleanupLimit, { await golem.release() }) == nil {
            logger.warning("releasing the allocation did not finish within \(configuration.cleanupLimit)")
        }
        await golem.finishStreams()
        return try result.get()
    }

    func stopPayments() { paymentsStopped = true }

    /// Every event from now on, as an `AsyncSequence`; it finishes when `withGolem` ends. A
    /// consumer that falls more than `configuration.eventBufferLimit` events behind loses the
    /// oldest of those it has not read.
    ///
    /// ```swift
    /// let events = await golem.eventStream()
    /// async let log: Void = { for await event in events { print(event) } }()
    /// ```
    public func eventStream() -> AsyncStream<GolemEvent> {
        let (stream, continuation) = AsyncStream<GolemEvent>.makeStream(bufferingPolicy: .bufferingNewest(max(1, configuration.eventBufferLimit)))
        if streamsFinished {
            continuation.finish()
        } else {
            streams.append(continuation)
        }
        return stream
    }

    func finishStreams() {
        streamsFinished = true
        for s in streams { s.finish() }
        streams.removeAll()
    }

    func emit(_ event: GolemEvent) {
        for s in streams { s.yield(event) }
        eventLog.append(event)
        // Trimmed in steps, so keeping the newest costs O(1) per event on average.
        if eventLog.count >= 2 * max(1, configuration.eventBufferLimit) { eventLog.removeFirst(eventLog.count - max(1, configuration.eventBufferLimit)) }
        summary.record(event)
        configuration.onEvent?(event)
        logger.debug("\(event)")
    }

    // MARK: - Start and stop

    func start() async throws {
        do { identity = try await yagna.identity.me().identity } catch let e as YagnaError where e.code == .notFound { identity = nil }
        var new = NewAllocation(
            totalAmount: configuration.budget, address: identity, paymentPlatform: .name(configuration.paymentPlatform),
            timeout: WireTimestamp(clock.now.addingTimeInterval(10 * 365 * 86400)), makeDeposit: false)
        new.unknownFields = UnknownFields(["allocationId": "", "spentAmount": "", "remainingAmount": "", "timestamp": .string(WireTimestamp(clock.now).text)])
        let allocation = try await yagna.payment.createAllocation(new)
        self.allocation = allocation
        GolemLedger.shared.open(.allocation, allocation.allocationId)
        emit(.allocationCreated(id: allocation.allocationId, amount: allocation.totalAmount))
        do {
            decoration = try await yagna.payment.demandDecorations(allocationIds: [allocation.allocationId])
        } catch {
            await release()
            throw error
        }
    }

    /// Waits a bounded time for invoices of ended agreements, then stops the payment loop.
    func shutdown() async {
        for id in subscriptions { try? await yagna.market.unsubscribe(id) }
        subscriptions.removeAll()
        let open = parked
        parked.removeAll()
        for p in open { await endAgreement(p.id, provider: p.draft.name, success: true) }
        let deadline = clock.now.adding(configuration.invoiceWait)
        // Woken by each accepted invoice, not polled.
        while clock.now < deadline, payments.awaitingInvoices, !Task.isCancelled {
            await invoiceSettled.wait(after: invoiceSettled.generation, until: deadline, clock: clock)
        }
        for (id, provider) in payments.unpaid {
            emit(.unpaidAgreement(provider: provider, agreementId: id))
        }
        paymentsStopped = true
    }

    func release() async {
        await removeNetworks()
        guard let allocation else { return }
        do {
            try await yagna.payment.releaseAllocation(allocation.allocationId)
            GolemLedger.shared.close(.allocation, allocation.allocationId)
            emit(.allocationReleased(id: allocation.allocationId))
        } catch {
            logger.warning("could not release allocation \(allocation.allocationId): \(error)")
        }
        self.allocation = nil
    }

    // MARK: - Demand

    /// Builds and subscribes the demand for a payload.
    func subscribe(_ payload: VMPayload, expiration: Duration) async throws -> (id: String, body: DemandBody) {
        let (payloadProperties, payloadConstraints) = try await payload.demand(registry: yagna.registry)
        var properties: Properties = [
            "golem.srv.comp.expiration": .int(Int(clock.now.adding(expiration).timeIntervalSince1970 * 1000)),
            "golem.srv.caps.multi-activity": true,
            "golem.node.debug.subnet": .string(configuration.subnet),
        ]
        for p in decoration.properties { properties[p.key] = .string(p.value) }
        for (k, v) in payloadProperties { properties[k] = v }
        let constraints = ["(golem.node.debug.subnet=\(configuration.subnet))"] + decoration.constraints + ["(golem.com.pricing.model=linear)"] + payloadConstraints
        let body = DemandBody(properties: properties, constraints: "(&" + constraints.joined(separator: "\n\t") + ")")
        let id = try await yagna.market.subscribe(body)
        subscriptions.append(id)
        emit(.demandSubscribed(id: id))
        return (id, body)
    }

    func unsubscribe(_ id: String) async {
        // A cancelled negotiation leaves the subscription to `shutdown`, whose request is not
        // cancelled before it reaches the daemon.
        guard subscriptions.contains(id), !Task.isCancelled else { return }
        subscriptions.removeAll { $0 == id }
        try? await yagna.market.unsubscribe(id)
    }

    func register(agreement id: String, provider: String, providerId: String, debitNoteInterval: Double? = nil) {
        payments.register(agreement: id, provider: provider, providerId: providerId, debitNoteInterval: debitNoteInterval)
        GolemLedger.shared.open(.agreement, id)
    }

    func markTerminated(_ id: String) {
        payments.markTerminated(id)
        GolemLedger.shared.close(.agreement, id)
    }

    func track(activity id: String) {
        activities.insert(id)
        GolemLedger.shared.open(.activity, id)
    }

    func untrack(activity id: String) {
        activities.remove(id)
        GolemLedger.shared.close(.activity, id)
    }
}
