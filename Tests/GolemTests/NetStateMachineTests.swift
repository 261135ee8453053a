import Foundation
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// The net API's rules on their own (sans I/O): requests in, the daemon's answers out.
@Suite struct NetStateMachineTests {
    func json(_ r: YagnaResponse) -> JSONValue { (try? JSONParser.parse(r.body)) ?? .null }
    func message(_ r: YagnaResponse) -> String { json(r)["message"]?.stringValue ?? String(decoding: r.body, as: UTF8.self) }

    @Test func createdNetworksAnswerAsTheDaemon() {
        var net = NetStateMachine()
        let cidr = net.create(ip: "192.168.0.1/24", mask: nil, gateway: nil, id: "n1")
        #expect(cidr.status == 200)
        #expect(json(cidr) == ["id": "n1", "ip": "192.168.0.1/24", "mask": "255.255.255.0", "gateway": "192.168.0.1"])
        // A mask is read up to its first zero bit; the gateway may lie anywhere.
        let masked = net.create(ip: "10.20.0.0", mask: "255.255.0.255", gateway: "8.8.8.8", id: "n2")
        #expect(json(masked) == ["id": "n2", "ip": "10.20.0.0/16", "mask": "255.255.0.0", "gateway": "8.8.8.8"])
        #expect(json(net.addresses("n2")) == [["ip": "10.20.0.1/16"]])
        #expect(json(net.list()).arrayValue?.count == 2)
        #expect(message(net.create(ip: "192.168.0.1/33", mask: nil, gateway: nil, id: "x")) == "Invalid network IP address: 192.168.0.1/33")
        #expect(message(net.create(ip: "192.168.00.1", mask: nil, gateway: nil, id: "x")) == "Invalid IP address: invalid IP address syntax")
    }

    @Test func nodesAddressesAndRemoval() {
        var net = NetStateMachine()
        _ = net.create(ip: "192.168.0.0/24", mask: nil, gateway: nil, id: "n")
        #expect(net.addNode("0xa", ip: "192.168.0.2", to: "n").status == 200)
        // The same address again, even for another node: success, nothing changes.
        #expect(net.addNode("0xb", ip: "192.168.0.2", to: "n").status == 200)
        #expect(json(net.nodes("n")) == [["id": "0xa", "ip": "192.168.0.2"]])
        #expect(message(net.addNode("0xb", ip: "10.0.0.2", to: "n")) == "Invalid network IP address: 10.0.0.2")
        #expect(message(net.addNode("0xb", ip: "127.0.0.1", to: "n")) == "IP address not allowed: 127.0.0.1")
        // A deploy may join only at the address given to its node.
        #expect(net.refusal(DeployNetwork(id: "n", ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2"), nodeId: "0xa") == nil)
        #expect(net.refusal(DeployNetwork(id: "n", ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2"), nodeId: "0xb") != nil)
        #expect(net.refusal(DeployNetwork(id: "gone", ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2"), nodeId: "0xa") != nil)
        // Removing a node that is not there succeeds; removal answers null.
        #expect(net.removeNode("0xzz", from: "n").body == Array("null".utf8))
        #expect(net.removeNode("0xa", from: "n").status == 200)
        #expect(json(net.nodes("n")) == [])
        // The requestor's own addresses: in the network only.
        #expect(net.addAddress("192.168.0.9", to: "n").status == 200)
        #expect(message(net.addAddress("10.1.1.1", to: "n")) == "Network not found for IP address: 10.1.1.1")
        #expect(json(net.addresses("n")) == [["ip": "192.168.0.1/24"], ["ip": "192.168.0.9/24"]])
    }

    @Test func unknownNetworksAre404WithoutAnyAnd403WithSome() {
        var net = NetStateMachine()
        #expect(net.get("nope").status == 404 && message(net.get("nope")) == "Network not found")
        _ = net.create(ip: "192.168.0.0/24", mask: nil, gateway: nil, id: "n")
        #expect(net.get("nope").status == 403 && net.get("nope").body.isEmpty)
        #expect(net.remove("n").status == 200)
        // Gone: the requestor has no network again.
        #expect(net.get("n").status == 404)
        #expect(net.addNode("0xa", ip: "192.168.0.2", to: "n").status == 404)
        #expect(json(net.list()) == [])
    }

    @Test func theTunnelChecksItsTargetFirst() {
        var net = NetStateMachine()
        _ = net.create(ip: "192.168.0.0/24", mask: nil, gateway: nil, id: "n")
        #expect(net.connect("n", ip: "192.168.0.2", port: "80").status == 504)
        #expect(net.connect("n", ip: "192.168.0.2", port: "http").status == 404)
        #expect(net.connect("n", ip: "192.168.0.2", port: "70000").status == 404)
        #expect(net.connect("other", ip: "192.168.0.2", port: "80").status == 403)
        #expect(net.connect("n", ip: "224.0.0.1", port: "80").status == 400)
    }
}
