import Logging
import Redis
import Telemetry

/// Cooldowns every replica honours: a replica that cools a deployment down publishes it on a
/// Redis channel, and every replica (itself included, harmlessly) cools it down for as long.
/// Publish/subscribe delivers at most once and keeps nothing, so a replica that was disconnected
/// can miss a cooldown: it then finds the deployment failing on its own, as without Redis.
/// Cooldowns last seconds, so nothing is replayed after a reconnection.
final class SharedCooldowns: Sendable {
    static let channel = "spanway:cooldowns"

    private let client: RedisClient
    private let cooldowns: Cooldowns
    private let clock: any GatewayClock
    private let logger: Logger

    init(client: RedisClient, cooldowns: Cooldowns, clock: any GatewayClock, logger: Logger) {
        self.client = client
        self.cooldowns = cooldowns
        self.clock = clock
        self.logger = logger
        cooldowns.announceCooldowns { [client, logger] id, seconds in
            // The request that tripped it does not wait for the announcement.
            Task {
                do throws(RedisError) {
                    _ = try await client.publish(Self.channel, Self.message(id: id, seconds: seconds))
                } catch {
                    logger.warning(
                        "could not share a cooldown with the other replicas",
                        metadata: ["deployment": "\(id)", "error": "\(error.kind)"])
                }
            }
        }
    }

    /// Applies other replicas' cooldowns until the client shuts down.
    func run() async {
        for await event in client.subscribe(to: Self.channel) {
            guard case .message(let payload) = event, let (id, seconds) = Self.parse(payload) else { continue }
            cooldowns.adopt(id, seconds: seconds, now: clock.nowSeconds())
        }
    }

    /// `<seconds> <deployment id>`: the id last, since a configured id may contain spaces.
    static func message(id: String, seconds: Double) -> String { "\(seconds) \(id)" }

    static func parse(_ payload: [UInt8]) -> (id: String, seconds: Double)? {
        guard payload.count <= 4096, let text = String(validating: payload, as: UTF8.self),
            let space = text.firstIndex(of: " "), let seconds = Double(text[..<space]), seconds.isFinite
        else { return nil }
        let id = String(text[text.index(after: space)...])
        return id.isEmpty ? nil : (id, seconds)
    }
}
