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
        #expect(a.spend(1) == .refused(status: 400, message: "Not enough funds. Allocated: 0.75 Needed: 1"))
        #expect(a.spent == Decimal(string: "0.25")!)
        // Nothing is spent for an acceptance that adds nothing.
        #expect(a.spend(0) == .done && a.spend(-1) == .done && a.spent == Decimal(string: "0.25")!)
        #expect(a.amend(total: Decimal(string: "0.1")!) == .refused(status: 400, message: "New allocation would be smaller than the already spent amount"))
        #expect(a.amend(total: 2) == .done && a.remaining == Decimal(string: "1.75")!)
        #expect(a.release() == .done)
        #expect(a.release() == .released)
        #expect(a.spend(0) == .released)
        #expect(a.amend(total: 3) == .released)
    }

    @Test func documentsAreDecidedAsTheDaemonDecides() {
        var d = DocumentStateMachine()
        #expect(d.transitionPreview(.accept) == .moved(.accepted) && d.status == .received)
        #expect(d.on(.accept) == .moved(.accepted))
        #expect(d.on(.accept) == .unchanged)
        #expect(d.on(.reject) == .refused(status: 400, message: "Invoice accepted"))
        // A rejected invoice can still be accepted; rejecting it again changes nothing.
        var r = DocumentStateMachine()
        #expect(r.on(.reject) == .moved(.rejected))
        #expect(r.on(.reject) == .unchanged)
        #expect(r.on(.accept) == .moved(.accepted))
        var cancelled = DocumentStateMachine(status: .cancelled)
        #expect(cancelled.on(.accept) == .refused(status: 400, message: "Invoice cancelled"))
        var settled = DocumentStateMachine(status: .settled)
        #expect(settled.on(.accept) == .unchanged)
        #expect(settled.on(.reject) == .refused(status: 400, message: "Invoice settled"))
        var issued = DocumentStateMachine(status: .issued)
        #expect(issued.on(.accept) == .refused(status: 500, message: "Illegal status: issued"))
    }

    @Test func debitNotesCannotBeRejected() {
        var note = DocumentStateMachine(kind: .debitNote)
        #expect(note.on(.reject) == .refused(status: 501, message: nil))
        #expect(note.status == .received)
        #expect(note.on(.accept) == .moved(.accepted))
        var cancelled = DocumentStateMachine(status: .cancelled, kind: .debitNote)
        #expect(cancelled.on(.accept) == .refused(status: 400, message: "Debit note cancelled"))
    }
}
