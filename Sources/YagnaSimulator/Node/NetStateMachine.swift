import Foundation
import YagnaAPI

/// The requestor side of the net API as a sans-I/O state machine, answering as yagna 0.17.6's
/// VPN service does on both of its roots (`/net-api/v1` and `/net-api/v2/vpn` behave alike):
/// networks the requestor creates (the daemon picks their ids), its own addresses in them,
/// the provider nodes it adds, and their removal. Deploys check their `net` arguments against it.
///
/// The daemon's rules, as observed:
/// - creating answers 200 with `{id, ip, mask, gateway}`: `ip` is the address as given with its
///   prefix (`192.168.8.0/24`, `10.20.0.1/16`), a mask is read up to its first zero bit, the
///   default mask is `255.255.255.0`, the gateway defaults to the first host address; an `id`
///   in the body is ignored;
/// - the network's first host address is the requestor's from the start;
/// - a network the requestor does not have answers 403 with an empty body, or 404
///   `Network not found` while the requestor has no network at all;
/// - adding a node at an address already taken succeeds and changes nothing; removing a node
///   succeeds whether or not it is there; removal answers `null`.
struct NetStateMachine: Sendable {
    struct Network: Sendable {
        /// The daemon's id (uuid4 without dashes).
        var id: String
        /// The address as the requestor gave it (not truncated to the network) and the prefix length.
        var address: UInt32
        var prefix: Int
        var gateway: UInt32
        /// The requestor's addresses, in the order assigned (the first host address from the start).
        var addresses: [UInt32]
        /// Node id by address.
        var nodes: [String: String] = [:]
        var removed = false

        var mask: UInt32 { IPv4.mask(prefix: prefix) }

        /// Whether `ip` lies in the network (its network and broadcast addresses included).
        func contains(_ ip: UInt32) -> Bool { ip & mask == address & mask }

        /// The network as the daemon answers it.
        var json: JSONValue {
            .object([
                "id": .string(id),
                "ip": .string("\(IPv4.format(address))/\(prefix)"),
                "mask": .string(IPv4.format(mask)),
                "gateway": .string(IPv4.format(gateway)),
            ])
        }
    }

    /// What the daemon answers when a request fails (its VPN error texts, word for word).
    enum Failure: Error, Sendable {
        /// An address that does not parse.
        case invalidAddress
        /// Loopback, unspecified, multicast or broadcast.
        case notAllowed(UInt32)
        /// A node outside the network, or a network in CIDR form that does not parse.
        case invalidNetworkAddress(String)
        /// A requestor address outside the network.
        case noNetworkFor(UInt32)
        /// The requestor has no network at all.
        case networkNotFound
        /// The requestor has networks, but not this one.
        case forbidden

        var response: YagnaResponse {
            switch self {
            case .invalidAddress: NodeCore.message(400, "Invalid IP address: invalid IP address syntax")
            case .notAllowed(let ip): NodeCore.message(400, "IP address not allowed: \(IPv4.format(ip))")
            case .invalidNetworkAddress(let text): NodeCore.message(400, "Invalid network IP address: \(text)")
            case .noNetworkFor(let ip): NodeCore.message(400, "Network not found for IP address: \(IPv4.format(ip))")
            case .networkNotFound: NodeCore.message(404, "Network not found")
            case .forbidden: YagnaResponse(status: 403)
            }
        }
    }

    var networks: [String: Network] = [:]
    /// Ids in the order created (removed networks stay, marked, for the snapshot).
    var order: [String] = []

    /// The requestor's network `id`, or why the daemon refuses to look at it.
    func owned(_ id: String) -> Result<Network, Failure> {
        if let network = networks[id], !network.removed { return .success(network) }
        return .failure(networks.values.contains { !$0.removed } ? .forbidden : .networkNotFound)
    }

    /// `GET /net`: the requestor's networks, by id.
    func list() -> YagnaResponse {
        .json(200, .array(networks.values.filter { !$0.removed }.sorted { $0.id < $1.id }.map(\.json)))
    }

    /// `GET /net/{id}`.
    func get(_ id: String) -> YagnaResponse {
        switch owned(id) {
        case .failure(let failure): return failure.response
        case .success(let network): return .json(200, network.json)
        }
    }

    /// `POST /net`: a new network with the id `id` (the daemon's choice, never the requestor's).
    mutating func create(ip: String, mask: String?, gateway: String?, id: String) -> YagnaResponse {
        let address: UInt32
        let prefix: Int
        if ip.contains("/") {
            // CIDR form: the mask is ignored; what does not parse is an invalid network address.
            guard let cidr = NetIPv4.parseCIDR(ip) else { return Failure.invalidNetworkAddress(ip).response }
            address = cidr.address
            prefix = cidr.prefix
        } else {
            guard let a = NetIPv4.parse(ip), let m = NetIPv4.parse(mask ?? "255.255.255.0") else {
                return Failure.invalidAddress.response
            }
            address = a
            prefix = (~m).leadingZeroBitCount
        }
        let base = address & IPv4.mask(prefix: prefix)
        let firstHost = prefix < 31 ? base + 1 : base
        var gatewayAddress = firstHost
        if let gateway {
            // Any address is accepted, in the network or not.
            guard let g = NetIPv4.parse(gateway) else { return Failure.invalidAddress.response }
            gatewayAddress = g
        }
        let network = Network(id: id, address: address, prefix: prefix, gateway: gatewayAddress, addresses: [firstHost])
        networks[id] = network
        order.append(id)
        return .json(200, network.json)
    }

    /// `DELETE /net/{id}`.
    mutating func remove(_ id: String) -> YagnaResponse {
        switch owned(id) {
        case .failure(let failure): return failure.response
        case .success(var network):
            network.removed = true
            networks[id] = network
            return NodeCore.okNull
        }
    }

    /// `GET /net/{id}/addresses`: the requestor's addresses with the network's prefix.
    func addresses(_ id: String) -> YagnaResponse {
        switch owned(id) {
        case .failure(let failure): return failure.response
        case .success(let network):
            return .json(200, .array(network.addresses.map { JSONValue.object(["ip": .string("\(IPv4.format($0))/\(network.prefix)")]) }))
        }
    }

    /// `POST /net/{id}/addresses`: an address for the requestor (one it has already is fine).
    mutating func addAddress(_ ip: String, to id: String) -> YagnaResponse {
        var network: Network
        switch owned(id) {
        case .failure(let failure): return failure.response
        case .success(let n): network = n
        }
        guard let address = NetIPv4.parse(ip) else { return Failure.invalidAddress.response }
        guard network.contains(address) else { return Failure.noNetworkFor(address).response }
        if address == UInt32.max || NetIPv4.isMulticast(address) { return Failure.notAllowed(address).response }
        // The daemon's stack takes the address before its network refuses a loopback or
        // unspecified one: the address is listed all the same.
        if !network.addresses.contains(address) { network.addresses.append(address) }
        networks[id] = network
        if NetIPv4.isLoopback(address) || address == 0 { return Failure.notAllowed(address).response }
        return NodeCore.okNull
    }

    /// `GET /net/{id}/nodes`: by node id, then address.
    func nodes(_ id: String) -> YagnaResponse {
        switch owned(id) {
        case .failure(let failure): return failure.response
        case .success(let network):
            let sorted = network.nodes.sorted { ($0.value, NetIPv4.parse($0.key) ?? 0) < ($1.value, NetIPv4.parse($1.key) ?? 0) }
            return .json(200, .array(sorted.map { JSONValue.object(["id": .string($0.value), "ip": .string($0.key)]) }))
        }
    }

    /// `POST /net/{id}/nodes`: a node at an address; an address already taken (by any node)
    /// succeeds and changes nothing.
    mutating func addNode(_ nodeId: String, ip: String, to id: String) -> YagnaResponse {
        var network: Network
        switch owned(id) {
        case .failure(let failure): return failure.response
        case .success(let n): network = n
        }
        guard let address = NetIPv4.parse(ip) else { return Failure.invalidAddress.response }
        guard NetIPv4.mayBeHost(address) else { return Failure.notAllowed(address).response }
        guard network.contains(address) else { return Failure.invalidNetworkAddress(IPv4.format(address)).response }
        let key = IPv4.format(address)
        if network.nodes[key] == nil { network.nodes[key] = nodeId }
        networks[id] = network
        return NodeCore.okNull
    }

    /// `DELETE /net/{id}/nodes/{nodeId}`: every address of the node; succeeds when it has none.
    mutating func removeNode(_ nodeId: String, from id: String) -> YagnaResponse {
        var network: Network
        switch owned(id) {
        case .failure(let failure): return failure.response
        case .success(let n): network = n
        }
        network.nodes = network.nodes.filter { $0.value != nodeId }
        networks[id] = network
        return NodeCore.okNull
    }

    /// `GET /net/{id}/tcp/{ip}/{port}`: the daemon's WebSocket tunnel to a node. The simulator
    /// carries no traffic, so a connection that passes the daemon's checks times out (504, empty).
    func connect(_ id: String, ip: String, port: String) -> YagnaResponse {
        guard UInt16(port) != nil, port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            let text = "Path deserialize error: can not parse \"\(port)\" to a u16"
            return YagnaResponse(status: 404, headers: [Header("Content-Type", NodeCore.plainText)], body: Array(text.utf8))
        }
        if case .failure(let failure) = owned(id) { return failure.response }
        guard let address = NetIPv4.parse(ip) else { return Failure.invalidAddress.response }
        guard NetIPv4.mayBeHost(address) else { return Failure.notAllowed(address).response }
        return YagnaResponse(status: 504)
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

/// IPv4 addresses as the daemon reads them (Rust's `Ipv4Addr` and ipnet's `IpNet`): stricter
/// than the requestor's `IPv4.parse` (no leading zeros outside CIDR); formatting and masks are `IPv4`'s.
enum NetIPv4 {
    /// Rust's `Ipv4Addr` syntax: four decimal octets of one to three digits, no sign, no
    /// leading zeros; `nil` for anything else.
    static func parse(_ text: String) -> UInt32? { parse(text, leadingZeros: false) }

    /// ipnet's `a.b.c.d/p` (its parser, older than Rust's, lets octets have leading zeros).
    static func parseCIDR(_ text: String) -> (address: UInt32, prefix: Int)? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let address = parse(String(parts[0]), leadingZeros: true) else { return nil }
        let digits = parts[1]
        guard (1...2).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let prefix = Int(digits), prefix <= 32
        else { return nil }
        return (address, prefix)
    }

    static func parse(_ text: String, leadingZeros: Bool) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                leadingZeros || part.count == 1 || part.first != "0",
                let octet = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    static func isMulticast(_ ip: UInt32) -> Bool { ip >> 28 == 0xE }
    static func isLoopback(_ ip: UInt32) -> Bool { ip >> 24 == 127 }

    /// What the daemon lets a node (or a connection's far end) have: not loopback,
    /// unspecified, multicast or the broadcast address.
    static func mayBeHost(_ ip: UInt32) -> Bool { !isLoopback(ip) && ip != 0 && !isMulticast(ip) && ip != UInt32.max }
}

/// The bodies as the daemon's models read them: other keys (an `id` included) are ignored.
struct NewNetworkRequest: Decodable, Sendable {
    var ip: String
    var mask: String?
    var gateway: String?
    enum CodingKeys: String, CodingKey { case ip, mask, gateway }
}

struct NetAddressRequest: Decodable, Sendable {
    var ip: String
    enum CodingKeys: String, CodingKey { case ip }
}

struct NetNodeRequest: Decodable, Sendable {
    var id: String
    var ip: String
    enum CodingKeys: String, CodingKey { case id, ip }
}

extension NodeCore {
    /// The net API, `rest` being the path after its root (`/net-api/v1` or `/net-api/v2/vpn`).
    /// Paths the daemon does not route answer 404 with an empty body, whatever the method.
    mutating func net(_ request: NodeRequest, _ rest: [String]) -> YagnaResponse {
        let unrouted = YagnaResponse(status: 404)
        // actix matches segments exactly: an empty one (`//`, a trailing `/`) routes nowhere.
        if request.path.hasSuffix("/") || request.path.contains("//") { return unrouted }
        let p = rest.map { $0.removingPercentEncoding ?? $0 }
        guard p.first == "net" else { return unrouted }
        switch (request.method, p.count) {
        case (.GET, 1): return netState.list()
        case (.POST, 1):
            if let refused = netContentTypeRefusal(request) { return refused }
            switch body(NewNetworkRequest.self, request, style: .text) {
            case .failure(let bad): return bad.response
            case .success(let b):
                let id = String(uuid().filter { $0 != "-" })
                return netState.create(ip: b.ip, mask: b.mask, gateway: b.gateway, id: id)
            }
        case (.GET, 2): return netState.get(p[1])
        case (.DELETE, 2): return netState.remove(p[1])
        case (.GET, 3) where p[2] == "addresses": return netState.addresses(p[1])
        case (.POST, 3) where p[2] == "addresses":
            if let refused = netContentTypeRefusal(request) { return refused }
            switch body(NetAddressRequest.self, request, style: .text) {
            case .failure(let bad): return bad.response
            case .success(let a): return netState.addAddress(a.ip, to: p[1])
            }
        case (.GET, 3) where p[2] == "nodes": return netState.nodes(p[1])
        case (.POST, 3) where p[2] == "nodes":
            if let refused = netContentTypeRefusal(request) { return refused }
            switch body(NetNodeRequest.self, request, style: .text) {
            case .failure(let bad): return bad.response
            case .success(let n): return netState.addNode(n.id, ip: n.ip, to: p[1])
            }
        case (.DELETE, 4) where p[2] == "nodes": return netState.removeNode(p[3], from: p[1])
        case (.GET, 5) where p[2] == "tcp": return netState.connect(p[1], ip: p[3], port: p[4])
        default: return unrouted
        }
    }

    /// actix's JSON extractor wants a JSON content type (`application/json`, `…/json`,
    /// `…+json`); without one it answers 400 `Content type error` as text.
    func netContentTypeRefusal(_ request: NodeRequest) -> YagnaResponse? {
        let media = (request.header("Content-Type") ?? "").split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        let parts = media.split(separator: "/", maxSplits: 1)
        if parts.count == 2, parts[1] == "json" || parts[1].hasSuffix("+json") { return nil }
        return YagnaResponse(status: 400, headers: [Header("Content-Type", NodeCore.plainText)], body: Array("Content type error".utf8))
    }
}
