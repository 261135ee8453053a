import ArgumentParser
import Foundation
import GolemBench
import YagnaAPI

extension GolemSim {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the benchmark suite and print each figure beside its target (see BENCHMARKS.md).",
            discussion: "Build with -c release for figures worth comparing; --quick is CI's smoke test at tiny sizes.")

        @Flag(help: "Tiny sizes: checks every benchmark runs; its figures mean nothing.") var quick = false
        @Option(help: "Run only these benchmarks (comma-separated): \(Benchmarks.names.joined(separator: ", ")).") var only: String?
        @Option(help: "The repository root, for recordings/ and scenarios/.") var root: String = "."
        @Flag(help: "Print the figures as JSON.") var json = false
        @Flag(help: "Exit 1 when a figure misses its target (ignored with --quick).") var strict = false

        func validate() throws {
            for name in selected where !Benchmarks.names.contains(name) {
                throw ValidationError("unknown benchmark '\(name)'; known: \(Benchmarks.names.joined(separator: ", "))")
            }
        }

        var selected: Set<String> {
            Set((only ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }

        func run() async throws {
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let sizes: Benchmarks.Sizes = quick ? .quick : .full
            #if DEBUG
            if !quick && !json { print("note: a debug build; build with `swift build -c release --static-swift-stdlib` for the figures BENCHMARKS.md reports") }
            #elseif os(Linux)
            if !quick && !json && !Benchmarks.runtimeLinkedStatically {
                print("note: the Swift runtime is linked dynamically; build with `swift build -c release --static-swift-stdlib` for the figures BENCHMARKS.md reports (replays about 12 % faster)")
            }
            #endif
            let json = self.json
            let quick = self.quick
            let figures: [BenchFigure]
            do {
                figures = try await Benchmarks.run(sizes: sizes, only: selected, root: root, executable: executable) { figure in
                    guard !json else { return }
                    let verdict = quick ? "(smoke test: sizes too small to judge)" : figure.met.map { $0 ? "met" : "MISSED" } ?? "-"
                    let target = figure.target ?? "-"
                    print("\(figure.name.padding(toLength: 42, withPad: " ", startingAt: 0)) \(figure.formattedValue.padding(toLength: 18, withPad: " ", startingAt: 0)) target \(target.padding(toLength: 10, withPad: " ", startingAt: 0)) \(verdict)")
                    print("    \(figure.detail)")
                }
            } catch { throw fail("bench: \(error)") }
            if json {
                // Through the JSON writer: every text escaped (a detail may quote a tool's output,
                // newlines and all), a value that is not a number written as null.
                let items = figures.map { f -> JSONValue in
                    var o: [String: JSONValue] = [
                        "name": .string(f.name), "value": f.value.isFinite ? .double(f.value) : .null, "unit": .string(f.unit),
                        "detail": .string(f.detail),
                    ]
                    if let t = f.target { o["target"] = .string(t) }
                    if let m = f.met { o["met"] = .bool(m) }
                    return .object(o)
                }
                print(JSONWriter.string(.array(items)))
            }
            let missed = figures.filter { $0.met == false }
            if !quick && !missed.isEmpty && !json { print("\(missed.count) target(s) missed: \(missed.map(\.name).joined(separator: ", "))") }
            if strict && !quick && !missed.isEmpty { throw Exit.checkFailed }
        }
    }
}
