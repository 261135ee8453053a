import Foundation
import YagnaAPI

enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: url(name)))
    }

    /// The sample bodies of `wire-samples.json`, by model name.
    static func samples() throws -> [String: [JSONValue]] {
        let root = try JSONParser.parse(try bytes("wire-samples.json"))
        return root.objectValue!.mapValues { $0.arrayValue! }
    }
}
