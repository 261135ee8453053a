import Synchronization

/// A request's or response's body: bytes, or a JSON value whose bytes are written the first time
/// something asks for them.
///
/// An in-process exchange is read as a value by both ends (the node, the typed clients, the
/// replay referee); its bytes are wanted only by whoever keeps or hashes the journal, and often
/// by nobody. A body made from a value writes them once, on first read, and every copy shares
/// them. Equality and hashing are by the bytes.
public struct MessageBody: Sendable, Hashable {
    private var raw: [UInt8]
    private var written: Written?
    /// The typed value the JSON was encoded from, when the body was made in this process: the
    /// node's answer, which a typed client of the same type takes instead of decoding the JSON
    /// (see `Caller.read`), or an exec's script a typed client hands over
    /// (`ExeScriptRequest.Prepared`, which the simulated node takes instead of reading the text;
    /// other request bodies are always decoded). Release builds take it as it is; debug builds
    /// (the tests) decode the JSON as well and refuse a difference (`same`). The replay referee
    /// reads a document's agreement from it in both (the node's own value, nothing a decoding
    /// could check). Not part of equality or hashing.
    package var typed: (any Sendable)?

    /// The value handed over in-process, when it is a `T`. (`typed as? T` alone would give a
    /// `nil` of an optional `T` for a body that has no typed value at all.)
    package func handedOver<T>(as type: T.Type) -> T? {
        guard let typed else { return nil }
        return typed as? T
    }

    /// Whether a receiver takes `typed` as it is: in release builds. Debug builds (the tests)
    /// decode the JSON every time and check the value handed over against it (`same`).
    package static var takesHandedOver: Bool {
        #if DEBUG
        false
        #else
        true
        #endif
    }

    /// Whether a value handed over in-process equals what decoding its JSON gave, when its type
    /// can tell (`true` when it cannot: every wire model is `Hashable`).
    package static func same<T>(_ handedOver: T, _ decoded: T) -> Bool {
        guard let a = handedOver as? any Equatable else { return true }
        return a.isEqual(to: decoded)
    }

    /// The value (made when first read, for a body made from a typed value) and, once read, its
    /// bytes: shared by every copy of the body.
    final class Written: Sendable {
        private struct State {
            var value: JSONValue?
            var bytes: [UInt8]?
            /// Makes `value` when it is first wanted (then dropped).
            var make: (@Sendable () -> JSONValue)?
        }
        private let state: Mutex<State>

        init(_ value: JSONValue, bytes: [UInt8]? = nil) {
            state = Mutex(State(value: value, bytes: bytes))
        }

        init(deferred make: @escaping @Sendable () -> JSONValue) {
            state = Mutex(State(make: make))
        }

        private static func value(_ s: inout State) -> JSONValue {
            if let value = s.value { return value }
            let value = s.make?() ?? .null
            s.value = value
            s.make = nil
            return value
        }

        var value: JSONValue { state.withLock { Self.value(&$0) } }

        var written: [UInt8] {
            state.withLock { s in
                if let cached = s.bytes { return cached }
                let out = JSONWriter.bytes(Self.value(&s))
                s.bytes = out
                return out
            }
        }
    }

    /// A body of these bytes.
    public init(bytes: [UInt8] = []) {
        self.raw = bytes
    }

    /// A body written from `json`, its bytes made when first read.
    public init(json: JSONValue) {
        self.raw = []
        self.written = Written(json)
    }

    /// A body whose JSON value `make` gives: called once, the first time the value or the bytes
    /// are read, and never if nobody reads them (an in-process answer its typed client takes as
    /// it is). `make` must give the same value whenever it is called: what it captures must not
    /// change. It runs holding the body's lock, so it must not read this body (or a copy of it).
    /// Until the first read the body keeps `make`, and so what it captures.
    public init(deferred make: @escaping @Sendable () -> JSONValue) {
        self.raw = []
        self.written = Written(deferred: make)
    }

    /// A body of these bytes, with the JSON value they parse to at hand.
    public init(json: JSONValue, bytes: [UInt8]) {
        self.raw = []
        self.written = Written(json, bytes: bytes)
    }

    /// The body's bytes (written from its value the first time, if it has one). Setting them
    /// drops the value.
    public var bytes: [UInt8] {
        get { written?.written ?? raw }
        set {
            raw = newValue
            written = nil
            typed = nil
        }
    }

    /// The JSON value the bytes are written from, when the body was made from one. Setting a
    /// value makes the body that value's; setting `nil` keeps the bytes and drops the value.
    public var json: JSONValue? {
        get { written?.value }
        set {
            if let newValue {
                self = MessageBody(json: newValue)
            } else if written != nil {
                self = MessageBody(bytes: bytes)
            }
        }
    }

    /// Whether the body has no bytes (without writing them: a JSON value is never empty).
    public var isEmpty: Bool { written == nil && raw.isEmpty }

    public static func == (a: MessageBody, b: MessageBody) -> Bool { a.bytes == b.bytes }

    public func hash(into h: inout Hasher) { h.combine(bytes) }
}

/// A message whose body is a `MessageBody`: its bytes and its JSON value, read and set through it.
public protocol HasMessageBody {
    var content: MessageBody { get set }
}

extension HasMessageBody {
    /// The body's bytes (written from its JSON value the first time, if it has one). Setting them
    /// drops the value.
    public var body: [UInt8] {
        get { content.bytes }
        set { content.bytes = newValue }
    }

    /// The JSON value the body is written from, when the message was made in this process:
    /// readers take it instead of parsing the bytes. Setting a value makes it the body.
    public var json: JSONValue? {
        get { content.json }
        set { content.json = newValue }
    }
}

extension Equatable {
    fileprivate func isEqual(to other: Any) -> Bool { (other as? Self).map { $0 == self } ?? false }
}
