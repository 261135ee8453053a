import Testing
@testable import YagnaAPI

/// Every complete request and response body in the wire traces decodes into the model of its
/// endpoint and re-encodes to equal JSON.
@Suite struct TraceTests {
    struct Exchange {
        var method: String
        var path: String
        var request: String
        var response: String
    }

    static func exchanges(_ name: String) throws -> [Exchange] {
        let text = String(decoding: try Fixtures.bytes(name), as: UTF8.self)
        var out: [Exchange] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                out.append(Exchange(method: String(parts[2]), path: String(parts[3]), request: "", response: ""))
            } else if trimmed.hasPrefix("req: ") {
                out[out.count - 1].request = String(trimmed.dropFirst(5))
            } else if trimmed.hasPrefix("resp: ") {
                out[out.count - 1].response = String(trimmed.dropFirst(6))
            }
        }
        return out
    }

    /// The model of an endpoint's request and response bodies.
    static func models(_ method: String, _ path: String) -> (request: ((JSONValue) throws -> Void)?, response: ((JSONValue) throws -> Void)?) {
        let p = path.split(separator: "?")[0]
        func model<T: Codable>(_ t: T.Type) -> (JSONValue) throws -> Void { { try roundTrip(T.self, $0) } }
        switch (method, p) {
        case ("GET", "/me"): return (nil, model(Identity.self))
        case ("POST", "/payment-api/v1/allocations"): return (model(NewAllocation.self), model(Allocation.self))
        case ("GET", "/payment-api/v1/demandDecorations"): return (nil, model(DemandDecoration.self))
        case ("POST", "/market-api/v1/demands"): return (model(DemandBody.self), model(String.self))
        case ("POST", "/market-api/v1/agreements"): return (model(AgreementProposal.self), model(String.self))
        case ("POST", "/activity-api/v1/activity"): return (model(CreateActivityRequest.self), model(CreateActivityResponse.self))
        default: break
        }
        if p.hasSuffix("/events") { return (nil, model([MarketEvent].self)) }
        if p.contains("/proposals/") { return (model(DemandBody.self), model(String.self)) }
        if p.hasSuffix("/exec") { return (model(ExeScriptRequest.self), model(String.self)) }
        if p.contains("/exec/") { return (nil, model([ExeScriptCommandResult].self)) }
        if p.hasSuffix("/state") { return (nil, model(ActivityStateResponse.self)) }
        if p.hasSuffix("/usage") { return (nil, model(ActivityUsage.self)) }
        if p.hasSuffix("/terminate") { return (model(Reason.self), nil) }
        if p.hasSuffix("Events") { return (nil, model([PaymentEvent].self)) }
        if p.hasSuffix("/accept") { return (model(Acceptance.self), nil) }
        if p.hasPrefix("/payment-api/v1/invoices/") { return (nil, model(Invoice.self)) }
        if p.hasPrefix("/payment-api/v1/debitNotes/") { return (nil, model(DebitNote.self)) }
        if p.hasPrefix("/market-api/v1/agreements/") && method == "GET" { return (nil, model(Agreement.self)) }
        return (nil, nil)
    }

    @Test(arguments: ["trace-hello.txt", "trace-hello-service.txt"])
    func completeBodiesDecode(trace: String) throws {
        var checked = 0
        for exchange in try Self.exchanges(trace) {
            let (request, response) = Self.models(exchange.method, exchange.path)
            for (body, check) in [(exchange.request, request), (exchange.response, response)] where !body.isEmpty {
                // Bodies longer than about 600 characters are cut off in the traces.
                guard let json = try? JSONParser.parse(body) else { continue }
                if exchange.path.hasPrefix("/v1/image") { continue }
                let c = try #require(check, "no model for \(exchange.method) \(exchange.path)")
                try c(json)
                checked += 1
            }
        }
        #expect(checked > 20)
    }
}
