/// Keys of a wire object that a model does not name, kept so they survive a decode/encode round
/// trip. Declare it as a model's **last** stored property: `WireDecoder` fills it with every key
/// the model did not read (and every key it read as `null`), and `WireEncoder` writes them back
/// without overriding the model's own keys. Other coders see an empty value.
public struct UnknownFields: Sendable, Hashable, Codable {
    public var values: [String: JSONValue]

    public init(_ values: [String: JSONValue] = [:]) { self.values = values }

    public subscript(key: String) -> JSONValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public var isEmpty: Bool { values.isEmpty }

    public init(from decoder: any Decoder) throws { values = [:] }
    public func encode(to encoder: any Encoder) throws {}
}
