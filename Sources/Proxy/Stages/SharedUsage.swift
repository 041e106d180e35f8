import Redis
import Synchronization
import Telemetry

/// Usage-based routing across replicas: each replica adds the requests and tokens it sent to each
/// deployment to per-minute counters in Redis and reads back every replica's totals, once a
/// second, in one script. Routing stays a local decision on counts at most a second old, so it
/// adds no Redis call to any request (LiteLLM's usage-based-routing-v2 also batches its writes).
/// Minutes are Redis's own (`TIME`), so the replicas' clocks cannot split one. Counts a failed
/// exchange carried are not sent again (the script may have run): the shared figure can miss
/// them, never count them twice.
final class SharedUsage: Sendable {
    let client: RedisClient
    let health: SharedStateHealth
    let load: DeploymentLoad
    /// Every deployment's id, in a fixed order: the config's, then those added at run time.
    private let ids: Mutex<[String]>
    let clock: any GatewayClock
    /// Redis's time of the totals adopted last: an exchange that overtook another wins.
    private let newest = Mutex<Int64>(0)
    static let interval = Duration.seconds(1)

    /// What the router gives: its load and its deployments' ids.
    struct Setup: Sendable {
        var load: DeploymentLoad
        var ids: [String]
    }

    init(client: RedisClient, health: SharedStateHealth, load: DeploymentLoad, ids: [String], clock: any GatewayClock) {
        self.client = client
        self.health = health
        self.load = load
        self.ids = Mutex(ids)
        self.clock = clock
    }

    static func base(_ id: String) -> String { "spanway:usage:{\(id)}" }

    /// The deployments served now, when models are added or removed at run time.
    func serve(ids served: [String]) {
        ids.withLock { $0 = served }
    }

    /// Exchanges counts every `interval` until cancelled.
    func run() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: Self.interval) } catch { return }
            await exchange()
        }
    }

    /// Adds this replica's counts since the last exchange and adopts every replica's totals.
    func exchange() async {
        let ids = ids.withLock { $0 }
        guard !ids.isEmpty else { return }
        let mine = load.takeUnshared(ids)
        let arguments = mine.flatMap { [String($0.requests), String(min($0.tokens, 1_000_000_000_000))] }
        let reply: RESPValue
        do throws(RedisError) {
            reply = try await client.eval(Self.script, keys: ids.map(Self.base), arguments: arguments)
        } catch {
            health.failed(error)
            load.dropSending(ids)
            return
        }
        guard let values = reply.array, values.count == ids.count * 2 + 1, let time = values[0].int else {
            health.unexpected("usage")
            load.dropSending(ids)
            return
        }
        health.succeeded()
        let totals = stride(from: 1, to: values.count, by: 2).map { index in
            DeploymentLoad.Usage(requests: Int(values[index].int ?? 0), tokens: Int(values[index + 1].int ?? 0))
        }
        newest.withLock { newest in
            guard time >= newest else { return load.dropSending(ids) }
            newest = time
            load.adoptShared(ids, totals, now: clock.nowSeconds())
        }
    }

    /// KEYS: one base key per deployment. ARGV: per deployment, requests and tokens to add.
    /// Returns Redis's time (microseconds), then per deployment the minute's requests and tokens,
    /// every replica's.
    static let script = RedisScript(
        """
        local t = redis.call('TIME')
        local minute = math.floor(tonumber(t[1]) / 60)
        local reply = {tonumber(t[1]) * 1000000 + tonumber(t[2])}
        for i, base in ipairs(KEYS) do
          for j, kind in ipairs({':r:', ':t:'}) do
            local key, add = base .. kind .. minute, tonumber(ARGV[2 * i - 2 + j])
            local total
            if add > 0 then
              total = redis.call('INCRBY', key, add)
              redis.call('EXPIRE', key, 120)
            else
              total = tonumber(redis.call('GET', key) or '0')
            end
            reply[#reply + 1] = total
          end
        end
        return reply
        """)
}
