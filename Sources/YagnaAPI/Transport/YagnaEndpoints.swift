/// Where each yagna API lives and the app key, read like yapapi reads them.
///
/// `YAGNA_API_URL` (default `http://127.0.0.1:7465`) gives every base; `YAGNA_MARKET_URL`,
/// `YAGNA_ACTIVITY_URL`, `YAGNA_PAYMENT_URL` and `YAGNA_NET_URL` each replace a whole base.
/// `/me` always uses the root. `YAGNA_APPKEY` is the app key.
public struct YagnaEndpoints: Sendable, Hashable {
    public var root: String
    public var market: String
    public var activity: String
    public var payment: String
    public var net: String
    /// The image registry's base URL (`GOLEM_REGISTRY_URL`, default the public registry).
    public var registry: String = "https://registry.golem.network"
    /// The app key. Never printed: `description` redacts it.
    public var appKey: String

    public init(apiURL: String = "http://127.0.0.1:7465", appKey: String) {
        let root = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.root = root
        self.market = root + "/market-api/v1"
        self.activity = root + "/activity-api/v1"
        self.payment = root + "/payment-api/v1"
        self.net = root + "/net-api/v1"
        self.appKey = appKey
    }

    /// Why the environment does not give a usable configuration.
    public struct MissingConfiguration: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Reads the yapapi environment variables.
    /// - Throws: `MissingConfiguration` when `YAGNA_APPKEY` is not set.
    public static func fromEnvironment(_ environment: [String: String]) throws -> YagnaEndpoints {
        guard let key = environment["YAGNA_APPKEY"], !key.isEmpty else {
            throw MissingConfiguration(
                description: "YAGNA_APPKEY is not set: export the app key of your yagna daemon (or the one `golem-sim serve` prints)")
        }
        var endpoints = YagnaEndpoints(apiURL: environment["YAGNA_API_URL"] ?? "http://127.0.0.1:7465", appKey: key)
        if let v = environment["YAGNA_MARKET_URL"] { endpoints.market = v }
        if let v = environment["YAGNA_ACTIVITY_URL"] { endpoints.activity = v }
        if let v = environment["YAGNA_PAYMENT_URL"] { endpoints.payment = v }
        if let v = environment["YAGNA_NET_URL"] { endpoints.net = v }
        if let v = environment["GOLEM_REGISTRY_URL"], !v.isEmpty { endpoints.registry = v.hasSuffix("/") ? String(v.dropLast()) : v }
        return endpoints
    }

    /// The base URL of a service.
    public func base(for service: YagnaService) -> String {
        switch service {
        case .root: root
        case .market: market
        case .activity: activity
        case .payment: payment
        case .net: net
        case .registry: registry
        }
    }
}

extension YagnaEndpoints: CustomStringConvertible {
    public var description: String { "YagnaEndpoints(root: \(root), appKey: <redacted>)" }
}
