internal import CZlib

/// zlib streams (RFC 1950), as yagna compresses service-bus bodies.
public enum Zlib {
    /// Whether the bytes start like a zlib stream (a deflate header whose check bits hold).
    public static func looksCompressed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2 else { return false }
        return bytes[0] & 0x0F == 8 && (UInt16(bytes[0]) << 8 | UInt16(bytes[1])) % 31 == 0
    }

    /// The inflated bytes, or `nil` when the input is not a complete zlib stream.
    /// `limit` bounds the output so a hostile body cannot exhaust memory.
    public static func inflate(_ input: [UInt8], limit: Int = 64 << 20) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = input
        return input.withUnsafeMutableBufferPointer { inBuf -> [UInt8]? in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output += chunk[0..<produced]
                if output.count > limit { return nil }
                if status == Z_STREAM_END { return output }
                if status != Z_OK { return nil }
                if stream.avail_in == 0 && produced == 0 { return nil }
            }
        }
    }

    /// The bytes compressed as a zlib stream (for tests and for callers that want to send compressed).
    public static func deflate(_ input: [UInt8]) -> [UInt8] {
        var length = compressBound(UInt(input.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { inp in compress(out.baseAddress, &length, inp.baseAddress, UInt(inp.count)) }
        }
        precondition(status == Z_OK, "zlib compress failed with \(status)")
        return Array(output.prefix(Int(length)))
    }
}
