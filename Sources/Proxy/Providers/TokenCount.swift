import Telemetry

extension JSONValue {
    /// A token count from an upstream's usage object, held to 0...2^40: the adapters add counts
    /// together (`input + cache_read + cache_creation`) and the router and rate limiter sum them
    /// per minute, and an upstream answering `9223372036854775807` would otherwise make those
    /// additions trap. No real request comes near 2^40 (about 10^12) tokens.
    var tokenCount: Int? {
        intValue.map { min(max($0, 0), TokenCount.maximum) }
    }
}

enum TokenCount {
    static let maximum = 1 << 40
}
