import Store

/// Something whose limits bind a request: its key, and the key's team. A request must fit within
/// every subject, so the tightest limit wins.
struct LimitSubject: Sendable {
    /// Unique across kinds (`key:<token>`, `team:<id>`).
    var id: String
    /// Named in refusals ("key", "team").
    var kind: String
    var rpm: Int?
    var tpm: Int?
    var parallel: Int?
    var maxBudget: Double?
    var spend: Double

    var hasRateLimits: Bool { rpm != nil || tpm != nil || parallel != nil }
}

extension VirtualKey {
    var limits: LimitSubject {
        LimitSubject(
            id: "key:\(token)", kind: "key", rpm: rpmLimit, tpm: tpmLimit, parallel: maxParallelRequests,
            maxBudget: maxBudget, spend: spend)
    }
}

extension Team {
    var limits: LimitSubject {
        LimitSubject(
            id: "team:\(teamID)", kind: "team", rpm: rpmLimit, tpm: tpmLimit, parallel: maxParallelRequests,
            maxBudget: maxBudget, spend: spend)
    }
}
