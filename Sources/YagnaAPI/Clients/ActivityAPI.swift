/// The requestor side of the activity API (`/activity-api/v1`).
public struct ActivityAPI: Sendable {
    let caller: Caller
    public init(transport: any Transport) { caller = Caller(transport: transport, service: .activity) }

    /// Creates an activity for an agreement. `.legacy` sends the bare agreement-id string, as
    /// yapapi does; `.object` sends `{"agreementId": …}`.
    public func create(_ request: CreateActivityRequest, timeout: Duration? = nil) async throws -> String {
        let query = timeout.map { [QueryItem("timeout", $0.queryValue)] } ?? []
        let r = try caller.withBody(caller.request("activity.createActivity", .POST, "/activity", query: query, longPoll: timeout), request)
        return try await caller.decode(CreateActivityResponse.self, r).activityId
    }

    public func destroy(_ activityId: String, timeout: Duration? = nil) async throws {
        let query = timeout.map { [QueryItem("timeout", $0.queryValue)] } ?? []
        try await caller.perform(caller.request("activity.destroyActivity", .DELETE, "/activity/\(activityId)", query: query, longPoll: timeout))
    }

    /// Starts a batch; returns its id.
    public func exec(_ activityId: String, commands: [ExeScriptCommand]) async throws -> String {
        let base = caller.request("activity.exec", .POST, "/activity/\(activityId)/exec")
        let body: ExeScriptRequest.Prepared
        do { body = try ExeScriptRequest.prepared(commands) } catch { throw YagnaError.invalidRequest(base, error: error) }
        return try await caller.decode(String.self, caller.withBody(base, deferred: { body.wireValue }, handedOver: body))
    }

    /// Polls a batch's results: every finished result from index 0, waiting up to `timeout`
    /// for command `commandIndex` (default: the last). Throws `.timeout` (408) when
    /// `commandIndex` was given and did not finish in time.
    public func results(_ activityId: String, batchId: String, timeout: Duration? = nil, commandIndex: Int? = nil) async throws
        -> [ExeScriptCommandResult]
    {
        var query: [QueryItem] = []
        if let timeout { query.append(QueryItem("timeout", timeout.queryValue)) }
        if let commandIndex { query.append(QueryItem("commandIndex", String(commandIndex))) }
        let r = caller.request("activity.getExecBatchResults", .GET, "/activity/\(activityId)/exec/\(batchId)", query: query, longPoll: timeout)
        return try caller.read(try await caller.send(r), r, ExeScriptCommandResult.decodeList)
    }

    /// Streams a batch's runtime events over SSE. The sequence ends when the daemon closes it.
    public func streamResults(_ activityId: String, batchId: String) async throws -> some AsyncSequence<RuntimeEvent, any Error> {
        var r = caller.request("activity.streamExecBatchResults", .GET, "/activity/\(activityId)/exec/\(batchId)")
        r.acceptsEventStream = true
        r.headers.append(Header("Accept", "text/event-stream"))
        switch try await caller.transport.openEventStream(r) {
        case .response(let response):
            throw (200..<300).contains(response.status)
                ? YagnaError.malformed(r, status: response.status, error: StreamExpected())
                : YagnaError.from(response, for: r)
        case .stream(let frames):
            let request = r
            return frames.compactMap { frame throws(any Error) -> RuntimeEvent? in
                guard frame.event == nil || frame.event == "runtime" else { return nil }
                do { return try WireDecoder().decode(RuntimeEvent.self, from: Array(frame.data.utf8)) } catch {
                    throw YagnaError.malformed(request, status: 200, error: error)
                }
            }
        }
    }

    public func state(_ activityId: String) async throws -> ActivityStateResponse {
        try await caller.decode(ActivityStateResponse.self, caller.request("activity.getActivityState", .GET, "/activity/\(activityId)/state"))
    }

    public func usage(_ activityId: String) async throws -> ActivityUsage {
        try await caller.decode(ActivityUsage.self, caller.request("activity.getActivityUsage", .GET, "/activity/\(activityId)/usage"))
    }
}

struct StreamExpected: Error, CustomStringConvertible {
    var description: String { "expected a text/event-stream answer" }
}
