import Foundation
import Testing
import YagnaSimulator

/// Downloads land where the requestor asked, folders made first, as yagna's gftp does
/// (golem-core's blender example downloads into a `frames/` folder that does not exist yet).
@Suite struct FileExchangeTests {
    @Test func aDownloadMakesItsFolders() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("exchange-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let exchanges: [any FileExchange] = [InMemoryFileExchange(), try DirectoryFileExchange(directory: root.appendingPathComponent("shared"))]
        for (i, exchange) in exchanges.enumerated() {
            let target = root.appendingPathComponent("app\(i)/frames/out0000.png").path
            let url = try exchange.receive(into: target)
            try exchange.write(url: url, bytes: [1, 2, 3])
            #expect(FileManager.default.contents(atPath: target) == Data([1, 2, 3]), "\(type(of: exchange))")
            #expect(try exchange.received(url: url) == [1, 2, 3])
        }
    }

    @Test func aTargetThatCannotBeWrittenIsAnErrorNotACrash() throws {
        let exchange = InMemoryFileExchange()
        // A folder cannot be made under a file.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("exchange-file-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let url = try exchange.receive(into: file.path + "/sub/out.png")
        #expect(throws: (any Error).self) { try exchange.write(url: url, bytes: [1]) }
    }
}
