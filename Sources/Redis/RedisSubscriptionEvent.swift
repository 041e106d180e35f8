/// What a subscription stream yields.
public enum RedisSubscriptionEvent: Sendable, Equatable {
    /// The channel is (again) subscribed. Pub/sub is at-most-once and stores nothing, so messages sent while
    /// the connection was down are lost: a cache should drop what it holds when it sees this.
    case subscribed
    /// One published payload.
    case message([UInt8])
}
