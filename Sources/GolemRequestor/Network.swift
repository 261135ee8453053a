public import YagnaAPI
import Logging

/// A virtual private network between the requestor and its providers (the net API), as
/// yapapi's `Golem.create_network` offers: the requestor takes the first address, each
/// provider node added gets the next free one, and a deploy joins the activity to it.
///
/// ```swift
/// let network = try await golem.createNetwork("192.168.0.0/24")
/// var options = ServiceOptions()
/// options.network = network
/// _ = try await golem.runService(payload: image, numInstances: 2, options: options, make: { _ in MyService() }) { cluster in … }
/// ```
/// With `ServiceOptions.network`, `runService` adds each instance's provider and deploys with
/// the network; networks still open when `withGolem` ends are removed.
public actor GolemNetwork {
    public nonisolated let id: String
    /// The network's address, mask and the requestor's own address.
    public nonisolated let ip: String
    public nonisolated let mask: String
    public nonisolated let ownerIp: String
    nonisolated let yagna: YagnaClient
    let base: UInt32
    let size: UInt32
    var nextHost: UInt32 = 2
    /// Node id by address.
    public private(set) var nodes: [String: String] = [:]
    public private(set) var removed = false

    init(id: String, base: UInt32, prefix: Int, ownerIp: String, yagna: YagnaClient) {
        self.id = id
        self.base = base
        self.size = prefix >= 32 ? 1 : UInt32(1) << UInt32(32 - prefix)
        self.ip = IPv4.format(base)
        self.mask = IPv4.format(IPv4.mask(prefix: prefix))
        self.ownerIp = ownerIp
        self.yagna = yagna
    }

    /// Adds a provider node (by node id) and returns its address: `ip` if given, else the next
    /// free one. A node already added keeps its address.
    public func addNode(_ nodeId: String, ip: String? = nil) async throws -> String {
        if let existing = nodes.first(where: { $0.value == nodeId })?.key, ip == nil || ip == existing { return existing }
        let address: String
        if let ip {
            // An explicit address must be a host of this network that nobody holds yet.
            guard let value = IPv4.parse(ip), value &- base > 0, value &- base < size - 1 else {
                throw InvalidNetwork(description: "\(ip) is not a host address of network \(id) (\(self.ip)/\(mask))")
            }
            let canonical = IPv4.format(value)
            if canonical == ownerIp || nodes[canonical] != nil {
                throw InvalidNetwork(description: "\(ip) is already taken in network \(id) (by \(canonical == ownerIp ? "the requestor" : nodes[canonical]!))")
            }
            address = canonical
        } else {
            while nextHost < size - 1, nodes[IPv4.format(base + nextHost)] != nil || IPv4.format(base + nextHost) == ownerIp {
                nextHost += 1
            }
            guard nextHost < size - 1 else { throw NetworkFull(networkId: id) }
            address = IPv4.format(base + nextHost)
            nextHost += 1
        }
        try await yagna.net.addNode(id, nodeId: nodeId, ip: address)
        nodes[address] = nodeId
        return address
    }

    /// The `deploy` command's `net` argument for the node at `nodeIp`: the network and every
    /// node in it so far.
    public func deployArguments(nodeIp: String) -> DeployNetwork {
        var all = nodes
        all[ownerIp] = nil
        return DeployNetwork(id: id, ip: ip, mask: mask, nodeIp: nodeIp, nodes: all)
    }

    /// Removes the network (once; later calls do nothing).
    public func remove() async throws {
        guard !removed else { return }
        removed = true
        try await yagna.net.removeNetwork(id)
    }
}

/// The network has no free address left.
public struct NetworkFull: Error, CustomStringConvertible {
    public var networkId: String
    public var description: String { "network \(networkId) has no free address left" }
}

/// Where an instance sits in a network: passed to its `WorkContext`.
public struct NetworkMembership: Sendable, Hashable {
    public var networkId: String
    public var ip: String
    public var deploy: DeployNetwork
}

/// A network could not be created: the address or mask is not valid.
public struct InvalidNetwork: Error, CustomStringConvertible {
    public var description: String
}

extension Golem {
    /// Creates a network through the net API: `cidr` is its address and prefix
    /// (`192.168.0.0/24`); the requestor takes `ownerIp` (default: the first host address).
    public func createNetwork(_ cidr: String = "192.168.0.0/24", ownerIp: String? = nil) async throws -> GolemNetwork {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = parts.first, let base = IPv4.parse(String(first)),
            let prefix = parts.count == 2 ? Int(parts[1]) : 24, (8...30).contains(prefix)
        else { throw InvalidNetwork(description: "'\(cidr)' is not a network such as 192.168.0.0/24 (prefix 8 to 30)") }
        let mask = IPv4.mask(prefix: prefix)
        let owner = ownerIp ?? IPv4.format((base & mask) + 1)
        guard let ownerValue = IPv4.parse(owner), ownerValue & mask == base & mask else {
            throw InvalidNetwork(description: "the requestor's address \(owner) is not in \(cidr)")
        }
        // The daemon chooses the network's id (an id in the request is ignored).
        let created = try await yagna.net.createNetwork(NetworkBody(ip: IPv4.format(base & mask), mask: IPv4.format(mask)))
        guard let id = created.id else { throw InvalidNetwork(description: "the daemon answered a network without an id") }
        let network = GolemNetwork(id: id, base: base & mask, prefix: prefix, ownerIp: owner, yagna: yagna)
        networks.append(network)
        try await yagna.net.addAddress(id, ip: owner)
        return network
    }

    /// Removes the networks still open (at shutdown).
    func removeNetworks() async {
        for network in networks {
            do { try await network.remove() } catch { logger.warning("could not remove network \(network.id): \(error)") }
        }
        networks.removeAll()
    }
}
