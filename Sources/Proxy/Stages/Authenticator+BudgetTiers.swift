import Store
import Telemetry

extension Authenticator {
    /// The tier of end users that link to none, as LiteLLM picks it: the calling key's
    /// `end_user_budget_id`, else `litellm_settings.max_end_user_budget_id`.
    static func defaultEndUserTier(key: VirtualKey?, configured: String?) -> String? {
        guard let fields = key?.litellmFields, fields.contains("end_user_budget_id"),
            let id = (try? JSONParser.parse(fields))?["end_user_budget_id"]?.stringValue, !id.isEmpty
        else { return configured }
        return id
    }

    /// The record with its budget tier's limits where its own are unset (`Limits.bound(by:)`),
    /// read per request through the store's cache, so a `/budget/update` binds every linked
    /// record at once. A record without its own `budget_duration` runs on the tier's period, from
    /// its own reset time: the first time it is seen linked, its period starts (its spend kept,
    /// so a first request's cost or a key's earlier spend is not lost); its spend is zeroed only
    /// when that reset time passes. The tier's own `budget_reset_at` does not reset it.
    func linked<Record: LimitedRecord>(_ record: Record, tierID: String?, now: Double) async throws(GatewayError) -> Record {
        guard let store, let tierID else { return record }
        do {
            guard let tier = try await store.fetch(Budget.self, id: tierID) else { return record }
            var record = record
            if record.limits.budgetDuration == nil, let period = tier.limits.budgetPeriod,
                record.limits.budgetResetAt.map({ $0 <= now }) ?? true
            {
                // Read again even when another request reset it first.
                _ = try await store.resetBudget(of: Record.owner, id: record.recordID, dueBy: now, next: now + period)
                if let reset = try await store.fetch(Record.self, id: record.recordID) { record = reset }
            }
            record.limits = record.limits.bound(by: tier)
            return record
        } catch {
            throw .storeUnavailable()
        }
    }

    /// The end user a request names, with its tier's limits (its own `budget_id`, else
    /// `defaultTier`, LiteLLM's `max_end_user_budget_id`). An end user the store has no row for
    /// is taken as one with no spend yet. A blocked end user is refused, as LiteLLM's blocked
    /// user check refuses it (400).
    func endUser(_ id: String, defaultTier: String?, now: Double) async throws(GatewayError) -> EndUser? {
        guard let store else { return nil }
        var endUser: EndUser
        do {
            endUser = try await store.fetch(EndUser.self, id: id) ?? EndUser(userID: id, createdAt: now)
            if let due = endUser.limits.budgetResetAt, due <= now, let period = endUser.limits.budgetPeriod,
                try await store.resetBudget(of: .endUser, id: id, dueBy: now, next: now + period),
                let reset = try await store.fetch(EndUser.self, id: id)
            {
                endUser = reset
            }
        } catch {
            throw .storeUnavailable()
        }
        if endUser.blocked {
            throw .invalidRequest("User blocked from making LLM API Calls. User=\(id)", param: "user")
        }
        return try await linked(endUser, tierID: endUser.budgetID ?? defaultTier, now: now)
    }
}
