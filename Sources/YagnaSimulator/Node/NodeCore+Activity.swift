import Foundation
import GolemTime
import YagnaAPI

extension NodeCore {
    mutating func activity(_ request: NodeRequest, _ p: [String], now: Date) -> NodeOutcome {
        switch (request.method, p.count) {
        case (.POST, 1) where p[0] == "activity": return .respond(createActivity(request, now: now))
        case (.DELETE, 2) where p[0] == "activity":
            guard activities[p[1]] != nil else { return .respond(NodeCore.unknownActivity(p[1])) }
            destroyActivity(p[1], at: now)
            return .respond(NodeCore.okNull)
        case (.POST, 3) where p[2] == "exec": return .respond(exec(request, p[1], now: now))
        case (.GET, 4) where p[2] == "exec":
            guard let a = activities[p[1]] else { return .respond(NodeCore.unknownActivity(p[1])) }
            guard a.batches[p[3]] != nil else { return .respond(NodeCore.message(404, "Batch [\(p[3])] not found")) }
            if request.header("Accept") == "text/event-stream" { return .stream(activityId: p[1], batchId: p[3]) }
            let timeout: Double
            switch seconds(request, "timeout", default: 0) {
            case .failure(let e): return .respond(e.response)
            case .success(let t): timeout = t
            }
            let index: Int?
            switch integer(request, "commandIndex") {
            case .failure(let e): return .respond(e.response)
            case .success(let i): index = i
            }
            if let index, index < 0 || index >= a.batches[p[3]]!.commands.count {
                return .respond(NodeCore.message(400, "commandIndex \(index) is out of range for a batch of \(a.batches[p[3]]!.commands.count) commands"))
            }
            if a.pollsStopped || a.state == .unresponsive {
                // The provider does not answer: the poll runs into its timeout.
                return .wait(.execResults(activityId: p[1], batchId: p[3], commandIndex: index), until: now.addingTimeInterval(max(timeout, 0.001)))
            }
            return .wait(.execResults(activityId: p[1], batchId: p[3], commandIndex: index), until: now.addingTimeInterval(timeout))
        case (.GET, 3) where p[2] == "state":
            guard let a = activities[p[1]] else { return .respond(NodeCore.unknownActivity(p[1])) }
            var reason: String?
            if a.state == .terminated, let ag = agreements[a.agreementId], ag.agreement.state == .terminated,
                let r = ag.terminationEvent?.reason?.message
            {
                reason = r
            }
            var state: [String: JSONValue] = ["state": [.string(a.state.rawValue), nil]]
            if let reason { state["reason"] = .string(reason) }
            // The typed answer a client takes as it is (the JSON is what it decodes from: no
            // `errorMessage`, and `reason` only when there is one).
            var typed = ActivityStateResponse(current: a.state, reason: reason)
            typed.unknownFields = UnknownFields()
            return .respond(.json(200, .object(state), typed: typed))
        case (.GET, 3) where p[2] == "usage":
            guard let a = activities[p[1]] else { return .respond(NodeCore.unknownActivity(p[1])) }
            // Until the exe-unit has run something it has reported no usage: the daemon answers the time only.
            guard !a.batches.isEmpty else { return .respond(.json(200, ["timestamp": .int(Int(now.timeIntervalSince1970))])) }
            let usage = usageVector(a, at: now)
            // Its usage is `Double`s (a counter's rate from the scenario could overflow): encoded at once.
            return .respond(NodeCore.encodeNow(200, ActivityUsage(currentUsage: usage, timestamp: Int(now.timeIntervalSince1970))))
        default:
            return .respond(YagnaResponse(status: 404))
        }
    }

    mutating func createActivity(_ request: NodeRequest, now: Date) -> YagnaResponse {
        let body: CreateActivityRequest
        switch self.body(CreateActivityRequest.self, request, style: .text) {
        case .failure(let e):
            // The body is either a bare agreement id or an object: serde names the untagged enum.
            if SerdeWording.syntaxError(request.body) == nil {
                return NodeCore.deserializeError("Json deserialize error: data did not match any variant of untagged enum CreateActivityJson", .text)
            }
            return e.response
        case .success(let b): body = b
        }
        guard let agreement = agreements[body.agreementId] else { return NodeCore.message(404, "Not found: \(body.agreementId)") }
        guard agreement.agreement.state == .approved else {
            return NodeCore.message(400, "Bad request: Agreement \(body.agreementId) is not Approved. Current state: \(agreement.agreement.state.rawValue)")
        }
        if !agreement.multiActivity, !agreement.activities.isEmpty {
            return NodeCore.message(400, "Agreement [\(body.agreementId)] does not allow more than one activity (no multi-activity)")
        }
        let provider = agreement.provider
        for case .failActivityCreation(let message, let trigger) in faults(provider) where strikes(trigger, provider: provider) {
            return NodeCore.message(500, message)
        }
        let id = hexId(32)
        openActivity(id, agreementId: body.agreementId, at: now)
        switch body {
        case .legacy: return .json(200, .string(id))
        case .object: return NodeCore.encode(200, CreateActivityResponse.object(activityId: id, credentials: nil, unknownFields: UnknownFields()))
        }
    }

    /// How often the agreement's activities get debit notes: a `debit-notes-too-fast` fault's
    /// interval; else the negotiated `golem.com.scheme.payu.debit-note.interval-sec?` (the
    /// provider's counter echoes the requestor's value); else the provider's own. `nil` for a
    /// provider that sends none.
    func debitNoteInterval(_ agreement: AgreementRecord) -> Duration? {
        for case .debitNotesTooFast(let interval, _) in faults(agreement.provider) { return interval }
        guard let own = providers[agreement.provider].spec.debitNoteInterval else { return nil }
        return NodeCore.negotiatedSeconds(agreement, "golem.com.scheme.payu.debit-note.interval-sec?") ?? own
    }

    /// The payment timeout of mid-agreement payments, when the requestor negotiated one
    /// (`golem.com.scheme.payu.payment-timeout-sec?` in its side of the agreement): each debit
    /// note is then due that long after it is issued.
    func paymentTimeout(_ agreement: AgreementRecord) -> Duration? {
        NodeCore.negotiatedSeconds(agreement, "golem.com.scheme.payu.payment-timeout-sec?")
    }

    /// A positive number of seconds the requestor's side of the agreement sets for `key`.
    static func negotiatedSeconds(_ agreement: AgreementRecord, _ key: String) -> Duration? {
        guard let seconds = agreement.agreement.demand.properties[key]?.doubleValue, seconds > 0,
            let duration = Duration.rounded(seconds: seconds), duration >= .milliseconds(1)
        else { return nil }
        return duration
    }

    func usageVector(_ a: ActivityRecord, at now: Date) -> [Double] {
        let end = min(now, a.destroyed ?? now)
        var usage = [max(0, end.timeIntervalSince(a.created)), a.cpuSeconds]
        for counter in providers[a.provider].spec.pricing.counters {
            let (value, since) = a.counters[counter.name] ?? (counter.initial, a.created)
            usage.append(value + counter.perSecond * max(0, end.timeIntervalSince(since)))
        }
        return usage
    }

    /// The cost of an activity's usage by the provider's linear pricing.
    func cost(_ a: ActivityRecord, at now: Date) -> Decimal {
        let coeffs = providers[a.provider].spec.pricing.coefficients
        let usage = usageVector(a, at: now)
        let value = zip(coeffs, usage).reduce(coeffs[coeffs.count - 1]) { $0 + $1.0 * $1.1 }
        return NodeCore.amount(value)
    }

    /// A money amount from a float cost, rounded to 12 decimal places.
    static func amount(_ value: Double) -> Decimal {
        let micro = Int64((value * 1e12).rounded())
        // The same value, laid out as dividing by 10¹² lays it out, without the division.
        return Decimal(sign: micro < 0 ? .minus : .plus, exponent: -12, significand: Decimal(micro.magnitude))
    }

    mutating func exec(_ request: NodeRequest, _ id: String, now: Date) -> YagnaResponse {
        guard let state = activities[id]?.state else { return NodeCore.unknownActivity(id) }
        let commands: [ExeScriptCommand]
        let prepared = request.content.handedOver(as: ExeScriptRequest.Prepared.self)
        if MessageBody.takesHandedOver, let prepared, !prepared.commands.contains(where: \.isUnmodelled) {
            // A typed client's script of known commands handed over in-process: its commands as
            // they are (reading the text checks nothing they could break; a command this client
            // does not model is read from the text, which refuses an unknown name).
            guard state != .terminated else { return NodeCore.message(400, "Activity [\(id)] is Terminated; no more scripts can run") }
            commands = prepared.commands
        } else {
            let script: ExeScriptRequest
            switch self.body(ExeScriptRequest.self, request, style: .text) {
            case .failure(let e): return e.response
            case .success(let s): script = s
            }
            let parsed: JSONValue
            switch NodeCore.readExeScript(script.text) {
            case .failure(let refusal): return refusal.response
            case .success(let value): parsed = value
            }
            guard state != .terminated else { return NodeCore.message(400, "Activity [\(id)] is Terminated; no more scripts can run") }
            do { commands = try ExeScriptRequest.commands(script: parsed) } catch let e as DecodingError {
                return NodeCore.message(400, "invalid ExeScript: command \(e.fieldPath): \(e.reason)")
            } catch {
                return NodeCore.message(400, "invalid ExeScript: \(error)")
            }
            // A debug build reads the text even when the script was handed over, and checks both agree.
            if let prepared, prepared.request != script || prepared.script != parsed || prepared.commands != commands {
                return NodeCore.handedOverMismatch(ExeScriptRequest.self).response
            }
        }
        // An empty script is a batch too (yapapi's service keep-alive sends one): its results are `[]` at once.
        let batchId = hexId(32)
        runBatch(batchId, commands, on: id, at: now)
        return .json(200, .string(batchId))
    }

    /// Runs a batch on an activity: its results and stream frames, each at its time, from the
    /// provider's rules and faults; faults that count batches are scheduled. Both edges use it:
    /// the simulated node's `exec` and `provide`'s exe-unit.
    mutating func runBatch(_ batchId: String, _ commands: [ExeScriptCommand], on id: String, at now: Date) {
        // The record leaves the table while the batch runs and nothing else holds it, so that
        // adding the batch below changes it in place: copying an activity's batches for every
        // new one made a long-lived activity's batches quadratic.
        var taken = activities.removeValue(forKey: id)
        guard let agreementId = taken?.agreementId, let busyUntil = taken?.busyUntil else { return }
        var batch = BatchRecord(id: batchId, commands: commands)
        agreements[agreementId]!.batches += 1
        let batchNumber = agreements[agreementId]!.batches
        let exeunitClock: Date
        var a: ActivityRecord
        do {
            let provider = taken!.provider
            var exeunit = ExeUnit(core: self, activity: taken!, batchId: batchId, start: max(now, busyUntil))
            taken = nil
            exeunit.run(commands, into: &batch)
            self.providerRandom[provider] = exeunit.providerRandom
            exeunitClock = exeunit.clock
            a = exeunit.activity
        }
        a.busyUntil = exeunitClock
        if a.state == .unresponsive {
            // The provider does not answer: nothing of this batch ever comes back.
            batch.results.removeAll()
            batch.frames.removeAll()
            batch.stalled = true
        }
        a.batches[batchId] = batch
        a.batchOrder.append(batchId)
        activities[id] = a
        // Faults that count batches.
        let provider = a.provider
        for fault in faults(provider) {
            switch fault {
            case .terminateAgreement(let reason, let trigger):
                if let n = trigger.afterBatches, n == batchNumber, strikes(trigger, provider: provider) {
                    schedule(.terminateAgreement(agreementId: a.agreementId, reason: reason), at: exeunitClock)
                }
            case .unresponsive(let duration, let trigger):
                if let n = trigger.afterBatches, n == batchNumber, strikes(trigger, provider: provider) {
                    schedule(.activityUnresponsive(activityId: id, duration: duration), at: exeunitClock)
                }
            case .stopAnsweringPolls(let trigger):
                if (trigger.afterBatches ?? 0) < batchNumber, strikes(trigger, provider: provider) {
                    activities[id]?.pollsStopped = true
                }
            default: break
            }
        }
    }

    /// An approved agreement's new activity: its record, and the faults and debit notes it schedules.
    mutating func openActivity(_ id: String, agreementId: String, at now: Date) {
        guard var agreement = agreements[agreementId] else { return }
        let provider = agreement.provider
        activities[id] = ActivityRecord(id: id, agreementId: agreementId, provider: provider, created: now, busyUntil: now)
        agreement.activities.append(id)
        agreements[agreementId] = agreement
        for case .unresponsive(let duration, let trigger) in faults(provider) {
            if let at = trigger.at, trigger.afterBatches == nil, strikes(trigger, provider: provider) {
                schedule(.activityUnresponsive(activityId: id, duration: duration), at: now.adding(at))
            }
        }
        if let interval = debitNoteInterval(agreement) { schedule(.debitNote(activityId: id), at: now.adding(interval)) }
    }

    /// The requestor destroyed an activity: it ends; without multi-activity the provider then
    /// ends the agreement and invoices (no terminate follows).
    mutating func destroyActivity(_ id: String, at now: Date) {
        guard var a = activities[id], a.destroyed == nil || a.state != .terminated else { return }
        a.on(.terminate)
        if a.destroyed == nil { a.destroyed = now }
        activities[id] = a
        if let agreement = agreements[a.agreementId], !agreement.multiActivity, agreement.agreement.state == .approved {
            terminate(a.agreementId, by: .provider, reason: Reason(message: "Activity destroyed"), at: now)
        }
    }

    /// Marks the activity unresponsive from `time`: its state says so and later results stall.
    mutating func applyUnresponsive(_ id: String, from time: Date) {
        guard var a = activities[id] else { return }
        a.on(.unresponsive)
        for key in a.batchOrder {
            if let b = a.batches[key], b.results.contains(where: { $0.at > time }) {
                a.batches[key]?.results.removeAll { $0.at > time }
                a.batches[key]?.frames.removeAll { $0.at > time }
                a.batches[key]?.stalled = true
            }
        }
        activities[id] = a
    }

    mutating func execResults(_ id: String, _ batchId: String, commandIndex: Int?, now: Date, final: Bool) -> YagnaResponse? {
        guard let a = activities[id], let batch = a.batches[batchId] else { return NodeCore.message(404, "Batch [\(batchId)] not found") }
        if a.pollsStopped || (a.state == .unresponsive && !final) { return final ? NodeCore.message(408, "Timeout waiting for results of batch [\(batchId)]") : nil }
        // A finished batch's answer never changes: encode it once (clients poll it repeatedly).
        let key = ResultsKey(batchId: batchId, commandIndex: commandIndex)
        if let cached = finishedResults[key] { return cached }
        let response = execResultsAnswer(a, batch, commandIndex: commandIndex, now: now, final: final)
        if let response, response.status == 200, !batch.stalled, batch.results.last?.result.isBatchFinished == true,
            batch.results.allSatisfy({ $0.at <= now })
        {
            finishedResults[key] = response
        }
        return response
    }

    func execResultsAnswer(_ a: ActivityRecord, _ batch: BatchRecord, commandIndex: Int?, now: Date, final: Bool) -> YagnaResponse? {
        let id = a.id
        let batchId = batch.id
        if batch.commands.isEmpty { return .json(200, .array([]), typed: [ExeScriptCommandResult]()) }
        var visible = batch.results.filter { $0.at <= now }.map(\.result)
        let target = commandIndex ?? batch.commands.count - 1
        if a.state == .terminated, batch.stalled, !visible.contains(where: { $0.index >= target || $0.result == .error }) {
            // The activity ended under the batch: its remaining results never come.
            return NodeCore.message(410, "Activity [\(id)] was terminated; batch [\(batchId)] will not finish")
        }
        let done = visible.contains { $0.index >= target || $0.result == .error }
        if !done && !final { return nil }
        if !done, commandIndex != nil { return NodeCore.message(408, "Timeout waiting for command \(target) of batch [\(batchId)]") }
        if let commandIndex { visible = Array(visible.prefix { $0.index <= commandIndex }) }
        for i in visible.indices {
            if let commandIndex, visible[i].index != commandIndex {
                visible[i].stdout = nil
                visible[i].stderr = nil
            }
            visible[i].isBatchFinished = visible[i].result == .error || visible[i].index == target
        }
        // A typed client takes the results as it would read them; their JSON is written only
        // when read.
        let results = visible
        return .json(200, deferred: { .array(results.map(\.wireValue)) }, typed: results.map(\.asRead))
    }

    /// The stream frames of a batch visible at `now` from frame `first` on (the ones a stream
    /// has not sent yet; at most `limit` of them, each written only now), when the next one
    /// becomes visible, and whether none will come after.
    func frames(_ id: String, _ batchId: String, from first: Int, limit: Int = .max, now: Date) -> (frames: [RuntimeEvent], next: Date?, finished: Bool) {
        guard let a = activities[id], let batch = a.batches[batchId] else { return ([], nil, true) }
        let visible = batch.frames.firstIndex { $0.at > now } ?? batch.frames.count
        let next = visible < batch.frames.count ? batch.frames[visible].at : nil
        let finished = next == nil && !batch.stalled
        guard first < visible else { return ([], next, finished) }
        let end = visible - first <= limit ? visible : first + limit
        return ((first..<end).map(batch.event), next, finished)
    }
}

extension NodeCore {
    /// An activity this node has no record of: the daemon's database lookup fails (500).
    static func unknownActivity(_ id: String) -> YagnaResponse {
        message(500, "DAO error: Not found: agreement id for activity: \(id)")
    }

    /// The commands an ExeScript may hold, in the daemon's order.
    static let exeScriptCommands = ["sign", "deploy", "start", "run", "transfer", "terminate"]

    /// An ExeScript text read as the daemon reads it: its JSON, or the daemon's answer to a
    /// text it cannot read.
    static func readExeScript(_ text: String) -> Result<JSONValue, BadRequest> {
        let bytes = Array(text.utf8)
        let script: JSONValue
        do { script = try JSONParser.parse(bytes) } catch {
            return .failure(BadRequest(response: message(400, "Bad request: \(debugError(SerdeWording.syntaxError(bytes) ?? "expected value at line 1 column 1"))")))
        }
        guard case .array(let commands) = script else {
            return .failure(BadRequest(response: message(400, "Bad request: Error(\"invalid type: expected a sequence\", line: 1, column: \(bytes.count))")))
        }
        for command in commands {
            // The command is its (alphabetically first) key; one key is the usual case.
            guard case .object(let o) = command, let name = o.count == 1 ? o.keys.first : o.keys.min() else { continue }
            if !exeScriptCommands.contains(name) {
                let expected = exeScriptCommands.map { "`\($0)`" }.joined(separator: ", ")
                let column = (text.range(of: "\"\(name)\"").map { text.distance(from: text.startIndex, to: $0.upperBound) } ?? 0)
                return .failure(BadRequest(response: message(400, "Bad request: Error(\"unknown variant `\(name)`, expected one of \(expected)\", line: 1, column: \(column))")))
            }
        }
        return .success(script)
    }

    /// serde_json's `Debug` form of an error: `Error("message", line: L, column: C)`.
    static func debugError(_ wording: String) -> String {
        guard let at = wording.range(of: " at line ", options: .backwards) else { return "Error(\"\(wording)\", line: 1, column: 1)" }
        let position = wording[at.upperBound...].components(separatedBy: " column ")
        return "Error(\"\(wording[..<at.lowerBound])\", line: \(position.first ?? "1"), column: \(position.last ?? "1"))"
    }
}
