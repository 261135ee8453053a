public import Foundation
import YagnaAPI

/// What one compared request got.
public struct WalkResult: Sendable {
    public var step: String
    public var request: FidelityRequest
    public var response: FidelityResponse
    public var check: WalkStep.Check
}

/// Why a walk could not go on.
public struct WalkError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The provider's half of the walk.
public protocol ProviderRole: Sendable {
    /// Does what the provider does at this point of the walk; returns values for the walk to use.
    func perform(_ action: ProviderAction, variables: [String: String]) async throws -> [String: String]
    /// Runs beside the walk until cancelled (answering activity events on a real node).
    func background() async throws
}

/// The simulated node's providers act by themselves: nothing to do.
public struct AutonomousProviders: ProviderRole {
    public init() {}
    public func perform(_ action: ProviderAction, variables: [String: String]) async throws -> [String: String] { [:] }
    public func background() async throws {}
}

/// Runs the walk against one node, capturing ids from answers for the requests that follow.
public struct WalkRunner: Sendable {
    public var target: any FidelityTarget
    public var provider: any ProviderRole
    public var requestorKey: String
    /// The node's wall clock (the virtual clock in-process).
    public var now: @Sendable () -> Date
    /// How many times a step with `until` is repeated at most.
    public var maxPolls = 30
    /// Told of every request and its answer, when set.
    public var log: (@Sendable (String) -> Void)?

    public init(target: any FidelityTarget, provider: any ProviderRole, requestorKey: String, now: @escaping @Sendable () -> Date) {
        self.target = target
        self.provider = provider
        self.requestorKey = requestorKey
        self.now = now
    }

    /// Runs every item and returns the compared requests' answers, in order.
    public func run(_ items: [WalkItem]) async throws -> [WalkResult] {
        try await withThrowingTaskGroup(of: [WalkResult]?.self) { group in
            group.addTask { try await provider.background(); return nil }
            group.addTask { try await walk(items) }
            while let next = try await group.next() {
                if let results = next {
                    group.cancelAll()
                    return results
                }
            }
            throw WalkError("the walk ended without results")
        }
    }

    func walk(_ items: [WalkItem]) async throws -> [WalkResult] {
        var variables = Self.builtins(now: now())
        var results: [WalkResult] = []
        for item in items {
            switch item {
            case .provider(let action):
                for (k, v) in try await provider.perform(action, variables: variables) { variables[k] = v }
            case .request(let step):
                // A step that cannot be sent or answered is recorded with status 0 and the reason, and
                // the walk goes on: one report then shows every difference, not just the first.
                let request: FidelityRequest
                do { request = try Self.request(for: step, variables: variables, key: requestorKey, now: now()) } catch {
                    let placeholder = FidelityRequest(method: step.method, target: step.target, body: step.body)
                    results.append(WalkResult(step: step.name, request: placeholder, response: Self.failure("\(error)"), check: step.check))
                    continue
                }
                var response: FidelityResponse
                do {
                    response = try await send(request, step: step)
                    var polls = 1
                    while let until = step.until, !Self.satisfied(until, response), polls < maxPolls {
                        response = try await send(request, step: step)
                        polls += 1
                    }
                    if let until = step.until, !Self.satisfied(until, response) {
                        throw WalkError("\(step.name): \(target.name) never answered what the walk waits for after \(polls) polls; last answer \(response.status) \(response.text.prefix(300))")
                    }
                } catch {
                    results.append(WalkResult(step: step.name, request: request, response: Self.failure("\(error)"), check: step.check))
                    continue
                }
                for (name, path) in step.captures {
                    if (200..<300).contains(response.status), let json = response.json, let value = JSONPath.select(path, in: json) {
                        variables[name] = value.stringValue ?? JSONWriter.string(value)
                    }
                }
                results.append(WalkResult(step: step.name, request: request, response: response, check: step.check))
            }
        }
        return results
    }

    func send(_ request: FidelityRequest, step: WalkStep) async throws -> FidelityResponse {
        do {
            let response = try await target.send(request)
            log?("\(step.name): \(request.method) \(request.target) -> \(response.status) \(response.text.prefix(160))")
            return response
        } catch let error as WalkError {
            throw error
        } catch {
            throw WalkError("\(step.name): \(request.method) \(request.target) to \(target.name) failed: \(error)")
        }
    }

    /// The stand-in answer of a step that could not be sent or answered.
    static func failure(_ reason: String) -> FidelityResponse {
        FidelityResponse(status: 0, contentType: "walk-error", body: Array(reason.utf8))
    }

    static func satisfied(_ until: WalkStep.Until, _ response: FidelityResponse) -> Bool {
        switch until {
        case .nonEmpty: response.status == 200 && (response.json?.arrayValue?.isEmpty == false)
        case .contains(let text): response.text.contains(text)
        }
    }

    static func request(for step: WalkStep, variables: [String: String], key: String, now: Date) throws -> FidelityRequest {
        var variables = variables
        variables["now"] = WalkRunner.timestamp(now)
        let authorization: String? =
            switch step.auth {
            case .requestor: "Bearer \(key)"
            case .none: nil
            case .bad: "Bearer not-a-valid-app-key"
            }
        return FidelityRequest(
            method: step.method, target: try fill(step.target, variables, step: step.name),
            body: try step.body.map { try fill($0, variables, step: step.name) }, authorization: authorization,
            contentType: step.contentType)
    }

    static func fill(_ template: String, _ variables: [String: String], step: String) throws -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}"), after[..<close].allSatisfy({ $0.isLetter || $0.isNumber }), !after[..<close].isEmpty else {
                out.append("{")
                rest = after
                continue
            }
            let name = String(after[..<close])
            guard let value = variables[name] else { throw WalkError("\(step): no value for {\(name)} (an earlier step did not capture it)") }
            out += value
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }

    /// Values every walk can use: times and well-formed ids that no node knows.
    static func builtins(now: Date) -> [String: String] {
        [
            "start": timestamp(now.addingTimeInterval(-5)),
            "validTo": timestamp(now.addingTimeInterval(3600)),
            "dueDate": timestamp(now.addingTimeInterval(600)),
            "expiration": String(Int64((now.timeIntervalSince1970 + 3600) * 1000)),
            "unknownSubscription": String(repeating: "0", count: 31) + "1-" + String(repeating: "0", count: 63) + "1",
            "unknownProposal": "R-" + String(repeating: "0", count: 63) + "1",
            "unknownHex64": String(repeating: "0", count: 63) + "1",
            "unknownHex32": String(repeating: "0", count: 31) + "1",
            "unknownUUID": "00000000-0000-4000-8000-000000000001",
            "unknownNode": "0x" + String(repeating: "0", count: 39) + "1",
        ]
    }

    /// RFC 3339 in UTC with milliseconds, as clients send it.
    public static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms % 1000))
    }
}
