import Redis
import Telemetry

/// Rate windows and parallel slots every replica shares, in Redis. One script checks every
/// subject of a request and, only if all admit it, counts the request and takes a slot in each:
/// the check and the reservation are one atomic step across replicas. Time is Redis's own
/// (`TIME` inside the script), so the replicas' clocks cannot split a window.
///
/// Windows are fixed minutes, as in this process's own limiter; a parallel slot is a lease (a
/// sorted-set member scored by its expiry, renewed by `SharedLeases` while its request runs)
/// rather than a counter, so a replica that dies holding slots frees them when their leases run
/// out instead of leaking them for ever.
///
/// Keys, per subject (`key:<hash>`, `team:<id>`, …): `spanway:limit:{<subject>}:p` (leases),
/// `…:r:<minute>` (requests) and `…:t:<minute>` (tokens). The scripts build the window keys from
/// the base key they are given, so this is for a single Redis (or one with replicas), not a
/// Redis Cluster, where a script may touch only the keys it is passed.
final class SharedLimits: Sendable {
    enum Outcome: Sendable {
        case admitted(headers: [(String, String)])
        case refused(GatewayError)
        /// Redis could not be asked: the failure mode decides.
        case unavailable
    }

    let client: RedisClient
    let health: SharedStateHealth
    /// Renews the slots of requests still running; a slot whose release never comes (a replica
    /// killed mid-request) lapses within one lease.
    let leases: SharedLeases

    init(client: RedisClient, health: SharedStateHealth, leases: SharedLeases) {
        self.client = client
        self.health = health
        self.leases = leases
    }

    static func base(_ subject: String) -> String { "spanway:limit:{\(subject)}" }

    /// Limits as script arguments: -1 for "no limit".
    func acquire(_ subjects: [LimitSubject], lease id: String) async -> Outcome {
        var arguments = [id, String(leases.milliseconds)]
        for subject in subjects {
            arguments += [subject.parallel, subject.rpm, subject.tpm].map { String($0 ?? -1) }
        }
        let reply: RESPValue
        do throws(RedisError) {
            reply = try await client.eval(Self.acquireScript, keys: subjects.map { Self.base($0.id) }, arguments: arguments)
        } catch {
            health.failed(error)
            // The script may have run before the reply was lost: give back a lease it may have
            // taken, or it would hold a slot until it expires (removing a missing one does nothing).
            if error.kind == .timeout || error.kind == .closed {
                let ids = subjects.map(\.id)
                Task { await self.release(ids, lease: id, tokens: 0) }
            }
            return .unavailable
        }
        health.succeeded()
        // {1, seconds to the window's end, requests used, tokens used, …} or
        // {0, subject index, limit name, retry-after}.
        guard let values = reply.array, let first = values.first?.int, first == 0 || first == 1, values.count >= 2 else {
            health.unexpected("limit")
            return .unavailable
        }
        if first == 0 {
            guard values.count >= 4, let index = values[1].int, let which = values[2].string, let retry = values[3].int,
                index >= 1, Int(index) <= subjects.count
            else {
                health.unexpected("limit")
                return .unavailable
            }
            return .refused(Self.refusal(subjects[Int(index) - 1], which, retryAfter: retry))
        }
        leases.hold(subjects.filter { $0.parallel != nil }.map { Self.base($0.id) + ":p" }, id: id)
        var headers: [(String, String)] = []
        var requests: (limit: Int, left: Int)?
        var tokens: (limit: Int, left: Int)?
        for (offset, subject) in subjects.enumerated() {
            let position = 2 + offset * 2
            guard position + 1 < values.count else { break }
            if let limit = subject.rpm, let used = values[position].int {
                let left = max(0, limit - Int(used))
                if left < requests?.left ?? .max { requests = (limit, left) }
            }
            if let limit = subject.tpm, let used = values[position + 1].int {
                let left = max(0, limit - Int(used))
                if left < tokens?.left ?? .max { tokens = (limit, left) }
            }
        }
        if let requests {
            headers += [
                ("x-ratelimit-limit-requests", String(requests.limit)),
                ("x-ratelimit-remaining-requests", String(requests.left)),
            ]
        }
        if let tokens {
            headers += [
                ("x-ratelimit-limit-tokens", String(tokens.limit)), ("x-ratelimit-remaining-tokens", String(tokens.left)),
            ]
        }
        return .admitted(headers: headers)
    }

    /// Gives the slots back and counts the tokens. Waited for by nothing: when it fails, the
    /// leases run out on their own and the tokens are lost from the window (never charged twice).
    func release(_ subjects: [String], lease id: String, tokens: Int) async {
        leases.drop(subjects.map { Self.base($0) + ":p" }, id: id)
        do throws(RedisError) {
            // Capped: a Lua number past 2^53 is no longer an integer, and INCRBY would refuse it.
            let counted = min(max(0, tokens), 1_000_000_000_000)
            _ = try await client.eval(Self.releaseScript, keys: subjects.map(Self.base), arguments: [id, String(counted)])
            health.succeeded()
        } catch {
            health.failed(error)
        }
    }

    static func refusal(_ subject: LimitSubject, _ which: String, retryAfter: Int64) -> GatewayError {
        RateLimiter.refusal(subject, which, retryAfter: String(max(1, retryAfter)))
    }

    /// KEYS: one base key per subject. ARGV: lease id, lease ms, then per subject its parallel,
    /// rpm and tpm limits (-1: none). Expired leases are swept first; nothing is written unless
    /// every subject admits the request.
    static let acquireScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local minute = math.floor(tonumber(t[1]) / 60)
        local reset = 60 - (tonumber(t[1]) % 60)
        local id, lease = ARGV[1], tonumber(ARGV[2])
        local used = {}
        for i, base in ipairs(KEYS) do
          local parallel, rpm, tpm = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
          if parallel >= 0 then
            redis.call('ZREMRANGEBYSCORE', base .. ':p', '-inf', now)
            if redis.call('ZCARD', base .. ':p') >= parallel then return {0, i, 'parallel', 1} end
          end
          local requests = tonumber(redis.call('GET', base .. ':r:' .. minute) or '0')
          if rpm >= 0 and requests >= rpm then return {0, i, 'rpm', reset} end
          local tokens = tonumber(redis.call('GET', base .. ':t:' .. minute) or '0')
          if tpm >= 0 and tokens >= tpm then return {0, i, 'tpm', reset} end
          used[i] = {requests, tokens}
        end
        local reply = {1, reset}
        for i, base in ipairs(KEYS) do
          if tonumber(ARGV[3 * i]) >= 0 then
            redis.call('ZADD', base .. ':p', now + lease, id)
            redis.call('PEXPIRE', base .. ':p', lease)
          end
          local requests = redis.call('INCR', base .. ':r:' .. minute)
          redis.call('EXPIRE', base .. ':r:' .. minute, 120)
          reply[#reply + 1] = requests
          reply[#reply + 1] = used[i][2]
        end
        return reply
        """)

    /// KEYS: the base keys the request was admitted under. ARGV: lease id, tokens used. Every
    /// slot is given back before any count is added: a script that fails midway keeps its writes.
    static let releaseScript = RedisScript(
        """
        local t = redis.call('TIME')
        local minute = math.floor(tonumber(t[1]) / 60)
        for _, base in ipairs(KEYS) do
          redis.call('ZREM', base .. ':p', ARGV[1])
        end
        if tonumber(ARGV[2]) > 0 then
          for _, base in ipairs(KEYS) do
            redis.call('INCRBY', base .. ':t:' .. minute, ARGV[2])
            redis.call('EXPIRE', base .. ':t:' .. minute, 120)
          end
        end
        return 1
        """)
}
