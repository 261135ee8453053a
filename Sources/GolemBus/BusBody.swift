public import YagnaAPI

/// Message bodies on yagna's service bus: serde values as FlexBuffers, zlib-compressed when
/// yagna sends them (its net module turns compression on for the whole process). Replies may
/// be plain FlexBuffers; the daemon reads both.
public enum BusBody {
    /// The value a body holds, compressed or not; an empty body is `null`.
    public static func decode(_ data: [UInt8]) throws(FlexBuffers.DecodingError) -> JSONValue {
        guard !data.isEmpty else { return .null }
        if Zlib.looksCompressed(data), let inflated = Zlib.inflate(data) { return try FlexBuffers.decode(inflated) }
        return try FlexBuffers.decode(data)
    }

    /// A body for a value (plain FlexBuffers).
    public static func encode(_ value: JSONValue) -> [UInt8] { FlexBuffers.encode(value) }

    /// A Rust `Result`'s success, as serde writes it: `{"Ok": value}`.
    public static func ok(_ value: JSONValue) -> [UInt8] { encode(["Ok": value]) }

    /// A Rust `Result`'s failure: `{"Err": error}`.
    public static func err(_ error: JSONValue) -> [UInt8] { encode(["Err": error]) }
}
