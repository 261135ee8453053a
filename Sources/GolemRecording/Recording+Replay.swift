public import YagnaSimulator
import YagnaAPI

extension RecordedExchange {
    /// The exchange as the protocol analyzer reads it.
    public var protocolExchange: ProtocolExchange {
        ProtocolExchange(
            sequence: sequence, start: startOffset, end: endOffset, method: method, path: path, query: query, requestBody: requestBody,
            status: status, responseBody: responseBody, frames: frames.map(\.event))
    }
}

extension Recording {
    /// The session read as protocol operations and timeline events.
    public var analysis: ProtocolAnalyzer { ProtocolAnalyzer(exchanges.map(\.protocolExchange)) }

    /// What replaying this session needs: providers rebuilt from the exchanges and the recorded
    /// operations a requestor must repeat.
    public var replayPlan: ReplayPlan {
        ReplayPlan(name: info.scenario.map { "replay of \($0)" } ?? "replay of \(file)", exchanges: exchanges.map(\.protocolExchange))
    }
}

extension Scenario {
    /// A scenario that names a `base` recording, with the recording's providers in place: the
    /// scenario's own providers of the same name keep the recorded behaviour and add their
    /// faults; others join the network.
    public func resolvingBase() throws(RecordingError) -> Scenario {
        guard let base else { return self }
        let plan = try Recording.open(base).replayPlan
        var out = self
        var providers = plan.scenario.providers
        for extra in self.providers {
            if let i = providers.firstIndex(where: { $0.name == extra.name }) {
                providers[i].faults += extra.faults
                providers[i].commands = extra.commands + providers[i].commands
            } else {
                providers.append(extra)
            }
        }
        out.providers = providers
        out.base = nil
        return out
    }
}
