public import Foundation
public import YagnaAPI

/// A read-only view of the node's state for checks: what the requestor left behind.
public struct NodeSnapshot: Sendable {
    public struct AgreementInfo: Sendable {
        public var id: String
        public var providerName: String
        public var state: AgreementState
        public var terminator: Terminator?
        public var activities: [String]
        public var invoiceId: String?
    }
    public struct ActivityInfo: Sendable {
        public var id: String
        public var agreementId: String
        public var state: ActivityState
        public var destroyed: Bool
    }

    public var agreements: [AgreementInfo]
    public var activities: [ActivityInfo]
    public var allocations: [(allocation: Allocation, released: Bool)]
    public var invoices: [Invoice]
    public var debitNotes: [DebitNote]
    public var demandsOpen: Int
    /// The net API's networks: id, whether removed, and node id by address.
    public var networks: [(id: String, removed: Bool, nodes: [String: String])]

    init(_ core: NodeCore) {
        networks = core.netState.order.compactMap { id in core.netState.networks[id].map { (id, $0.removed, $0.nodes) } }
        agreements = core.agreementOrder.compactMap { core.agreements[$0] }.map {
            AgreementInfo(
                id: $0.agreement.agreementId, providerName: core.providers[$0.provider].spec.name, state: $0.agreement.state,
                terminator: $0.terminationEvent?.terminator, activities: $0.activities, invoiceId: $0.invoiceId)
        }
        activities = core.agreementOrder.flatMap { core.agreements[$0]?.activities ?? [] }.compactMap { core.activities[$0] }.map {
            ActivityInfo(id: $0.id, agreementId: $0.agreementId, state: $0.state, destroyed: $0.destroyed != nil)
        }
        allocations = core.allocationOrder.compactMap { core.allocations[$0] }.map { ($0.allocation, $0.released) }
        invoices = core.invoices.values.map(\.invoice).sorted { ($0.timestamp, $0.invoiceId) < ($1.timestamp, $1.invoiceId) }
        debitNotes = core.debitNotes.values.map(\.note).sorted { ($0.timestamp, $0.debitNoteId) < ($1.timestamp, $1.debitNoteId) }
        demandsOpen = core.demands.values.filter { !$0.removed }.count
    }
}
