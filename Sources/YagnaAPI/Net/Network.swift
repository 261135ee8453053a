/// A virtual private network of the net API (`/net-api/v1/net`): the requestor creates it,
/// adds its own address and each provider node with theirs, and hands the providers its
/// `DeployNetwork` arguments at deploy.
public struct NetworkBody: Codable, Sendable, Hashable {
    /// Chosen by the requestor (yapapi sends a uuid4 hex); the node keeps it.
    public var id: String?
    /// The network's address (`192.168.0.0`).
    public var ip: String
    public var mask: String?
    public var gateway: String?
    public var unknownFields = UnknownFields()

    public init(id: String? = nil, ip: String, mask: String? = nil, gateway: String? = nil) {
        self.id = id
        self.ip = ip
        self.mask = mask
        self.gateway = gateway
    }
}

/// `POST /net/{id}/addresses`: an address of the requestor in the network.
public struct NetworkAddress: Codable, Sendable, Hashable {
    public var ip: String
    public var unknownFields = UnknownFields()
    public init(ip: String) { self.ip = ip }
}

/// `POST /net/{id}/nodes`: a provider node and its address in the network.
public struct NetworkNode: Codable, Sendable, Hashable {
    /// The node id (`0x…`).
    public var id: String
    public var ip: String
    public var unknownFields = UnknownFields()
    public init(id: String, ip: String) {
        self.id = id
        self.ip = ip
    }
}

/// The requestor side of the net API (`/net-api/v1`).
public struct NetAPI: Sendable {
    let caller: Caller
    public init(transport: any Transport) { caller = Caller(transport: transport, service: .net) }

    /// Creates a network; returns it as the node recorded it.
    public func createNetwork(_ network: NetworkBody) async throws -> NetworkBody {
        try await caller.decode(NetworkBody.self, try caller.withBody(caller.request("net.createNetwork", .POST, "/net"), network))
    }

    public func addAddress(_ networkId: String, ip: String) async throws {
        try await caller.perform(try caller.withBody(caller.request("net.addAddress", .POST, "/net/\(networkId)/addresses"), NetworkAddress(ip: ip)))
    }

    public func addNode(_ networkId: String, nodeId: String, ip: String) async throws {
        try await caller.perform(try caller.withBody(caller.request("net.addNode", .POST, "/net/\(networkId)/nodes"), NetworkNode(id: nodeId, ip: ip)))
    }

    public func removeNetwork(_ networkId: String) async throws {
        try await caller.perform(caller.request("net.removeNetwork", .DELETE, "/net/\(networkId)"))
    }
}

/// IPv4 addresses as numbers, for the net API's networks (requestor and simulator share it).
public enum IPv4 {
    /// `192.168.0.1` → its 32-bit value, or `nil` for anything else.
    public static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for p in parts {
            guard let octet = UInt8(p) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    public static func format(_ value: UInt32) -> String {
        [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    /// The mask of a prefix length (`24` → `255.255.255.0` as a number).
    public static func mask(prefix: Int) -> UInt32 { prefix <= 0 ? 0 : ~UInt32(0) << UInt32(32 - min(prefix, 32)) }

    /// The prefix length of a contiguous mask (`255.255.255.0` → 24), or `nil` for any other.
    public static func prefixLength(_ mask: UInt32) -> Int? {
        let ones = mask.nonzeroBitCount
        return mask == self.mask(prefix: ones) ? ones : nil
    }
}
