import Redis
import Telemetry

/// Budgets every replica shares, in Redis. Per budgeted subject (`key:<hash>`, `team:<id>`, …,
/// `proxy`) Redis keeps what has been spent and what requests in flight hold, in integer
/// nano-dollars (a sum of floats would drift, and each replica's would differ):
/// `spanway:budget:{<subject>}:spent`, `…:period` (which budget period `spent` is for), `…:held`
/// (the sum of the holds), `…:holds` (hold id → amount) and `…:exp` (hold id → expiry). One script checks every subject and, only if none
/// has spent its budget, holds the request's estimate in each: like the in-process guard, a
/// request is admitted while any budget is left, so replicas together overspend by at most the
/// requests in flight when it ran out.
///
/// A request's cost moves from its hold into `spent` when it settles, before its answer is
/// released. The store stays the record: every reservation passes the spend and budget period
/// the replica last read from it; `spent` is raised to that spend when lower (Redis restarted, a
/// key not used for an hour), and replaced by it when the period is newer (the budget was reset),
/// so the shared figure is never below the ledger's and never carries a period over. Redis must
/// not evict these keys one by one (`maxmemory-policy noeviction`, Redis's default). A hold is renewed while its
/// request runs (`SharedLeases`); one whose replica died lapses within a lease, and the next
/// reservation sweeps it.
final class SharedBudgets: Sendable {
    enum Outcome: Sendable {
        case held
        /// The subject at this index of the ones asked about has spent its budget (this much, in dollars).
        case refused(index: Int, spent: Double)
        case unavailable
    }

    let client: RedisClient
    let health: SharedStateHealth
    let leases: SharedLeases

    init(client: RedisClient, health: SharedStateHealth, leases: SharedLeases) {
        self.client = client
        self.health = health
        self.leases = leases
    }

    static func base(_ subject: String) -> String { "spanway:budget:{\(subject)}" }

    /// How long a subject's figures outlive its last admitted request.
    var keep: Int64 { max(leases.milliseconds, 3_600_000) }

    /// Dollars as whole nano-dollars, kept below 2^53 (Lua's numbers are doubles).
    static func nanos(_ dollars: Double) -> Int64 {
        guard dollars.isFinite, dollars > 0 else { return 0 }
        return Int64(min((dollars * 1e9).rounded(.up), 9e15))
    }

    /// Holds `estimate` against every subject, or none. `subjects` all have a budget.
    func reserve(_ subjects: [LimitSubject], estimate: Double, hold id: String) async -> Outcome {
        var arguments = [id, String(leases.milliseconds), String(keep), String(Self.nanos(estimate))]
        for subject in subjects {
            // The proxy's budget is spent once spend goes past it, a record's once spend reaches it.
            let strict = subject.id == ProxyBudget.subjectID ? "1" : "0"
            arguments += [
                String(Self.nanos(subject.maxBudget ?? 0)), String(Self.nanos(subject.spend)), strict,
                String(subject.budgetPeriod),
            ]
        }
        let reply: RESPValue
        do throws(RedisError) {
            reply = try await client.eval(Self.reserveScript, keys: subjects.map { Self.base($0.id) }, arguments: arguments)
        } catch {
            health.failed(error)
            // The script may have run before the reply was lost: give back a hold it may have taken.
            if error.kind == .timeout || error.kind == .closed {
                let ids = subjects.map(\.id)
                Task { await self.settle(ids, hold: id, cost: 0) }
            }
            return .unavailable
        }
        // {1} or {0, subject index, spent and held in nano-dollars}.
        guard let values = reply.array, let first = values.first?.int else {
            health.unexpected("budget")
            return .unavailable
        }
        if first == 1 {
            health.succeeded()
            leases.hold(subjects.map { Self.base($0.id) + ":exp" }, id: id)
            return .held
        }
        guard first == 0, values.count == 3, let index = values[1].int, index >= 1, Int(index) <= subjects.count,
            let total = values[2].int
        else {
            health.unexpected("budget")
            return .unavailable
        }
        health.succeeded()
        return .refused(index: Int(index) - 1, spent: Double(total) / 1e9)
    }

    /// Moves the hold into `spent` as the request's real cost. Not retried: a lost reply leaves the
    /// hold to expire, and `spent` catches up with the store's spend at the next reservation.
    func settle(_ subjects: [String], hold id: String, cost: Double) async {
        leases.drop(subjects.map { Self.base($0) + ":exp" }, id: id)
        do throws(RedisError) {
            _ = try await client.eval(
                Self.settleScript, keys: subjects.map(Self.base), arguments: [id, String(Self.nanos(cost)), String(keep)])
            health.succeeded()
        } catch {
            health.failed(error)
        }
    }

    /// Forgets a subject's shared `spent`, to be taken again from the store: after an edit of the
    /// record through the admin API, the store's figure may be lower and right.
    func forget(_ subject: String) async {
        do throws(RedisError) {
            _ = try await client.send(["DEL", Self.base(subject) + ":spent"])
            health.succeeded()
        } catch {
            health.failed(error)
        }
    }

    /// KEYS: one base key per subject. ARGV: hold id, hold ms, keep ms, estimate, then per subject
    /// its budget, the spend its replica read from the store, 1 when spending exactly the budget
    /// still admits, and the budget period. Sweeps at most 100 expired holds per subject per call,
    /// so a call stays short.
    static let reserveScript = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local id, ttl, keep, amount = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        for i, base in ipairs(KEYS) do
          local at = 4 * i + 1
          local budget, recorded = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
          local strict, period = ARGV[at + 2] == '1', tonumber(ARGV[at + 3])
          local expired = redis.call('ZRANGEBYSCORE', base .. ':exp', '-inf', now, 'LIMIT', 0, 100)
          for _, hold in ipairs(expired) do
            local held = redis.call('HGET', base .. ':holds', hold)
            if held then
              redis.call('DECRBY', base .. ':held', held)
              redis.call('HDEL', base .. ':holds', hold)
            end
            redis.call('ZREM', base .. ':exp', hold)
          end
          local known = tonumber(redis.call('GET', base .. ':period') or '-1')
          local spent = tonumber(redis.call('GET', base .. ':spent') or '0')
          if period > known or (period == known and spent < recorded) then
            spent = recorded
            redis.call('SET', base .. ':spent', recorded, 'PX', keep)
            redis.call('SET', base .. ':period', period, 'PX', keep)
          end
          local held = math.max(0, tonumber(redis.call('GET', base .. ':held') or '0'))
          local total = spent + held
          if (strict and total > budget) or (not strict and total >= budget) then return {0, i, total} end
        end
        for _, base in ipairs(KEYS) do
          redis.call('INCRBY', base .. ':held', amount)
          redis.call('HSET', base .. ':holds', id, amount)
          redis.call('ZADD', base .. ':exp', now + ttl, id)
          for _, suffix in ipairs({':spent', ':period', ':held', ':holds', ':exp'}) do
            redis.call('PEXPIRE', base .. suffix, keep)
          end
        end
        return {1}
        """)

    /// KEYS: the base keys the request was held under. ARGV: hold id, cost, keep ms. A hold already
    /// swept (expired) is not subtracted twice; the cost is added either way.
    static let settleScript = RedisScript(
        """
        for _, base in ipairs(KEYS) do
          local held = redis.call('HGET', base .. ':holds', ARGV[1])
          if held then
            if redis.call('DECRBY', base .. ':held', held) < 0 then redis.call('SET', base .. ':held', 0, 'KEEPTTL') end
            redis.call('HDEL', base .. ':holds', ARGV[1])
            redis.call('ZREM', base .. ':exp', ARGV[1])
          end
          if tonumber(ARGV[2]) > 0 then
            redis.call('INCRBY', base .. ':spent', ARGV[2])
            if redis.call('PTTL', base .. ':spent') < 0 then redis.call('PEXPIRE', base .. ':spent', ARGV[3]) end
          end
        end
        return 1
        """)
}
