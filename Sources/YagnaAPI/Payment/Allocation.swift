public import Foundation

/// A payment platform: a name (`erc20-holesky-tglm`) or its parts.
public enum PaymentPlatform: Codable, Sendable, Hashable {
    case name(String)
    case parts(driver: String?, network: String?, token: String?)

    private enum Keys: String, CodingKey { case driver, network, token }

    public init(from decoder: any Decoder) throws {
        if let s = try? decoder.singleValueContainer().decode(String.self) { self = .name(s); return }
        let c = try decoder.container(keyedBy: Keys.self)
        self = .parts(
            driver: try c.decodeIfPresent(String.self, forKey: .driver),
            network: try c.decodeIfPresent(String.self, forKey: .network),
            token: try c.decodeIfPresent(String.self, forKey: .token))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .name(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .parts(let driver, let network, let token):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encodeIfPresent(driver, forKey: .driver)
            try c.encodeIfPresent(network, forKey: .network)
            try c.encodeIfPresent(token, forKey: .token)
        }
    }

    /// The platform name, with yagna's defaults for missing parts (`erc20`, `holesky`, `tglm`).
    public var platformName: String {
        switch self {
        case .name(let s): return s
        case .parts(let driver, let network, let token):
            let net = network ?? "holesky"
            let tok = token ?? (["mainnet", "polygon"].contains(net) ? "glm" : "tglm")
            return "\(driver ?? "erc20")-\(net)-\(tok)"
        }
    }
}

/// `POST /allocations` body. yapapi sends the whole `Allocation` shape with empty strings in
/// `allocationId`, `spentAmount` and `remainingAmount`; those are kept as unknown fields.
public struct NewAllocation: Codable, Sendable, Hashable {
    public var totalAmount: Decimal
    public var address: String?
    public var paymentPlatform: PaymentPlatform?
    public var timeout: WireTimestamp?
    public var makeDeposit: Bool?
    public var deposit: JSONValue?
    public var extendTimeout: Int?
    public var unknownFields = UnknownFields()

    public init(
        totalAmount: Decimal, address: String? = nil, paymentPlatform: PaymentPlatform? = nil,
        timeout: WireTimestamp? = nil, makeDeposit: Bool? = false
    ) {
        self.totalAmount = totalAmount
        self.address = address
        self.paymentPlatform = paymentPlatform
        self.timeout = timeout
        self.makeDeposit = makeDeposit
    }
}

/// A budget reserved for an app's payments.
public struct Allocation: Codable, Sendable, Hashable {
    public var allocationId: String
    public var address: String?
    public var paymentPlatform: String?
    public var totalAmount: Decimal
    public var spentAmount: Decimal
    public var remainingAmount: Decimal
    public var timestamp: WireTimestamp
    public var createdTs: WireTimestamp?
    public var updatedTs: WireTimestamp?
    public var makeDeposit: Bool
    public var timeout: WireTimestamp?
    public var deposit: JSONValue?
    public var extendTimeout: Int?
    public var unknownFields = UnknownFields()

    public init(
        allocationId: String, address: String?, paymentPlatform: String?, totalAmount: Decimal, spentAmount: Decimal,
        remainingAmount: Decimal, timestamp: WireTimestamp, makeDeposit: Bool = false, timeout: WireTimestamp? = nil
    ) {
        self.allocationId = allocationId
        self.address = address
        self.paymentPlatform = paymentPlatform
        self.totalAmount = totalAmount
        self.spentAmount = spentAmount
        self.remainingAmount = remainingAmount
        self.timestamp = timestamp
        self.createdTs = timestamp
        self.updatedTs = timestamp
        self.makeDeposit = makeDeposit
        self.timeout = timeout
    }
}

/// `PUT /allocations/{id}` body.
public struct AllocationUpdate: Codable, Sendable, Hashable {
    public var totalAmount: Decimal?
    public var timeout: WireTimestamp?
    public var unknownFields = UnknownFields()

    public init(totalAmount: Decimal? = nil, timeout: WireTimestamp? = nil) {
        self.totalAmount = totalAmount
        self.timeout = timeout
    }
}

/// `GET /demandDecorations`: properties (string values) and constraints to merge into a demand.
public struct DemandDecoration: Codable, Sendable, Hashable {
    public struct Property: Codable, Sendable, Hashable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public var properties: [Property]
    public var constraints: [String]
    public var unknownFields = UnknownFields()

    public init(properties: [Property], constraints: [String]) {
        self.properties = properties
        self.constraints = constraints
    }
}

/// A requestor payment account (`GET /requestorAccounts`).
public struct Account: Codable, Sendable, Hashable {
    public var platform: String
    public var address: String
    public var driver: String
    public var network: String
    public var token: String
    public var send: Bool
    public var receive: Bool
    public var unknownFields = UnknownFields()

    public init(platform: String, address: String, driver: String, network: String, token: String, send: Bool, receive: Bool) {
        self.platform = platform
        self.address = address
        self.driver = driver
        self.network = network
        self.token = token
        self.send = send
        self.receive = receive
    }
}
