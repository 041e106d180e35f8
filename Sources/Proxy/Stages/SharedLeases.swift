import Redis
import Synchronization

/// What this replica's requests hold in Redis (parallel slots, budget holds), renewed while they
/// run: every hold is a sorted-set member scored by its expiry, so a replica that dies stops
/// renewing and its holds lapse within one lease, while a stream that outlasts the lease keeps
/// its slot. A renewal round moves every live member's expiry in one script per 500 members
/// (`ZADD XX`, which never brings back a member already released). A hold kept past a day is no
/// longer renewed: a request that never settled must not hold a slot for the life of the process.
final class SharedLeases: Sendable {
    /// A sorted-set member: the set's key and the hold's id (a request id).
    struct Member: Hashable, Sendable {
        var key: String
        var id: String
    }

    let client: RedisClient
    let health: SharedStateHealth
    let lease: Duration
    /// Each member with when it was taken.
    private let held = Mutex<[Member: ContinuousClock.Instant]>([:])
    static let maximumAge = Duration.seconds(86_400)
    /// Members per script call, so that no call keeps Redis busy for long.
    static let batch = 500

    init(client: RedisClient, health: SharedStateHealth, lease: Duration) {
        self.client = client
        self.health = health
        self.lease = lease
    }

    var milliseconds: Int64 { lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000 }

    func hold(_ keys: [String], id: String) {
        guard !keys.isEmpty else { return }
        let now = ContinuousClock.now
        held.withLock { held in
            for key in keys { held[Member(key: key, id: id)] = now }
        }
    }

    func drop(_ keys: [String], id: String) {
        guard !keys.isEmpty else { return }
        held.withLock { held in
            for key in keys { held[Member(key: key, id: id)] = nil }
        }
    }

    /// Renews every third of a lease until cancelled.
    func run() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: lease / 3) } catch { return }
            await renew()
        }
    }

    func renew() async {
        let oldest = ContinuousClock.now - Self.maximumAge
        let members = held.withLock { held in
            held = held.filter { $0.value > oldest }
            return Array(held.keys)
        }
        var start = 0
        while start < members.count {
            let chunk = members[start..<min(start + Self.batch, members.count)]
            start += Self.batch
            do throws(RedisError) {
                _ = try await client.eval(
                    Self.renewScript, keys: chunk.map(\.key), arguments: [String(milliseconds)] + chunk.map(\.id))
                health.succeeded()
            } catch {
                health.failed(error)
                return
            }
        }
    }

    /// KEYS: sorted sets. ARGV: lease ms, then the member to renew in each set.
    static let renewScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local lease = tonumber(ARGV[1])
        for i, key in ipairs(KEYS) do
          if redis.call('ZADD', key, 'XX', 'CH', now + lease, ARGV[i + 1]) == 1 and redis.call('PTTL', key) < lease then
            redis.call('PEXPIRE', key, lease)
          end
        end
        return 1
        """)
}
