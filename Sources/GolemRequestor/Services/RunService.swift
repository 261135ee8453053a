import YagnaAPI
import GolemTime
import Foundation
import Logging

/// How `runService` runs and watches instances.
public struct ServiceOptions: Sendable {
    /// Start an instance again on another provider when it fails before reaching running.
    public var respawnUnstartedInstances = true
    /// The most respawns per instance.
    public var maxRespawns = 3
    /// Also restart an instance that failed after running, when this says so.
    public var restartCondition: (@Sendable (Cluster.Instance) -> Bool)?
    /// How often the activity's state is checked.
    public var healthCheckInterval: Duration = .seconds(10)
    /// How long an unresponsive instance may stay silent before it is terminated.
    public var unresponsiveGrace: Duration = .seconds(60)
    /// When every instance stops (measured from `runService`).
    public var expiration: Duration = .seconds(180 * 60)
    /// A network (`Golem.createNetwork`) every instance joins: its provider is added to the
    /// network and the default `start` deploys with it (`ctx.network`).
    public var network: GolemNetwork?
    public init() {}
}

/// Why an instance's running phase ended.
enum RunEnd: Sendable {
    case runFinished
    case stopRequested
    case providerTerminated(String)
    case graceExpired
}

extension Golem {
    /// Runs `numInstances` instances of a service and hands the `Cluster` to `body`; when `body`
    /// returns, every instance is stopped (running ones run `shutdown`) and the call returns once
    /// all are terminated and their agreements ended.
    ///
    /// ```swift
    /// try await golem.runService(payload: image, numInstances: 2, make: { _ in Stats() }) { cluster in
    ///     try await golem.clock.sleep(for: .seconds(60))
    /// }
    /// ```
    public func runService<S: Service>(
        payload: VMPayload, numInstances: Int = 1, instanceParameters: [[String: String]] = [], options: ServiceOptions = .init(),
        make: @escaping @Sendable (InstanceContext) -> S, _ body: @escaping @Sendable (Cluster) async throws -> Void
    ) async throws -> [Cluster.Instance] {
        let (spawns, sink) = AsyncStream<InstanceContext>.makeStream()
        let cluster = Cluster(spawnSink: sink)
        let pool = OfferPool()
        let clock = self.clock
        let expiresAt = clock.now.adding(options.expiration)
        for i in 0..<numInstances { await cluster.spawn(1, parameters: i < instanceParameters.count ? instanceParameters[i] : [:]) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.negotiate(payload: payload, expiration: options.expiration, pool: pool) }
            group.addTask {
                // The caller's code, cut short at the expiration; then every instance stops and no
                // more are spawned.
                do {
                    try await withThrowingTaskGroup(of: Void.self) { race in
                        race.addTask { try await body(cluster) }
                        race.addTask { try await clock.sleep(until: expiresAt) }
                        try await race.next()
                        race.cancelAll()
                    }
                } catch {
                    await pool.close()
                    await cluster.stop()
                    await cluster.finishSpawning()
                    throw error
                }
                // The pool closes first: no offer is countered while the instances stop.
                await pool.close()
                await cluster.stop()
                await cluster.finishSpawning()
            }
            await withTaskGroup(of: Void.self) { instances in
                for await context in spawns {
                    instances.addTask { await self.runInstance(context, service: make(context), pool: pool, cluster: cluster, options: options) }
                }
                await instances.waitForAll()
            }
            await pool.close()
            try await group.next()
            group.cancelAll()
        }
        return await cluster.all
    }

    /// Hands a lifecycle event to the instance's state machine (in the cluster, the single
    /// authority over instance state) and reports the transition. A refused event is a race the
    /// rules settle (the watcher's "unresponsive" after a stop, say): logged, not applied.
    func transition(_ event: ServiceStateMachine.Event, _ index: Int, _ cluster: Cluster) async {
        switch await cluster.transition(index, event) {
        case .success(let (from, to)): emit(.serviceStateChanged(instance: index, from: from, to: to))
        case .failure(let refused): logger.debug("instance \(index): \(refused)")
        }
    }

    func runInstance<S: Service>(_ context: InstanceContext, service: S, pool: OfferPool, cluster: Cluster, options: ServiceOptions) async {
        var respawns = 0
        while true {
            if respawns > 0 {
                let from = await cluster.respawn(context.index, respawns: respawns)
                emit(.serviceStateChanged(instance: context.index, from: from, to: .pending))
            }
            // Wait for a provider, unless stopped first.
            guard !(await cluster.isStopRequested(context.index)), let draft = await pool.take() else {
                await transition(.stopRequested, context.index, cluster)
                return
            }
            var reachedRunning = false
            var providerFailed = false
            do {
                let agreementId = try await agree(draft)
                await cluster.update(context.index) { $0.providers.append(draft.name) }
                let (ran, failed) = await serve(draft: draft, agreementId: agreementId, context: context, service: service, cluster: cluster, options: options)
                reachedRunning = ran
                providerFailed = failed
            } catch {
                providerFailed = true
            }
            await pool.release(draft.proposal.issuerId, failed: providerFailed)
            if await cluster.state(of: context.index) != .terminated { await transition(.providerTerminated, context.index, cluster) }
            let instance = await cluster.all.first { $0.index == context.index }
            let stopped = await cluster.isStopRequested(context.index)
            let respawnUnstarted = !reachedRunning && options.respawnUnstartedInstances
            let restart = reachedRunning && providerFailed && (instance.map { options.restartCondition?($0) ?? false } ?? false)
            guard !stopped, respawnUnstarted || restart, respawns < options.maxRespawns else { return }
            respawns += 1
        }
    }

    /// Runs one instance on one agreement. Returns whether it reached running and whether the
    /// provider failed it.
    func serve<S: Service>(
        draft: Draft, agreementId: String, context: InstanceContext, service: S, cluster: Cluster, options: ServiceOptions
    ) async -> (reachedRunning: Bool, providerFailed: Bool) {
        let index = context.index
        let activityId: String
        do {
            activityId = try await yagna.activity.create(.legacy(agreementId: agreementId))
        } catch {
            emit(.activityCreateFailed(provider: draft.name, reason: "\(error)"))
            await endAgreement(agreementId, provider: draft.name, success: false)
            await transition(.activityObtained, index, cluster)
            await transition(.startFailed, index, cluster)
            return (false, true)
        }
        track(activity: activityId)
        emit(.activityCreated(provider: draft.name, activityId: activityId))
        var ctx = WorkContext(activityId: activityId, agreementId: agreementId, provider: draft.name, providerId: draft.proposal.issuerId, offer: draft.proposal.properties, golem: self)
        await transition(.activityObtained, index, cluster)
        var reachedRunning = false
        var providerFailed = false
        var providerEnded = false
        do {
            if let network = options.network {
                let ip = try await network.addNode(draft.proposal.issuerId)
                ctx.network = NetworkMembership(networkId: network.id, ip: ip, deploy: await network.deployArguments(nodeIp: ip))
                await cluster.update(index) { $0.networkAddress = ip }
            }
            try await service.start(ctx)
            await transition(.startSucceeded, index, cluster)
            reachedRunning = true
        } catch {
            await transition(.startFailed, index, cluster)
            providerFailed = true
        }
        if reachedRunning {
            let end = await runPhase(ctx, service: service, index: index, cluster: cluster, options: options)
            switch end {
            case .runFinished, .stopRequested:
                await transition(end.isStop ? .stopRequested : .runFinished, index, cluster)
                // Shielded: when the whole run was cancelled (a signal), shutdown still runs.
                let logger = self.logger
                let ctx = ctx
                let ran = await clock.shielded(limit: configuration.cleanupLimit) { () -> Bool in
                    do {
                        try await service.shutdown(ctx)
                        return true
                    } catch {
                        logger.info("instance \(index) shutdown: \(error)")
                        return false
                    }
                }
                if ran == true { await cluster.update(index) { $0.shutdownRan = true } }
                await transition(.shutdownFinished, index, cluster)
            case .providerTerminated:
                await transition(.providerTerminated, index, cluster)
                providerFailed = true
                providerEnded = true
            case .graceExpired:
                await transition(.graceExpired, index, cluster)
                providerFailed = true
            }
        }
        if providerEnded {
            // The provider ended the agreement: nothing to terminate, only to record.
            if let event = try? await yagna.market.terminationReason(agreementId) {
                emit(.agreementTerminated(provider: draft.name, agreementId: agreementId, byProvider: event.terminator == .provider, reason: event.reason?.message ?? ""))
            }
            markTerminated(agreementId)
            let yagna = self.yagna
            await clock.shielded(limit: configuration.cleanupLimit) { try? await yagna.activity.destroy(activityId) }
        } else {
            // yapapi's stop order: terminate the agreement before destroying the activity.
            // Shielded from a cancellation of the run, so that both reach the daemon.
            let yagna = self.yagna
            let success = !providerFailed
            await clock.shielded(limit: configuration.cleanupLimit) {
                await self.endAgreement(agreementId, provider: draft.name, success: success)
                try? await yagna.activity.destroy(activityId)
            }
        }
        untrack(activity: activityId)
        emit(.activityDestroyed(provider: draft.name, activityId: activityId))
        return (reachedRunning, providerFailed)
    }

    /// Runs the service's `run` phase while watching the agreement and the activity.
    func runPhase<S: Service>(
        _ ctx: WorkContext, service: S, index: Int, cluster: Cluster, options: ServiceOptions
    ) async -> RunEnd {
        let clock = self.clock
        let end: RunEnd = await withTaskGroup(of: RunEnd?.self) { group in
            group.addTask {
                do { try await service.run(ctx) } catch is CancellationError { return nil } catch {}
                return Task.isCancelled ? nil : .runFinished
            }
            group.addTask {
                do { try await cluster.waitForStop(index) } catch { return nil }
                return .stopRequested
            }
            group.addTask { await self.watchAgreement(ctx.agreementId) }
            group.addTask { await self.watchActivity(ctx, options: options, index: index, cluster: cluster) }
            var result: RunEnd = .runFinished
            while let next = await group.next() {
                if let next {
                    result = next
                    break
                }
            }
            group.cancelAll()
            return result
        }
        return end
    }

    /// Polls agreement events until this agreement is terminated by the provider.
    func watchAgreement(_ agreementId: String) async -> RunEnd? {
        var after = WireTimestamp(clock.now)
        while !Task.isCancelled {
            do {
                let events = try await yagna.market.agreementEvents(afterTimestamp: after, timeout: .seconds(5))
                for e in events {
                    after = e.eventDate
                    if e.agreementId == agreementId, e.eventType == .terminated, e.terminator == .provider {
                        return .providerTerminated(e.reason?.message ?? "terminated by the provider")
                    }
                }
            } catch {
                if Task.isCancelled { return nil }
                try? await clock.sleep(for: .seconds(1))
            }
        }
        return nil
    }

    /// Checks the activity's state every `healthCheckInterval`: Terminated ends the instance,
    /// silence or `Unresponsive` makes it unresponsive until it answers or the grace passes.
    func watchActivity(_ ctx: WorkContext, options: ServiceOptions, index: Int, cluster: Cluster) async -> RunEnd? {
        var silentSince: Date?
        while !Task.isCancelled {
            do { try await clock.sleep(for: options.healthCheckInterval) } catch { return nil }
            var responsive = true
            do {
                let state = try await yagna.activity.state(ctx.activityId)
                if state.current == .terminated { return .providerTerminated(state.reason ?? "activity terminated") }
                responsive = state.current != .unresponsive
            } catch {
                if Task.isCancelled { return nil }
                responsive = false
            }
            if responsive {
                if silentSince != nil {
                    silentSince = nil
                    await transition(.activityResponsive, index, cluster)
                }
            } else {
                if silentSince == nil {
                    silentSince = clock.now
                    await transition(.activityUnresponsive, index, cluster)
                } else if clock.now >= silentSince!.adding(options.unresponsiveGrace) {
                    return .graceExpired
                }
            }
        }
        return nil
    }
}

extension RunEnd {
    var isStop: Bool { if case .stopRequested = self { true } else { false } }
}
