import YagnaAPI
import GolemTime

/// The requestor side of the net API (`/net-api/v1/net`) as a sans-I/O state machine: networks
/// the requestor creates, its own addresses in them, the provider nodes it adds, and their
/// removal. Deploys check their `net` arguments against it.
struct NetStateMachine: Sendable {
    struct Network: Sendable {
        var body: NetworkBody
        /// The network's address and prefix as numbers.
        var base: UInt32
        var prefix: Int
        /// The requestor's addresses.
        var addresses: [String] = []
        /// Node id by address.
        var nodes: [String: String] = [:]
        var removed = false

        func contains(_ ip: UInt32) -> Bool {
            let mask = IPv4.mask(prefix: prefix)
            return ip & mask == base & mask
        }
    }

    var networks: [String: Network] = [:]
    var order: [String] = []

    /// `POST /net`: the id is the requestor's when it sends one, else `fresh`.
    mutating func create(_ body: NetworkBody, fresh: String) -> YagnaResponse {
        guard let base = IPv4.parse(body.ip) else {
            return NodeCore.message(400, "invalid network address '\(body.ip)'; expected an IPv4 address such as 192.168.0.0")
        }
        var prefix = 24
        if let mask = body.mask {
            guard let m = IPv4.parse(mask), let p = IPv4.prefixLength(m) else {
                return NodeCore.message(400, "invalid network mask '\(mask)'; expected a contiguous mask such as 255.255.255.0")
            }
            prefix = p
        }
        let id = body.id ?? fresh
        if let existing = networks[id], !existing.removed { return NodeCore.message(409, "network \(id) already exists") }
        var stored = body
        stored.id = id
        if stored.mask == nil { stored.mask = IPv4.format(IPv4.mask(prefix: prefix)) }
        networks[id] = Network(body: stored, base: base, prefix: prefix)
        if !order.contains(id) { order.append(id) }
        return NodeCore.encode(201, stored)
    }

    /// `POST /net/{id}/addresses` and `POST /net/{id}/nodes`.
    mutating func add(to id: String, ip: String, node: String?) -> YagnaResponse {
        guard var network = networks[id], !network.removed else { return NodeCore.message(404, "network \(id) not found") }
        guard let address = IPv4.parse(ip), network.contains(address) else {
            return NodeCore.message(400, "address '\(ip)' is not in network \(id) (\(network.body.ip)/\(network.prefix))")
        }
        guard address != network.base else { return NodeCore.message(400, "address '\(ip)' is the network's own address") }
        if network.addresses.contains(ip) || network.nodes[ip] != nil { return NodeCore.message(409, "address '\(ip)' is already taken in network \(id)") }
        if let node { network.nodes[ip] = node } else { network.addresses.append(ip) }
        networks[id] = network
        return YagnaResponse(status: 201)
    }

    mutating func remove(_ id: String) -> YagnaResponse {
        guard var network = networks[id], !network.removed else { return NodeCore.message(404, "network \(id) not found") }
        network.removed = true
        networks[id] = network
        return YagnaResponse(status: 200)
    }

    /// Why a deploy's `net` argument cannot join its network on `nodeId` (`nil`: it can).
    func refusal(_ net: DeployNetwork, nodeId: String) -> String? {
        guard let network = networks[net.id], !network.removed else { return "deploy: network \(net.id) does not exist (create it through the net API first)" }
        guard network.nodes[net.nodeIp] == nodeId else {
            return "deploy: address \(net.nodeIp) in network \(net.id) was not given to this node (\(nodeId)); add the node first"
        }
        return nil
    }
}

extension NodeCore {
    mutating func net(_ request: NodeRequest, _ rest: [String]) -> YagnaResponse {
        switch (request.method, rest.count) {
        case (.POST, 1) where rest[0] == "net":
            switch body(NetworkBody.self, request) {
            case .failure(let bad): return bad.response
            case .success(let b): return netState.create(b, fresh: random.hex(32))
            }
        case (.POST, 3) where rest[0] == "net" && rest[2] == "addresses":
            switch body(NetworkAddress.self, request) {
            case .failure(let bad): return bad.response
            case .success(let a): return netState.add(to: rest[1], ip: a.ip, node: nil)
            }
        case (.POST, 3) where rest[0] == "net" && rest[2] == "nodes":
            switch body(NetworkNode.self, request) {
            case .failure(let bad): return bad.response
            case .success(let n): return netState.add(to: rest[1], ip: n.ip, node: n.id)
            }
        case (.DELETE, 2) where rest[0] == "net": return netState.remove(rest[1])
        default: return NodeCore.message(404, "no such endpoint: \(request.method.rawValue) \(request.path)")
        }
    }
}
