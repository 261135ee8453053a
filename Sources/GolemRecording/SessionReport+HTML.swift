import Foundation
import YagnaSimulator

extension SessionReport {
    /// A self-contained HTML page drawing the session as a timeline: one lane per provider with
    /// its agreement, activity, batches and payments, failures in red; hover for details.
    public var html: String {
        let span = max(Double(duration) / 1e9, 0.001)
        let width = 1100.0, left = 190.0, laneHeight = 64.0, top = 40.0
        let plot = width - left - 20
        func x(_ ns: Int64) -> Double { left + plot * min(max(Double(ns) / 1e9 / span, 0), 1) }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var svg = ""
        // Time axis.
        let ticks = 8
        for i in 0...ticks {
            let t = span * Double(i) / Double(ticks)
            let px = left + plot * Double(i) / Double(ticks)
            svg += "<line class=\"grid\" x1=\"\(px)\" y1=\"\(top - 8)\" x2=\"\(px)\" y2=\"\(top + laneHeight * Double(lanes.count + 1))\"/>"
            svg += "<text class=\"tick\" x=\"\(px)\" y=\"\(top - 12)\">\(String(format: "%.1f s", t))</text>"
        }
        var rows: [(String, String, [TimelineEvent])] = [("requestor", "requestor", requestor)]
        rows += lanes.map { ($0.name, $0.id, $0.events) }
        for (row, (name, id, events)) in rows.enumerated() {
            let y = top + laneHeight * Double(row)
            svg += "<g class=\"lane\" data-lane=\"\(esc(id))\">"
            svg += "<rect class=\"lane-bg\" x=\"0\" y=\"\(y)\" width=\"\(width)\" height=\"\(laneHeight - 4)\"/>"
            svg += "<text class=\"lane-name\" x=\"8\" y=\"\(y + 22)\">\(esc(name))</text>"
            if id != "requestor" { svg += "<text class=\"lane-id\" x=\"8\" y=\"\(y + 40)\">\(esc(String(id.prefix(18))))…</text>" }
            // Agreement and activity spans.
            func spans(_ start: TimelineEvent.Kind, _ ends: [TimelineEvent.Kind], _ cls: String, _ dy: Double) {
                var open: [String: TimelineEvent] = [:]
                for e in events {
                    if e.kind == start { open[e.resource] = e }
                    if ends.contains(e.kind), let s = open.removeValue(forKey: e.resource) {
                        svg += "<rect class=\"\(cls)\(e.failure ? " failed" : "")\" x=\"\(x(s.offset))\" y=\"\(y + dy)\" width=\"\(max(x(e.offset) - x(s.offset), 2))\" height=\"8\"><title>\(esc(s.summary)) → \(esc(e.summary))</title></rect>"
                    }
                }
                for (_, s) in open.sorted(by: { $0.key < $1.key }) {
                    svg += "<rect class=\"\(cls) open\" x=\"\(x(s.offset))\" y=\"\(y + dy)\" width=\"\(max(x(duration) - x(s.offset), 2))\" height=\"8\"><title>\(esc(s.summary)) (never ended)</title></rect>"
                }
            }
            spans(.agreementCreated, [.agreementTerminated, .agreementRejected, .agreementCancelled], "agreement", 6)
            spans(.activityCreated, [.activityDestroyed], "activity", 18)
            for e in events {
                switch e.kind {
                case .batch:
                    svg += "<rect class=\"batch\(e.failure ? " failed" : "")\" x=\"\(x(e.offset))\" y=\"\(y + 30)\" width=\"\(max(x(e.end) - x(e.offset), 3))\" height=\"12\"><title>\(esc(e.summary))</title></rect>"
                case .debitNote, .invoice, .debitNoteAccepted, .invoiceAccepted, .invoiceRejected:
                    let cls = e.kind == .invoiceRejected ? "payment failed" : (e.kind == .invoice || e.kind == .invoiceAccepted ? "invoice" : "payment")
                    svg += "<circle class=\"\(cls)\" cx=\"\(x(e.offset))\" cy=\"\(y + 50)\" r=\"4\"><title>\(esc(e.summary))</title></circle>"
                case .agreementTerminated, .agreementRejected, .proposalRejected, .error, .activityFailed:
                    if e.failure {
                        svg += "<path class=\"fault\" d=\"M\(x(e.offset) - 5) \(y + 2) l10 0 l-5 9 z\"><title>\(esc(e.summary))</title></path>"
                    }
                case .offer, .counter, .draft, .demand, .allocation, .allocationReleased, .agreementApproved:
                    svg += "<line class=\"tick-mark\" x1=\"\(x(e.offset))\" y1=\"\(y + 44)\" x2=\"\(x(e.offset))\" y2=\"\(y + 56)\"><title>\(esc(e.summary))</title></line>"
                case .commandResult where e.failure:
                    svg += "<circle class=\"fault\" cx=\"\(x(e.offset))\" cy=\"\(y + 36)\" r=\"3\"><title>\(esc(e.summary))</title></circle>"
                default: break
                }
            }
            svg += "</g>"
        }
        let height = top + laneHeight * Double(rows.count) + 10
        var details = ""
        for lane in lanes {
            details += "<section class=\"provider\"><h2>\(esc(lane.name)) <small>\(esc(lane.id))</small></h2><table>"
            for e in lane.events {
                details += "<tr class=\"\(e.failure ? "failed" : "")\"><td class=\"t\">\(String(format: "%.3f s", Double(e.offset) / 1e9))</td><td>\(esc(e.summary))</td></tr>"
            }
            details += "</table><p class=\"totals\">\(lane.batches) batch(es), \(lane.failedCommands) failed command(s), \(lane.accepted) GLM accepted\(lane.terminatedByProvider ? ", terminated by the provider" : "")</p></section>"
        }
        var divergenceHTML = ""
        if !divergences.isEmpty {
            divergenceHTML = "<section class=\"divergences\"><h2>Replay divergences</h2><ul>"
                + divergences.map { "<li>\(esc($0.summary))</li>" }.joined() + "</ul></section>"
        }
        let title = "golem-sim session: \(info.scenario ?? file)"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fff}
            h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 6px} small{color:#6b7280;font-weight:normal}
            .meta{color:#4b5563;margin-bottom:12px} svg{border:1px solid #e5e7eb;border-radius:6px;background:#fafafa}
            .lane-bg{fill:#fff} .lane:nth-child(odd) .lane-bg{fill:#f5f7fb} .lane-name{font-weight:600;font-size:13px} .lane-id{fill:#6b7280;font-size:11px}
            .grid{stroke:#e5e7eb} .tick{fill:#6b7280;font-size:11px;text-anchor:middle}
            .agreement{fill:#93c5fd} .activity{fill:#6ee7b7} .batch{fill:#2563eb} .open{opacity:.5}
            .failed{fill:#dc2626!important} .fault{fill:#dc2626} .payment{fill:#d97706} .invoice{fill:#7c3aed} .tick-mark{stroke:#9ca3af;stroke-width:2}
            .legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
            table{border-collapse:collapse} td{padding:1px 10px 1px 0;vertical-align:top} td.t{color:#6b7280;font-variant-numeric:tabular-nums;white-space:nowrap}
            tr.failed td{color:#dc2626} .totals{color:#374151;font-weight:600}
            </style></head><body>
            <h1>\(esc(title))</h1>
            <div class="meta">\(esc(info.source.rawValue)) session · \(exchanges) exchanges · \(String(format: "%.3f", span)) s · created \(esc(info.created))\(info.seed.map { " · seed \($0)" } ?? "")\(info.ended == nil ? " · the recorder did not end cleanly" : "")</div>
            <div class="legend"><span><i style="background:#93c5fd"></i>agreement</span><span><i style="background:#6ee7b7"></i>activity</span><span><i style="background:#2563eb"></i>batch</span><span><i style="background:#d97706"></i>debit note</span><span><i style="background:#7c3aed"></i>invoice</span><span><i style="background:#dc2626"></i>failure</span></div>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))">\(svg)</svg>
            \(divergenceHTML)
            \(details)
            </body></html>
            """
    }
}
