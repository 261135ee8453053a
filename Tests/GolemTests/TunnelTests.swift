import Foundation
import GolemTesting
import GolemTime
import Testing
import YagnaAPI
import YagnaSimulator

/// The VPN's TCP tunnel as the node sees it: which activity and service a tunnel reaches, and
/// what the service answers (the WebSocket carrying the bytes is the server's; the interop run
/// drives it with yapapi's LocalHttpProxy and dapp-runner).
@Suite struct TunnelTests {
    static let provider = "0x" + String(repeating: "7a", count: 20)
    static let scenario = """
        name: tunnel
        providers:
          - name: web
            node-id: "\(provider)"
            offer-delay: 10ms
            response-delay: 10ms
            deploy-duration: 50ms
            command-duration: 20ms
            debit-note-interval: none
            services:
              - port: 80
                files: /srv/www
                http:
                  - {path: /status, content-type: application/json, body: '{"ok": true}', headers: {X-Served-By: golem-sim}}
                  - {path: /form, method: POST, status: 201, body: created}
                  - {path: /notes, method: POST, status: 302, headers: {Location: /notes}, save: /srv/notes.txt, field: message}
                  - {path: /notes, method: GET, body: "on {provider}:\\n{file:/srv/notes.txt}"}
              - port: 7
                echo: true
              - port: 22
                banner: "SSH-2.0-OpenSSH_9.6\\r\\n"
        """

    func tunnelRequest(_ network: String, _ ip: String, _ port: Int, key: String = "k", v2: Bool = false) -> NodeRequest {
        let root = v2 ? "/net-api/v2/vpn" : "/net-api/v1"
        return NodeRequest(method: .GET, path: "\(root)/net/\(network)/tcp/\(ip)/\(port)", query: [], headers: [Header("Authorization", "Bearer \(key)")], body: [])
    }

    /// Bytes in, the service's answer out, as the server's WebSocket loop does.
    func exchange(_ node: SimulatedNode, _ target: TunnelTarget, _ connection: inout TunnelConnection, _ text: String) async -> (String, closed: Bool) {
        var out: [UInt8] = []
        var closed = false
        for event in connection.receive(Array(text.utf8)) {
            switch event {
            case .send(let bytes): out += bytes
            case .request(let r): out += node.tunnelAnswer(r, target)
            case .close: closed = true
            }
        }
        return (String(decoding: out, as: UTF8.self), closed)
    }

    @Test func aTunnelReachesTheServicesOfTheActivityAtThatAddress() async throws {
        let scenario = try Scenario.parse(yaml: Self.scenario)
        try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let activity = try await y.approvedActivity(clock: clock).activity
            let network = try await y.net.createNetwork(NetworkBody(ip: "192.168.0.0/24"))
            let id = try #require(network.id)
            try await y.net.addAddress(id, ip: "192.168.0.1")
            try await y.net.addNode(id, nodeId: Self.provider, ip: "192.168.0.2")
            // Added to the network but not deployed in it: nothing listens yet (opens, then closes).
            let early = try #require(node.openTunnel(tunnelRequest(id, "192.168.0.2", 80)))
            #expect(early.service == nil && TunnelConnection(service: early.service).opening() == [.close])
            #expect(early.nothingListens?.hasPrefix("no activity of web is running at 192.168.0.2") == true)
            let deploy = DeployNetwork(id: id, ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2", nodes: ["192.168.0.1": "0xr", "192.168.0.2": Self.provider])
            let batch = try await y.activity.exec(activity, commands: [
                .deploy(DeployCommand(net: [deploy])), .start(StartCommand()),
                .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "mkdir -p /srv/www && echo '<h1>hi</h1>' > /srv/www/index.html"])),
            ])
            var results: [ExeScriptCommandResult] = []
            for _ in 0..<30 where results.last?.isBatchFinished != true { results = try await y.activity.results(activity, batchId: batch, timeout: .seconds(5)) }
            #expect(results.map(\.result) == [.ok, .ok, .ok])

            // Not a tunnel the daemon opens: the ordinary path answers (401, 504, 403…).
            #expect(node.openTunnel(tunnelRequest(id, "192.168.0.2", 80, key: "wrong")) == nil)
            #expect(node.openTunnel(tunnelRequest(id, "192.168.0.9", 80)) == nil)
            #expect(node.openTunnel(tunnelRequest("nope", "192.168.0.2", 80)) == nil)

            // Port 80: the activity's files and the canned routes, pipelined and split requests.
            let web = try #require(node.openTunnel(tunnelRequest(id, "192.168.0.2", 80, v2: true)))
            #expect(web.activityId == activity && web.service?.port == 80)
            var http = TunnelConnection(service: web.service)
            #expect(http.opening().isEmpty)
            let (page, _) = await exchange(node, web, &http, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /status HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(page.hasPrefix("HTTP/1.1 200 OK\r\n") && page.contains("Content-Type: text/html\r\nContent-Length: 12\r\n\r\n<h1>hi</h1>\n"))
            #expect(page.contains("Content-Type: application/json\r\nContent-Length: 12\r\nX-Served-By: golem-sim\r\n\r\n{\"ok\": true}"))
            let (partial, _) = await exchange(node, web, &http, "POST /form HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")
            #expect(partial.isEmpty)
            let (posted, _) = await exchange(node, web, &http, "cde")
            #expect(posted.hasPrefix("HTTP/1.1 201 Created\r\n") && posted.hasSuffix("\r\n\r\ncreated"))
            // A form saved into the activity shows on the page that reads it (yapapi's webapp).
            let form = "message=hello+there%21"
            let (saved, _) = await exchange(node, web, &http, "POST /notes HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)")
            #expect(saved.hasPrefix("HTTP/1.1 302 Found\r\n") && saved.contains("Location: /notes\r\n"))
            let (notes, _) = await exchange(node, web, &http, "GET /notes HTTP/1.1\r\n\r\n")
            #expect(notes.hasSuffix("\r\n\r\non web:\nhello there!\n"), "\(notes)")
            let (missing, _) = await exchange(node, web, &http, "GET /../../etc/passwd HTTP/1.1\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            let (head, closed) = await exchange(node, web, &http, "HEAD /index.html HTTP/1.1\r\nConnection: close\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.hasSuffix("Content-Length: 12\r\n\r\n") && closed)
            var bad = TunnelConnection(service: web.service)
            let (refused, badClosed) = await exchange(node, web, &bad, "NOT HTTP\r\n\r\n")
            #expect(refused.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && badClosed)

            // Echo and banner services; a port with nothing listening closes.
            let echo = try #require(node.openTunnel(tunnelRequest(id, "192.168.0.2", 7)))
            var echoes = TunnelConnection(service: echo.service)
            #expect(await exchange(node, echo, &echoes, "ping").0 == "ping")
            let ssh = try #require(node.openTunnel(tunnelRequest(id, "192.168.0.2", 22)))
            #expect(TunnelConnection(service: ssh.service).opening() == [.send(Array("SSH-2.0-OpenSSH_9.6\r\n".utf8))])
            let nothing = try #require(node.openTunnel(tunnelRequest(id, "192.168.0.2", 8080)))
            #expect(TunnelConnection(service: nothing.service).opening() == [.close])
            #expect(nothing.nothingListens?.contains("nothing listens on port 8080 of web at 192.168.0.2: the scenario declares services on port(s) 80, 7, 22") == true,
                    "\(String(describing: nothing.nothingListens))")

            // Each opened tunnel is journalled as a 101 exchange.
            let opened = node.journal.filter { $0.status == 101 }
            #expect(opened.count == 5 && opened.allSatisfy { $0.path.contains("/tcp/192.168.0.2/") })
            // After the activity is destroyed, the address leads nowhere.
            try await y.activity.destroy(activity)
            let gone = try #require(node.openTunnel(tunnelRequest(id, "192.168.0.2", 80)))
            #expect(gone.service == nil)
        }
    }

    static let uploadScenario = """
        name: uploads
        providers:
          - name: web
            node-id: "\(provider)"
            offer-delay: 10ms
            response-delay: 10ms
            deploy-duration: 50ms
            command-duration: 20ms
            debit-note-interval: none
            services:
              - port: 5000
                http:
                  - {path: /, method: POST, upload: /app/uploads, field: file, status: 302, headers: {Location: /}}
                  - {path: "/images/{name}", file: "/app/uploads/{name}"}
                  - {path: "/raw/{name}", file: "/app/uploads/{name}", content-type: application/x-raw, headers: {X-Name: "{name}"}}
                  - {path: /, method: GET, content-type: text/html, body: "<ul>{each:/app/uploads}<li><img src=\\"/images/{name}\\"> {size}</li>{end}</ul>"}
        """

    /// A multipart body as browsers and `curl -F` send it.
    static func multipart(_ boundary: String, _ parts: [(field: String, filename: String?, bytes: String)]) -> String {
        var body = ""
        for part in parts {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.field)\""
            if let filename = part.filename { body += "; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream" }
            body += "\r\n\r\n\(part.bytes)\r\n"
        }
        return body + "--\(boundary)--\r\n"
    }

    /// yapapi's webapp_fileupload: files POSTed as multipart/form-data are stored in the
    /// activity under safe names, the page lists them, and each is served at a path named at
    /// run time.
    @Test func uploadedFilesAreStoredListedAndServed() async throws {
        let scenario = try Scenario.parse(yaml: Self.uploadScenario)
        try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let activity = try await y.approvedActivity(clock: clock).activity
            let network = try #require(try await y.net.createNetwork(NetworkBody(ip: "192.168.0.0/24")).id)
            try await y.net.addNode(network, nodeId: Self.provider, ip: "192.168.0.2")
            let deploy = DeployNetwork(id: network, ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2", nodes: ["192.168.0.2": Self.provider])
            let batch = try await y.activity.exec(activity, commands: [.deploy(DeployCommand(net: [deploy])), .start(StartCommand())])
            var results: [ExeScriptCommandResult] = []
            for _ in 0..<30 where results.last?.isBatchFinished != true { results = try await y.activity.results(activity, batchId: batch, timeout: .seconds(5)) }
            #expect(results.map(\.result) == [.ok, .ok])
            let web = try #require(node.openTunnel(tunnelRequest(network, "192.168.0.2", 5000)))
            var http = TunnelConnection(service: web.service)

            func post(_ body: String, boundary: String = "XyZ") async -> String {
                let request = "POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                return await exchange(node, web, &http, request).0
            }
            // Two uploads (one named with a path and a space: stored under a safe name) and a
            // form field that is not a file.
            let first = await post(Self.multipart("XyZ", [("note", nil, "not a file"), ("file", "../../etc/cat picture%.png", "PNG\r\n--XyZ-not-a-boundary")]))
            #expect(first.hasPrefix("HTTP/1.1 302 Found\r\n") && first.contains("Location: /\r\n"), "\(first)")
            let second = await post(Self.multipart("b2", [("file", "a.txt", "hello")]), boundary: "b2")
            #expect(second.hasPrefix("HTTP/1.1 302 Found\r\n"))
            // A file under another field is not taken; no file at all is refused.
            let other = await post(Self.multipart("b3", [("avatar", "x.png", "zzz")]), boundary: "b3")
            #expect(other.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(other)")

            let (page, _) = await exchange(node, web, &http, "GET / HTTP/1.1\r\n\r\n")
            #expect(page.hasSuffix("\r\n\r\n<ul><li><img src=\"/images/a.txt\"> 5</li><li><img src=\"/images/etc_cat_picture.png\"> 25</li></ul>"), "\(page)")
            let (image, _) = await exchange(node, web, &http, "GET /images/etc_cat_picture.png HTTP/1.1\r\n\r\n")
            #expect(image.hasPrefix("HTTP/1.1 200 OK\r\n") && image.contains("Content-Type: image/png\r\n"))
            #expect(image.hasSuffix("\r\n\r\nPNG\r\n--XyZ-not-a-boundary"), "\(image)")
            let (raw, _) = await exchange(node, web, &http, "GET /raw/a%2Etxt HTTP/1.1\r\n\r\n")
            #expect(raw.contains("Content-Type: application/x-raw\r\n") && raw.contains("X-Name: a.txt\r\n") && raw.hasSuffix("\r\n\r\nhello"), "\(raw)")
            // Names that would leave the directory, or files that do not exist: 404.
            for path in ["/images/..", "/images/%2E%2E", "/images/a%2F..%2F..%2Fx", "/images/missing.png", "/images/a.txt/more"] {
                let (answer, _) = await exchange(node, web, &http, "GET \(path) HTTP/1.1\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(path): \(answer)")
            }
        }
    }

    @Test func routesAreCheckedAtLoad() throws {
        for (route, key) in [
            ("{path: /x, upload: relative}", "upload"),
            ("{path: /x, file: relative}", "file"),
            ("{path: \"/x/{name}\", file: \"/d/{other}\"}", "file"),
            ("{path: /x, body: hi, file: /d/f}", "file"),
            ("{path: /x, save: /a, upload: /b}", "upload"),
            ("{path: \"/x/{na me}\", body: hi}", "path"),
            ("{path: \"/x/a{name}\", body: hi}", "path"),
            ("{path: \"/{a}/{a}\", body: hi}", "path"),
            ("{path: /x, field: f}", "field"),
        ] {
            let yaml = "name: t\nproviders:\n  - name: p\n    services:\n      - port: 80\n        http:\n          - \(route)\n"
            let error = #expect(throws: ScenarioError.self, "\(route)") { try Scenario.parse(yaml: yaml, file: "s.yaml") }
            #expect(error?.key == key, "\(route): \(String(describing: error))")
        }
    }

    @Test func servicesAreCheckedAtLoad() throws {
        for (yaml, key) in [
            ("[{port: 0, echo: true}]", "port"),
            ("[{port: 80}]", "port"),
            ("[{port: 80, echo: true, banner: hi}]", "port"),
            ("[{port: 80, files: relative/dir}]", "files"),
            ("[{port: 80, http: [{path: nope}]}]", "path"),
            ("[{port: 7, echo: true}, {port: 7, echo: true}]", "port"),
        ] {
            let error = #expect(throws: ScenarioError.self, "\(yaml)") {
                try Scenario.parse(yaml: "name: t\nproviders:\n  - name: p\n    services: \(yaml)\n", file: "s.yaml")
            }
            #expect(error?.key == key, "\(yaml): \(String(describing: error))")
            #expect(error?.line == 4, "\(yaml): \(String(describing: error))")
        }
    }
}

@Suite struct TunnelFrameTests {
    /// A response goes through the tunnel as a server's writes would: the head alone, then the
    /// body in pieces — a body that holds a blank line of its own is not glued to the head.
    @Test func theHeadGoesAloneThenTheBodyInPieces() {
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".utf8)
        let body = Array("ab\r\n\r\ncdef".utf8)
        let frames = TunnelConnection.frames(head + body, maxFrame: 4)
        #expect(frames.first == head)
        #expect(frames.dropFirst().allSatisfy { $0.count <= 4 })
        #expect(Array(frames.dropFirst().joined()) == body)
        // No body: the head alone; no head at all (an echo's bytes): one piece.
        #expect(TunnelConnection.frames(head) == [head])
        #expect(TunnelConnection.frames(Array("raw".utf8)) == [Array("raw".utf8)])
        #expect(TunnelConnection.frames([]) == [])
    }
}
