import Redis
import Store
import Synchronization
import Telemetry

/// LiteLLM's `model_max_budget` on keys (`{"<model>": {"budget_limit": 0.01, "time_period": "1d"}}`,
/// or `max_budget` and `budget_duration`): a key's spend on one model within a window. A window
/// starts at the first charge and lasts its period; a request is refused once the window's spend
/// reaches the budget. Spend is counted when a request settles, so requests in flight together
/// can overspend by what they cost, as in LiteLLM.
///
/// Counters are per (key, budget model as configured, period), in this process, and with Redis
/// configured also in Redis (`spanway:model-budget:{<counter>}`, `INCRBYFLOAT`, expiring with its
/// window, as LiteLLM's DualCache keeps them), which every replica reads; Redis unreachable, this
/// process's own counter decides. Team members' budgets (`TeamMemberLimits`) are counted the
/// same way.
final class ModelBudgets: Sendable {
    /// A key's budget for the model a request names.
    struct Budget: Sendable, Equatable {
        /// The `model_max_budget` entry's name, as configured.
        var model: String
        var limit: Double?
        var period: String
        var seconds: Double
    }

    /// What a settled request is charged to.
    struct Charge: Sendable {
        let counter: String
        let seconds: Double
    }

    private struct Window {
        var end: Double
        var spend: Double
    }

    private struct State {
        var windows: [String: Window] = [:]
        var nextSweep: Double = 0
        /// What has been started from the ledger (`TeamMemberLimits`' never-ending counters).
        var seeded: Set<String> = []
    }

    private let state = Mutex(State())
    let client: RedisClient?
    let health: SharedStateHealth?

    init(client: RedisClient? = nil, health: SharedStateHealth? = nil) {
        self.client = client
        self.health = health
    }

    /// The entry governing `requested` (routed to `group`), found as LiteLLM's
    /// `resolve_model_budget` finds it: the model as requested, then without its `provider/`
    /// prefix, then its group likewise. An entry without a usable period is skipped.
    static func budget(in budgets: JSONObject, requested: String, group: String) -> Budget? {
        var candidates: [String] = []
        for name in [
            requested, String(requested.split(separator: "/").last ?? ""), group, String(group.split(separator: "/").last ?? ""),
        ]
        where !name.isEmpty && !candidates.contains(name) {
            candidates.append(name)
        }
        for candidate in candidates {
            guard let entry = budgets[candidate]?.objectValue else { continue }
            guard let period = (entry["time_period"] ?? entry["budget_duration"])?.stringValue,
                let seconds = DurationText.seconds(period)
            else { continue }
            let limit = (entry["budget_limit"] ?? entry["max_budget"])?.doubleValue
            return Budget(model: candidate, limit: limit, period: period, seconds: seconds)
        }
        return nil
    }

    static func counter(key token: String, _ budget: Budget) -> String {
        LimitSubject.id(.key, token) + "@budget:" + budget.model + ":" + budget.period
    }

    /// Refuses a key whose window's spend on the budget's model has reached the budget (with
    /// LiteLLM's `BudgetExceededError` words and `budget_exceeded_status_code`); otherwise what
    /// the request is to be charged to.
    func admit(_ key: VirtualKey, _ budget: Budget, requested: String, now: Double, refusalStatus: Int)
        async throws(GatewayError) -> Charge
    {
        let charge = Charge(counter: Self.counter(key: key.token, budget), seconds: budget.seconds)
        guard let limit = budget.limit, limit >= 0 else { return charge }
        let spent = await spent(charge.counter, now: now)
        if spent >= limit {
            let name = BudgetGuard.keyDescriptor(alias: nil, keyName: key.keyName)
            throw GatewayError(
                .budgetExceeded,
                "LiteLLM Virtual Key: \(name), key_alias: \(key.keyAlias ?? "None"), exceeded budget for model=\(requested)",
                status: refusalStatus)
        }
        return charge
    }

    /// The current window's spend: Redis's figure when it answers, else this process's.
    func spent(_ counter: String, now: Double) async -> Double {
        let local = localWindow(counter, now: now).spend
        guard let client else { return local }
        do throws(RedisError) {
            let reply = try await client.send(["GET", Self.sharedKey(counter)])
            health?.succeeded()
            return reply.string.flatMap(Double.init) ?? 0
        } catch {
            health?.failed(error)
            return local
        }
    }

    /// The current window of a counter: its spend, and when it ends (nil when none is open).
    func window(_ counter: String, now: Double) async -> (spend: Double, end: Double?) {
        let local = localWindow(counter, now: now)
        guard let client else { return local }
        do throws(RedisError) {
            let replies = try await client.pipeline([["GET", Self.sharedKey(counter)], ["PTTL", Self.sharedKey(counter)]])
            health?.succeeded()
            let spend = replies.first?.string.flatMap(Double.init) ?? 0
            let left = replies.count > 1 ? replies[1].int : nil
            return (spend, left.flatMap { $0 > 0 ? now + Double($0) / 1000 : nil })
        } catch {
            health?.failed(error)
            return local
        }
    }

    /// This process's figure for a counter's open window.
    private func localWindow(_ counter: String, now: Double) -> (spend: Double, end: Double?) {
        state.withLock { state in
            guard let window = state.windows[counter], now < window.end else { return (0, nil) }
            return (window.spend, window.end)
        }
    }

    /// What `/key/info` shows as `model_max_budget_usage`, as LiteLLM's
    /// `build_model_max_budget_usage` does: per budgeted model, the current window's spend, the
    /// budget, its period and when the window ends. Nil for a key without `model_max_budget`.
    func usage(of key: VirtualKey, now: Double) async -> JSONObject? {
        guard
            let budgets = ModelLimits.object(key.litellmFields, naming: [ModelLimits.budgetField])?[
                ModelLimits.budgetField]?.objectValue, !budgets.isEmpty
        else { return nil }
        var usage = JSONObject()
        for model in budgets.keys {
            guard let budget = Self.budget(in: budgets, requested: model, group: model), budget.model == model else {
                continue
            }
            let window = await window(Self.counter(key: key.token, budget), now: now)
            usage[model] = .object([
                "current_spend": .double((window.spend * 10_000).rounded() / 10_000),
                "budget_limit": budget.limit.map(JSONValue.double) ?? .null, "time_period": .string(budget.period),
                "budget_reset_at": AdminValue.date(window.end),
            ])
        }
        return usage
    }

    /// Counts a settled request's cost in its window, starting one when none is open.
    func charge(_ charge: Charge, cost: Double, now: Double) async {
        guard cost.isFinite, cost > 0 else { return }
        state.withLock { state in
            if now >= state.nextSweep {
                // Bounded memory: windows that have ended go, at most once a minute.
                state.windows = state.windows.filter { now < $0.value.end }
                state.nextSweep = now + 60
            }
            var window =
                state.windows[charge.counter].flatMap { now < $0.end ? $0 : nil }
                ?? Window(end: now + charge.seconds, spend: 0)
            window.spend += cost
            state.windows[charge.counter] = window
        }
        guard let client else { return }
        do throws(RedisError) {
            _ = try await client.eval(
                Self.chargeScript, keys: [Self.sharedKey(charge.counter)],
                arguments: [String(cost), charge.seconds.isFinite ? String(Int64(charge.seconds * 1000)) : "0"])
            health?.succeeded()
        } catch {
            health?.failed(error)
        }
    }

    /// Whether `name` is yet to be seeded, marking it as being seeded.
    func beginSeeding(_ name: String) -> Bool { state.withLock { $0.seeded.insert(name).inserted } }

    func endSeeding(_ name: String) { _ = state.withLock { $0.seeded.remove(name) } }

    /// Opens counters that never end at their spend, unless this process already counts them or
    /// Redis has a figure for them (`SET … NX`, in one pipeline): every replica starts from the
    /// same ledger, and the first figure in Redis stands.
    func seed(_ spends: [(counter: String, spend: Double)]) async {
        let spends = spends.filter { $0.spend.isFinite && $0.spend > 0 }
        guard !spends.isEmpty else { return }
        state.withLock { state in
            for (counter, spend) in spends where state.windows[counter] == nil {
                state.windows[counter] = Window(end: .infinity, spend: spend)
            }
        }
        guard let client else { return }
        do throws(RedisError) {
            _ = try await client.pipeline(spends.map { ["SET", Self.sharedKey($0.counter), String($0.spend), "NX"] })
            health?.succeeded()
        } catch {
            health?.failed(error)
        }
    }

    static func sharedKey(_ counter: String) -> String { "spanway:model-budget:{\(counter)}" }

    /// KEYS: the counter. ARGV: the cost, the window in milliseconds (0: it never ends). The
    /// first charge opens the window: the counter expires when it ends.
    static let chargeScript = RedisScript(
        """
        local spent = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
        if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return tostring(spent)
        """)
}
