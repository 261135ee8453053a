import Foundation
import Logging
import GolemBus
import YagnaAPI
import YagnaSimulator

/// The exe-unit: calls to `/public/exeunit/<activityId>/<Message>` (ya-core-model's activity
/// messages, serde camelCase except the stream's), answered with a Rust `Result` as serde
/// writes it: `{"Ok": value}` or `{"Err": RpcMessageError}`.
extension ProvideSession {
    /// An `RpcMessageError`: `{"notFound": "…"}`, `{"badRequest": "…"}`, the bare `"timeout"`, ….
    struct RpcError: Error {
        var value: JSONValue
        static func variant(_ name: String, _ message: String) -> RpcError { RpcError(value: .object([name: .string(message)])) }
        static let timeout = RpcError(value: "timeout")
    }

    func serveCall(_ call: BusCall, bus: BusConnection) async {
        let parts = call.address.split(separator: "/").map(String.init)
        let component = parts.last ?? ""
        let activityId = parts.count >= 2 ? parts[parts.count - 2] : ""
        if let dump = busDump { dumpCall(call, component: component, into: dump) }
        let reply: [UInt8]
        do {
            let payload: JSONValue
            do { payload = try BusBody.decode(call.data) } catch {
                throw RpcError.variant("badRequest", "golem-sim's exe-unit cannot read the body of \(component): \(error)")
            }
            if component == "StreamExecBatchResults" {
                await stream(call, payload, activityId: activityId, bus: bus)
                return
            }
            reply = BusBody.ok(try await answer(component, payload, activityId: activityId, bus: bus))
        } catch let error as RpcError {
            reply = BusBody.err(error.value)
        } catch {
            reply = BusBody.err(["service": .string("golem-sim's exe-unit failed: \(error)")])
        }
        guard !call.noReply else { return }
        do { try await bus.reply(call.requestId, data: reply) } catch {
            logger.warning("exe-unit \(activityId): cannot answer \(component): \(error)")
        }
    }

    /// Keeps a call's body as the daemon sent it (`--dump-bus DIR`): `N-Component.bin`, for
    /// debugging and for the codec's tests.
    func dumpCall(_ call: BusCall, component: String, into directory: String) {
        dumped += 1
        let name = "\(directory)/\(String(format: "%04d", dumped))-\(component).bin"
        if !FileManager.default.createFile(atPath: name, contents: Data(call.data)) {
            logger.warning("--dump-bus: cannot write \(name)")
        }
    }

    func checkActivity(_ payload: JSONValue, _ activityId: String, key: String = "activityId") throws {
        guard payload[key]?.stringValue == activityId, served[activityId] != nil else {
            throw RpcError.variant("forbidden", "activity \(payload[key]?.stringValue ?? "?") is not served at /public/exeunit/\(activityId)")
        }
    }

    func answer(_ component: String, _ payload: JSONValue, activityId: String, bus: BusConnection) async throws -> JSONValue {
        switch component {
        case "Exec":
            try checkActivity(payload, activityId)
            guard let batchId = payload["batchId"]?.stringValue else { throw RpcError.variant("badRequest", "Exec without a batchId") }
            guard !engine.hasBatch(batchId, on: activityId) else { throw RpcError.variant("badRequest", "Batch \(batchId) already exists") }
            let commands: [ExeScriptCommand]
            do { commands = try WireDecoder().decode([ExeScriptCommand].self, from: payload["exeScript"] ?? .array([])) } catch {
                throw RpcError.variant("badRequest", "invalid ExeScript: \(error)")
            }
            let before = engine.state(activityId)
            engine.exec(batchId, commands, on: activityId, at: Date())
            count("batches")
            if let after = engine.state(activityId), after != before {
                try? await setState(activityId, after, bus: bus)
            }
            return .string(batchId)
        case "GetExecBatchResults":
            try checkActivity(payload, activityId)
            guard let batchId = payload["batchId"]?.stringValue, engine.hasBatch(batchId, on: activityId) else {
                throw RpcError.variant("notFound", "batch_id = \(payload["batchId"]?.stringValue ?? "?")")
            }
            let index = payload["commandIndex"]?.intValue
            let deadline = Date().addingTimeInterval(max(0, payload["timeout"]?.doubleValue ?? 0))
            while true {
                let now = Date()
                let final = now >= deadline
                if let response = engine.results(batchId, on: activityId, commandIndex: index, at: now, final: final) {
                    return try Self.result(response)
                }
                let next = engine.nextResultTime(batchId, on: activityId, after: now) ?? deadline
                try await Task.sleep(for: .seconds(max(0.001, min(next, deadline).timeIntervalSince(now))))
            }
        case "GetActivityState":
            try checkActivity(payload, activityId)
            let state = engine.state(activityId) ?? .terminated
            return ["state": [.string(state.rawValue), nil], "reason": nil, "errorMessage": nil]
        case "GetActivityUsage":
            try checkActivity(payload, activityId)
            let now = Date()
            return ["currentUsage": .array(engine.usage(activityId, at: now).map { .double($0) }), "timestamp": .int(Int(now.timeIntervalSince1970))]
        case "GetRunningCommand":
            throw RpcError.variant("notFound", "No running command within activity: \(activityId)")
        default:
            logger.warning("exe-unit \(activityId): a call of type \(component), which golem-sim's exe-unit does not serve")
            throw RpcError.variant("badRequest", "golem-sim's exe-unit does not serve \(component)")
        }
    }

    /// The simulated node's answer to a results poll, as the exe-unit's `Result`.
    static func result(_ response: YagnaResponse) throws -> JSONValue {
        let body = (try? JSONParser.parse(response.body)) ?? .null
        let message = body["message"]?.stringValue ?? String(decoding: response.body, as: UTF8.self)
        switch response.status {
        case 200: return body
        case 404: throw RpcError.variant("notFound", message)
        case 408: throw RpcError.timeout
        case 410: throw RpcError.variant("activity", message)
        default: throw RpcError.variant("service", message)
        }
    }

    /// `StreamExecBatchResults {activity_id, batch_id}`: each runtime event as a partial
    /// reply when it happens, then an empty full reply.
    func stream(_ call: BusCall, _ payload: JSONValue, activityId: String, bus: BusConnection) async {
        do {
            try checkActivity(payload, activityId, key: "activity_id")
            guard let batchId = payload["batch_id"]?.stringValue, engine.hasBatch(batchId, on: activityId) else {
                throw RpcError.variant("notFound", "Unknown batch: \(payload["batch_id"]?.stringValue ?? "?")")
            }
            var sent = 0
            while !Task.isCancelled {
                let now = Date()
                let (frames, next, finished) = engine.frames(batchId, on: activityId, from: sent, at: now)
                for frame in frames {
                    try await bus.reply(call.requestId, data: BusBody.ok(try WireEncoder().encodeValue(frame)), partial: true)
                }
                sent += frames.count
                if finished || served[activityId] == nil { break }
                try await Task.sleep(for: .seconds(max(0.001, min(1, next.map { $0.timeIntervalSince(now) } ?? 1))))
            }
        } catch let error as RpcError {
            try? await bus.reply(call.requestId, data: BusBody.err(error.value), partial: true)
        } catch {
            logger.warning("exe-unit \(activityId): stream: \(error)")
        }
        try? await bus.reply(call.requestId, data: [])
    }
}
