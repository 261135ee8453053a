import Foundation
@testable import GolemExamples
import GolemRequestor
import GolemTesting
import GolemTime
import Testing
import YagnaAPI
import YagnaSimulator

@Suite struct NetworkTests {
    /// The examples print command output without the white space around it.
    @Test func exampleOutputIsTrimmed() {
        #expect(trimmed(nil) == "")
        #expect(trimmed("") == "")
        #expect(trimmed(" \n\t\r\n") == "")
        #expect(trimmed("192.168.0.2\n") == "192.168.0.2")
        #expect(trimmed("\r\n  a b\n c \u{2003}\n") == "a b\n c")
        #expect(trimmed("x") == "x")
    }

    /// The file-service example: two instances in a network move files both ways.
    @Test func fileServiceInstancesJoinTheNetworkAndMoveFiles() async throws {
        let report = try await SimulatedNetwork.runExample(scenario: try shipped("file-service"))
        #expect(report.passed, "\(report.failures)")
        // Created once, both providers added, removed at the end.
        #expect(report.state.networks.count == 1)
        #expect(report.state.networks.allSatisfy { $0.removed })
        #expect(Set(report.state.networks[0].nodes.keys) == ["192.168.0.2", "192.168.0.3"])
        // Every sample came back in the downloaded log; each instance saw its own address.
        #expect(report.output.filter { $0.contains("log holds 4 samples") && $0.hasSuffix("checked") }.count == 2)
        #expect(report.output.contains { $0.hasSuffix("network address 192.168.0.2") })
        #expect(report.output.contains { $0.hasSuffix("network address 192.168.0.3") })
        // On the wire: the requestor's own address, and the deploys carry the network.
        let addresses = report.journal.filter { $0.method == "POST" && $0.path.hasSuffix("/addresses") }
        #expect(addresses.count == 1)
        #expect(String(decoding: addresses[0].requestBody, as: UTF8.self).contains("192.168.0.1"))
        let deploys = report.journal.filter { $0.path.hasSuffix("/exec") && String(decoding: $0.requestBody, as: UTF8.self).contains("deploy") }
        #expect(deploys.count == 2)
        #expect(deploys.allSatisfy { String(decoding: $0.requestBody, as: UTF8.self).contains(#"nodeIp\":\"192.168.0."#) })
    }

    /// The net API's rules on the node, as yagna 0.17.6 answers them.
    @Test func theNodeAnswersNetRequestsAsTheDaemon() async throws {
        try await FrontEnd.inProcess.run(try fastScenario()) { transport, _ in
            let y = YagnaClient(transport: transport)
            // No network yet: an unknown one is not found.
            #expect(await code { try await y.net.removeNetwork("00000000000000000000000000000001") } == .notFound)
            // The daemon picks the id (an id in the body is ignored) and answers 200.
            let net = try await y.net.createNetwork(NetworkBody(id: "n1", ip: "10.0.0.0", mask: "255.255.0.0"))
            let id = try #require(net.id)
            #expect(id != "n1" && id.count == 32)
            #expect(net.ip == "10.0.0.0/16" && net.mask == "255.255.0.0" && net.gateway == "10.0.0.1")
            #expect(try await raw(transport, .net, .POST, "/net", #"{"ip":"10.0.0"}"#) == 400)
            #expect(try await raw(transport, .net, .POST, "/net", #"{"mask":"255.255.255.0"}"#) == 400)
            // A mask is read up to its first zero bit; CIDR form and gateways are accepted.
            let odd = try await y.net.createNetwork(NetworkBody(ip: "10.1.0.0", mask: "255.0.255.0"))
            #expect(odd.ip == "10.1.0.0/8" && odd.mask == "255.0.0.0")
            let cidr = try await y.net.createNetwork(NetworkBody(ip: "10.20.0.1/16", gateway: "10.20.0.254"))
            #expect(cidr.ip == "10.20.0.1/16" && cidr.mask == "255.255.0.0" && cidr.gateway == "10.20.0.254")
            // The first host address is the requestor's from the start; assigning it again is fine.
            try await y.net.addAddress(id, ip: "10.0.0.1")
            #expect(try await raw(transport, .net, .POST, "/net/\(id)/addresses", #"{"ip":"10.0.9.1"}"#) == 200)
            #expect(try await raw(transport, .net, .POST, "/net/\(id)/addresses", #"{"ip":"10.1.0.1"}"#) == 400)
            // Nodes: outside the network 400; an address taken or the same node again is fine.
            #expect(try await raw(transport, .net, .POST, "/net/\(id)/nodes", #"{"id":"0xabc","ip":"11.0.0.1"}"#) == 400)
            try await y.net.addNode(id, nodeId: "0xabc", ip: "10.0.0.2")
            try await y.net.addNode(id, nodeId: "0xabc", ip: "10.0.0.2")
            try await y.net.addNode(id, nodeId: "0xdef", ip: "10.0.0.2")
            #expect(try await raw(transport, .net, .POST, "/net/\(id)/nodes", #"{"ip":"10.0.0.3"}"#) == 400)
            #expect(try await raw(transport, .net, .DELETE, "/net/\(id)/nodes/0xabc", nil) == 200)
            #expect(try await raw(transport, .net, .DELETE, "/net/\(id)/nodes/0xabc", nil) == 200)
            // Someone else's (or an unknown) network while the requestor has some: 403.
            #expect(try await raw(transport, .net, .POST, "/net/nope/nodes", #"{"id":"0xabc","ip":"10.0.0.2"}"#) == 403)
            #expect(try await raw(transport, .net, .GET, "/net/\(id)/tcp", nil) == 404)
            try await y.net.removeNetwork(id)
            #expect(await code { try await y.net.removeNetwork(id) } == .forbidden)
            try await y.net.removeNetwork(odd.id!)
            try await y.net.removeNetwork(cidr.id!)
            #expect(await code { try await y.net.removeNetwork(id) } == .notFound)
        }
    }

    @Test func aDeployIntoAnUnknownNetworkFails() async throws {
        try await FrontEnd.inProcess.run(try fastScenario()) { transport, clock in
            let y = YagnaClient(transport: transport)
            let activity = try await y.approvedActivity(clock: clock).activity
            let batch = try await y.activity.exec(activity, commands: [
                .deploy(DeployCommand(net: [DeployNetwork(id: "missing", ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2", nodes: [:])])),
                .start(StartCommand()),
            ])
            var results: [ExeScriptCommandResult] = []
            for _ in 0..<30 where results.last?.isBatchFinished != true { results = try await y.activity.results(activity, batchId: batch, timeout: .seconds(5)) }
            #expect(results.count == 1 && results[0].result == .error)
            #expect(results[0].message?.contains("network missing does not exist") == true, "\(results)")
            // The refused deploy left the activity Initialized: a deploy without the network works.
            let retry = try await y.activity.exec(activity, commands: [.deploy(DeployCommand()), .start(StartCommand())])
            results = []
            for _ in 0..<30 where results.last?.isBatchFinished != true { results = try await y.activity.results(activity, batchId: retry, timeout: .seconds(5)) }
            #expect(results.map(\.result) == [.ok, .ok])
        }
    }

    @Test func networksLeftOpenAreRemovedAtShutdown() async throws {
        let report = try await SimulatedNetwork.run(scenario: try fastScenario()) { golem in
            let network = try await golem.createNetwork("172.16.0.0/16")
            #expect(network.ip == "172.16.0.0" && network.mask == "255.255.0.0" && network.ownerIp == "172.16.0.1")
            let a = try await network.addNode("0x01")
            let b = try await network.addNode("0x02")
            #expect([a, b] == ["172.16.0.2", "172.16.0.3"])
            #expect(try await network.addNode("0x01") == a)
            let args = await network.deployArguments(nodeIp: b)
            #expect(args.nodes == ["172.16.0.2": "0x01", "172.16.0.3": "0x02"])
            await #expect(throws: InvalidNetwork.self) { _ = try await golem.createNetwork("300.1.0.0/24") }
        }
        #expect(report.passed, "\(report.failures)")
        #expect(report.state.networks.count == 1 && report.state.networks[0].removed)
    }
}


@Suite struct ExeUnitStateTests {
    /// The node refuses a command the activity's state does not allow, like the exe-unit.
    /// An empty script is a batch like any other: its id comes back and its results are `[]` at
    /// once (yapapi's service keep-alive sends one), as the daemon and exe-unit answer.
    @Test func anEmptyScriptIsABatchWithNoResults() async throws {
        try await FrontEnd.inProcess.run(try fastScenario()) { transport, clock in
            let y = YagnaClient(transport: transport)
            let activity = try await y.approvedActivity(clock: clock).activity
            let batch = try await y.activity.exec(activity, commands: [])
            let before = clock.now
            #expect(try await y.activity.results(activity, batchId: batch, timeout: .seconds(5)).isEmpty)
            #expect(clock.now == before, "the answer did not wait for the poll's timeout")
        }
    }

    @Test func aRunBeforeStartFailsItsBatch() async throws {
        try await FrontEnd.inProcess.run(try fastScenario()) { transport, clock in
            let y = YagnaClient(transport: transport)
            let activity = try await y.approvedActivity(clock: clock).activity
            let batch = try await y.activity.exec(activity, commands: [.run(RunCommand(entryPoint: "/bin/echo", args: ["early"], capture: .atEnd))])
            var results: [ExeScriptCommandResult] = []
            for _ in 0..<30 where results.last?.isBatchFinished != true { results = try await y.activity.results(activity, batchId: batch, timeout: .seconds(5)) }
            #expect(results.count == 1 && results[0].result == .error)
            #expect(results[0].message?.contains("Initialized, not Ready") == true, "\(results)")
            #expect(try await y.activity.state(activity).current == .initialized)
        }
    }
}
