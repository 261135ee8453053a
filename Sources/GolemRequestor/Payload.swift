public import YagnaAPI

/// What providers must run: a VM image and the resources it needs.
public struct VMPayload: Sendable, Hashable {
    public var imageHash: String?
    public var imageTag: String?
    public var minMemoryGiB: Double = 0.5
    public var minStorageGiB: Double = 2.0
    public var minCPUThreads: Int = 1
    public var capabilities: [String] = []

    /// A payload from an image hash (resolved through the registry like yapapi's `vm.repo`).
    public static func image(hash: String, minMemoryGiB: Double = 0.5, minStorageGiB: Double = 2.0, minCPUThreads: Int = 1) -> VMPayload {
        var p = VMPayload()
        p.imageHash = hash
        p.minMemoryGiB = minMemoryGiB
        p.minStorageGiB = minStorageGiB
        p.minCPUThreads = minCPUThreads
        return p
    }

    /// A payload from an image tag (`golem/alpine:latest`).
    public static func image(tag: String) -> VMPayload {
        var p = VMPayload()
        p.imageTag = tag
        return p
    }

    /// The demand properties and constraints of this payload, after resolving the image.
    func demand(registry: RegistryAPI) async throws -> (properties: Properties, constraints: [String]) {
        let info = try await registry.imageInfo(hash: imageHash, tag: imageTag)
        let url = info.https ?? info.http ?? ""
        let properties: Properties = [
            "golem.srv.comp.task_package": .string("hash:sha3:\(info.sha3):\(url)"),
            "golem.srv.comp.vm.package_format": "gvmkit-squash",
        ]
        var constraints = [
            "(golem.inf.mem.gib>=\(minMemoryGiB))",
            "(golem.inf.storage.gib>=\(minStorageGiB))",
            "(golem.inf.cpu.threads>=\(minCPUThreads))",
            "(golem.runtime.name=vm)",
        ]
        for capability in capabilities { constraints.append("(golem.runtime.capabilities=\(capability))") }
        return (properties, constraints)
    }

}
