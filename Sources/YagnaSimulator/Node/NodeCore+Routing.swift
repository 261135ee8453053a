public import Foundation
import GolemTime
public import YagnaAPI

extension NodeCore {
    /// Whether a request carries the node's app key (header or `authToken` query).
    func authorized(_ request: NodeRequest) -> Bool {
        if let auth = request.header("Authorization"), auth == bearer { return true }
        return request.query("authToken") == appKey
    }

    /// Handles one request at `now`.
    public mutating func handle(_ request: NodeRequest, now: Date) -> NodeOutcome {
        advance(to: now)
        let parts = request.path.pathSegments
        // Unauthenticated: the version and the image registry stand-in.
        if request.path == "/version/get" { return .respond(versionInfo()) }
        if parts.first == "v1" && parts.dropFirst().first == "image" { return .respond(imageInfo(request)) }
        // The older registry lookup (`GET /image.{hash}.link`): the image's download URL as text.
        if parts.count == 1, parts[0].hasPrefix("image."), parts[0].hasSuffix(".link"), request.method == .GET {
            let hash = parts[0].dropFirst("image.".count).dropLast(".link".count)
            let base = request.header("Host").map { "http://\($0)" } ?? "http://127.0.0.1:7465"
            return .respond(YagnaResponse(status: 200, headers: [Header("Content-Type", "text/plain")], body: Array("\(base)/images/\(hash).gvmi".utf8)))
        }
        if parts.first == "images" { return .respond(YagnaResponse(status: 200, headers: [Header("Content-Type", "application/octet-stream")])) }
        guard authorized(request) else {
            let text = request.header("Authorization") == nil ? "Missing application key" : "Invalid application key"
            return .respond(YagnaResponse(status: 401, headers: [Header("Content-Type", NodeCore.plainText)], body: Array(text.utf8)))
        }
        if request.path == "/me" {
            return .respond(NodeCore.encode(200, Identity(identity: requestorId, name: scenario.requestor.name, role: "manager")))
        }
        if parts.first == "net-api" {
            // The net API answers alike on `/net-api/v1` and `/net-api/v2/vpn`; elsewhere nothing is routed.
            if parts.count >= 2, parts[1] == "v1" { return .respond(net(request, Array(parts.dropFirst(2)))) }
            if parts.count >= 3, parts[1] == "v2", parts[2] == "vpn" { return .respond(net(request, Array(parts.dropFirst(3)))) }
            return .respond(YagnaResponse(status: 404))
        }
        guard parts.count >= 2, parts[1] == "v1" else {
            return .respond(NodeCore.message(404, "no such endpoint: \(request.method.rawValue) \(request.path)"))
        }
        let rest = Array(parts.dropFirst(2))
        switch parts[0] {
        case "market-api": return market(request, rest, now: now)
        case "activity-api": return activity(request, rest, now: now)
        case "payment-api":
            if request.method == .GET, rest == ["debitNoteEvents"] || rest == ["invoiceEvents"] {
                return paymentEventsOutcome(request, invoices: rest[0] == "invoiceEvents", now: now)
            }
            return .respond(payment(request, rest, now: now))
        default: return .respond(NodeCore.message(404, "no such endpoint: \(request.method.rawValue) \(request.path)"))
        }
    }

    /// Answers a long poll if it can; `nil` means keep waiting.
    public mutating func retry(_ poll: Poll, now: Date, final: Bool) -> YagnaResponse? {
        advance(to: now)
        switch poll {
        case .demandEvents(let sub, let max): return collectDemandEvents(sub, maxEvents: max, final: final)
        case .agreementApproval(let id): return waitResult(id, final: final)
        case .agreementEvents(let after, let max): return collectAgreementEvents(after: after, maxEvents: max, final: final)
        case .execResults(let act, let batch, let index): return execResults(act, batch, commandIndex: index, now: now, final: final)
        case .paymentEvents(let invoices, let after, let max): return collectPaymentEvents(invoices: invoices, after: after, maxEvents: max, final: final)
        }
    }

    /// Decodes a JSON body, or answers 400 naming the field at fault.
    func body<T: Decodable>(_ type: T.Type, _ request: NodeRequest) -> Result<T, BadRequest> {
        body(type, request, style: .json)
    }

    /// A float query parameter (`timeout`, seconds), or the daemon's 400. A negative timeout
    /// means "do not wait", as the daemon reads it.
    func seconds(_ request: NodeRequest, _ name: String, default value: Double) -> Result<Double, BadRequest> {
        guard let text = request.query(name) else { return .success(value) }
        if let whole = NodeCore.plainDigits(text) { return .success(whole) }
        // No `n` or `N` anywhere: Double reads "nan", "inf" and "infinity", the daemon does not.
        guard let v = Double(text), v.isFinite, !text.hasPrefix("+"), !text.utf8.contains(where: { $0 | 0x20 == UInt8(ascii: "n") }) else {
            return .failure(BadRequest(response: NodeCore.queryError("invalid float literal")))
        }
        return .success(max(0, v))
    }

    func integer(_ request: NodeRequest, _ name: String) -> Result<Int?, BadRequest> {
        guard let text = request.query(name) else { return .success(nil) }
        guard let v = Int(text) else {
            return .failure(BadRequest(response: NodeCore.queryError(text.isEmpty ? "cannot parse integer from empty string" : "invalid digit found in string")))
        }
        return .success(v)
    }

    func timestamp(_ request: NodeRequest, _ name: String) -> Result<WireTimestamp?, BadRequest> {
        guard let text = request.query(name) else { return .success(nil) }
        let t = WireTimestamp(text: text)
        guard t.epochNanoseconds != nil else {
            return .failure(BadRequest(response: NodeCore.queryError(text.count < 19 ? "input contains invalid characters" : "premature end of input")))
        }
        return .success(t)
    }

    /// As yagna 0.17.6 answers: the running release, and no pending one.
    func versionInfo() -> YagnaResponse {
        .json(200, [
            "current": [
                "version": "0.17.6", "name": "(golem-sim)", "seen": true, "releaseTs": "2026-03-13T00:00:00",
                "insertionTs": "2026-03-13T00:00:00", "updateTs": "2026-03-13T00:00:00",
            ],
            "pending": nil,
        ])
    }

    /// `GET /v1/image/info?hash=…|tag=…`: answers for any image, as the registry stand-in.
    func imageInfo(_ request: NodeRequest) -> YagnaResponse {
        let hash = request.query("hash") ?? GftpURL.contentHash(Array((request.query("tag") ?? "golem/alpine:latest").utf8)).prefix(56).description
        let tag = request.query("tag") ?? "sim/image:latest"
        let base = request.header("Host").map { "http://\($0)" } ?? "http://127.0.0.1:7465"
        let url = "\(base)/images/\(hash).gvmi"
        return .json(200, ["http": .string(url), "https": .string(url), "sha3": .string(hash), "size": 1_234_567, "tag": .string(tag)])
    }
}

/// A request the node refuses, with its yagna-shaped answer.
struct BadRequest: Error {
    let response: YagnaResponse
}
