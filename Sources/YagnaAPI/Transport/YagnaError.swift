import Foundation

/// An error talking to yagna: which operation, which request, what the daemon said.
///
/// Never contains the app key: transports scrub it from every message they pass on.
public struct YagnaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Compare with the static members (`.notFound`, `.gone`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case badRequest, unauthorized, forbidden, notFound, timeout, conflict, gone, serverError
            case notImplemented, gatewayTimeout, unexpectedStatus, malformedResponse, transport, clientTimeout
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// 400: the request was invalid.
        public static let badRequest = Code(.badRequest)
        /// 401: missing or invalid app key.
        public static let unauthorized = Code(.unauthorized)
        /// 403.
        public static let forbidden = Code(.forbidden)
        /// 404: no such resource (or it was removed).
        public static let notFound = Code(.notFound)
        /// 408: a long poll or wait ended without a result; retry.
        public static let timeout = Code(.timeout)
        /// 409: the resource is in the wrong state.
        public static let conflict = Code(.conflict)
        /// 410: the resource is gone (agreement rejected, cancelled, expired; allocation released).
        public static let gone = Code(.gone)
        /// 500.
        public static let serverError = Code(.serverError)
        /// 501: the daemon does not implement this (debit-note reject).
        public static let notImplemented = Code(.notImplemented)
        /// 504: payment acknowledgement timed out.
        public static let gatewayTimeout = Code(.gatewayTimeout)
        /// Any other non-2xx status.
        public static let unexpectedStatus = Code(.unexpectedStatus)
        /// A 2xx response whose body does not fit the model.
        public static let malformedResponse = Code(.malformedResponse)
        /// No response: the connection failed or dropped.
        public static let transport = Code(.transport)
        /// No response within the client's deadline.
        public static let clientTimeout = Code(.clientTimeout)

        public var description: String { base.rawValue }

        static func forStatus(_ status: Int) -> Code {
            switch status {
            case 400: .badRequest
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 408: .timeout
            case 409: .conflict
            case 410: .gone
            case 500: .serverError
            case 501: .notImplemented
            case 504: .gatewayTimeout
            default: .unexpectedStatus
            }
        }
    }

    public let code: Code
    public let operation: String
    public let method: HTTPMethod
    public let path: String
    public let status: Int?
    /// The daemon's message (text body, `{"message"}` or problem+json `detail`), or what went wrong.
    public let message: String?
    /// For malformed responses: the dotted path of the offending field.
    public let field: String?

    public init(code: Code, operation: String, method: HTTPMethod, path: String, status: Int?, message: String?, field: String? = nil) {
        self.code = code
        self.operation = operation
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.field = field
    }

    /// Whether a retry may succeed (408, 504, client timeouts, dropped connections), as yapapi
    /// treats them.
    public var isIntermittent: Bool {
        [.timeout, .gatewayTimeout, .clientTimeout, .transport].contains(code)
    }

    public var description: String {
        var out = "\(operation) failed: \(method.rawValue) \(path)"
        if let status { out += " answered \(status)" }
        switch code {
        case .malformedResponse: out += " with a malformed body"
        case .transport: out += " got no response"
        case .clientTimeout: out += " timed out waiting for a response"
        default: break
        }
        if let field { out += " (field '\(field)')" }
        if let message, !message.isEmpty { out += ": \(message)" }
        return out
    }

    // MARK: - Mapping responses

    /// The error a non-2xx response stands for.
    public static func from(_ response: YagnaResponse, for request: YagnaRequest) -> YagnaError {
        YagnaError(
            code: .forStatus(response.status), operation: request.operation, method: request.method,
            path: request.path, status: response.status, message: daemonMessage(response))
    }

    /// Extracts the daemon's message: `{"message": …}`, problem+json `detail`/`title`, or text.
    public static func daemonMessage(_ response: YagnaResponse) -> String? {
        guard !response.content.isEmpty else { return nil }
        // An answer made in this process carries its value: no bytes to write and parse again.
        if let json = response.json ?? (try? JSONParser.parse(response.body)) {
            if case .object(let o) = json {
                for key in ["message", "detail", "title", "error"] {
                    if case .string(let s)? = o[key] { return s }
                }
                if o["message"] != nil { return nil }
            }
            if case .string(let s) = json { return s }
            return JSONWriter.string(json)
        }
        let text = String(decoding: response.body.prefix(2000), as: UTF8.self)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A body that does not decode into the expected model.
    public static func malformed(_ request: YagnaRequest, status: Int, error: any Error) -> YagnaError {
        if let d = error as? DecodingError {
            return YagnaError(
                code: .malformedResponse, operation: request.operation, method: request.method, path: request.path,
                status: status, message: d.reason, field: d.fieldPath)
        }
        return YagnaError(
            code: .malformedResponse, operation: request.operation, method: request.method, path: request.path,
            status: status, message: "\(error)")
    }

    /// A request whose body could not be encoded (a non-finite number, say).
    public static func invalidRequest(_ request: YagnaRequest, error: any Error) -> YagnaError {
        YagnaError(
            code: .badRequest, operation: request.operation, method: request.method, path: request.path, status: nil,
            message: "could not encode the request body: \(error)")
    }
}
