import Logging
import Synchronization
import Telemetry

/// A key's spend crossed its soft budget. Raised once per key and budget period.
public struct BudgetAlert: Sendable, Equatable {
    public var keyToken: String
    public var keyAlias: String?
    public var teamID: String?
    public var softBudget: Double
    public var spend: Double
}

/// Watches settled requests for soft-budget crossings. Alerts are logged, counted, and queued
/// (bounded; drops counted) for the alert sinks to deliver; nothing here waits on delivery.
public final class BudgetAlerts: Sendable {
    public let queue = BoundedQueue<BudgetAlert>(capacity: 1024)
    private let raised = Mutex<Set<String>>([])
    private let counts = Mutex<(raised: Int, dropped: Int)>((0, 0))
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    public var raisedCount: Int { counts.withLock { $0.raised } }

    /// The queue as `/metrics` shows it, beside the sinks (until an alert sink drains it).
    var stats: SinkStats {
        let (_, dropped) = counts.withLock { $0 }
        return SinkStats(sink: "budget_alerts", exported: 0, failedAttempts: 0, dropped: dropped, queueDepth: queue.count)
    }

    /// Called when a request settles with `cost`. The key's spend before it is its record's (as
    /// it was admitted) plus `unrecorded`: earlier requests' costs the ledger has not written to
    /// the store yet, so a crossing is seen however far the ledger lags.
    func settled(_ principal: Principal, cost: Double, unrecorded: Double = 0) {
        guard let key = principal.key, let soft = key.softBudget, cost > 0 else { return }
        let before = key.limits.spend + unrecorded
        let after = before + cost
        guard before < soft, after >= soft else { return }
        // Once per key and period: concurrent requests may all see the crossing.
        let period = "\(key.token):\(key.limits.budgetResetAt ?? 0)"
        guard raised.withLock({ $0.insert(period).inserted }) else { return }
        let alert = BudgetAlert(keyToken: key.token, keyAlias: key.keyAlias, teamID: key.teamID, softBudget: soft, spend: after)
        let queued = queue.push(alert)
        counts.withLock {
            $0.raised += 1
            if !queued { $0.dropped += 1 }
        }
        logger.warning(
            "soft budget crossed",
            metadata: [
                "key_alias": "\(key.keyAlias ?? key.keyName)", "team_id": "\(key.teamID ?? "")",
                "soft_budget": "\(soft)", "spend": "\(after)",
            ])
    }
}
