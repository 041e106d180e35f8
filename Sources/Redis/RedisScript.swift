import Crypto

/// A Lua script and the SHA-1 of its exact bytes, the name `EVALSHA` and `SCRIPT LOAD` use for it.
public struct RedisScript: Sendable {
    public let source: String
    /// Lowercase hex, as `SCRIPT LOAD` returns it.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        let digest = Insecure.SHA1.hash(data: Array(source.utf8))
        self.sha1 = digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
