import Foundation
import Testing
import YagnaAPI
import YagnaSimulator

/// The allocation budget and the documents' status on their own: no clock, no await.
@Suite struct PaymentStateMachineTests {
    @Test func anAllocationSpendsAmendsAndReleasesOnce() {
        var a = AllocationStateMachine(total: 1)
        #expect(a.spend(Decimal(string: "0.25")!) == .done)
        #expect(a.remaining == Decimal(string: "0.75")!)
        #expect(a.spend(1) == .refused(status: 400, message: "Not enough funds: 0.75 left, 1 due"))
        #expect(a.spent == Decimal(string: "0.25")!)
        guard case .refused(400, let below) = a.amend(total: Decimal(string: "0.1")!) else { Issue.record("amend below spent"); return }
        #expect(below.contains("below the amount already spent"))
        #expect(a.amend(total: 2) == .done && a.remaining == Decimal(string: "1.75")!)
        #expect(a.release() == .done)
        #expect(a.release() == .refused(status: 410, message: "was already released"))
        #expect(a.spend(0) == .refused(status: 410, message: "was released"))
        #expect(a.amend(total: 3) == .refused(status: 410, message: "was released"))
    }

    @Test func documentsAreDecidedOnce() {
        var d = DocumentStateMachine()
        #expect(d.transitionPreview(.accept) == .moved(.accepted) && d.status == .received)
        #expect(d.on(.accept) == .moved(.accepted))
        #expect(d.on(.accept) == .unchanged)
        #expect(d.on(.reject) == .refused(message: "is ACCEPTED and cannot be rejected"))
        var r = DocumentStateMachine()
        #expect(r.on(.reject) == .moved(.rejected))
        #expect(r.on(.accept) == .refused(message: "is REJECTED and cannot be accepted"))
        var cancelled = DocumentStateMachine(status: .cancelled)
        #expect(cancelled.on(.accept) == .refused(message: "is CANCELLED and cannot be accepted"))
        var settled = DocumentStateMachine(status: .settled)
        #expect(settled.on(.accept) == .unchanged)
    }
}
