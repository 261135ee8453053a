import Foundation

/// One figure of the suite, beside its target and, where there is one, its baseline.
public struct BenchFigure: Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    /// The target as text (`≥ 10000×`), and whether the figure meets it (`nil`: no target).
    public var target: String?
    public var met: Bool?
    /// What the figure was measured against, and how (sizes, counts).
    public var detail: String

    public init(name: String, value: Double, unit: String, target: String? = nil, met: Bool? = nil, detail: String) {
        self.name = name
        self.value = value
        self.unit = unit
        self.target = target
        self.met = met
        self.detail = detail
    }

    public var formattedValue: String {
        let v: String
        if value >= 1000 { v = String(format: "%.0f", value) } else if value >= 10 { v = String(format: "%.1f", value) } else { v = String(format: "%.3f", value) }
        return unit.isEmpty ? v : "\(v) \(unit)"
    }
}

/// Wall and CPU time, latency percentiles and peak memory of this process.
enum Measure {
    /// User + system CPU time of this process, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(rusageSelf, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    /// User + system CPU time of this process's children that have ended, in seconds.
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(rusageChildren, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func seconds(since start: UInt64) -> Double { Double(now() - start) / 1e9 }

    /// Resets the peak resident set size (Linux `clear_refs`), so `peakMemoryBytes` measures
    /// from here. Returns whether it could.
    @discardableResult
    static func resetPeakMemory() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    /// The peak resident set size since the last reset (Linux `VmHWM`), or the process's
    /// maximum (`ru_maxrss`) where that is not available.
    static func peakMemoryBytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        var usage = rusage()
        getrusage(rusageSelf, &usage)
        return Int(usage.ru_maxrss) * 1024
    }

    /// The `p`th percentile (0…100) of `samples` (nanoseconds), nearest rank.
    static func percentile(_ samples: [UInt64], _ p: Double) -> UInt64 {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

#if os(Linux)
let rusageSelf = __rusage_who_t(RUSAGE_SELF.rawValue)
let rusageChildren = __rusage_who_t(RUSAGE_CHILDREN.rawValue)
#else
let rusageSelf = RUSAGE_SELF
let rusageChildren = RUSAGE_CHILDREN
#endif

/// A benchmark that could not measure what it claims (a result missing, a run that failed).
struct BenchError: Error, CustomStringConvertible {
    let description: String
}
