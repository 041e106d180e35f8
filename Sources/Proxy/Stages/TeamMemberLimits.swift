import Store
import Telemetry

/// LiteLLM's limits on each member of a team, set on the team (`/team/new`, `/team/update`):
/// `team_member_rpm_limit`, `team_member_tpm_limit`, and `team_member_budget` with
/// `team_member_budget_duration`. They bind every key that has both a team and a user, each
/// user on its own: a request counts against `team_member` `<team>:<user>` for the rates (as
/// LiteLLM's `parallel_request_limiter_v3` counts it), and the user's spend in the team against
/// the budget (LiteLLM's `_check_team_member_budget`).
///
/// The budget is a windowed counter kept by `ModelBudgets` (in this process, and in Redis when
/// configured), charged when a request settles. With a duration (the member's, else the
/// team's `budget_duration`, as LiteLLM's member budget inherits it) the window opens at the
/// first charge and lasts the duration; without Redis it starts afresh when the process does,
/// as LiteLLM's cache counters do. Without a duration it never resets, and each process starts
/// it from the member's spend in the ledger, read once per team (one aggregate, not one a
/// request). A budget of 0 or less is no cap, as on LiteLLM's team default.
///
/// The team's JSON is parsed only when its text names one of these fields.
struct TeamMemberLimits: Sendable {
    let teamID: String
    let userID: String
    var rpm: Int?
    var tpm: Int?
    var budget: Double?
    /// The budget's window in seconds; nil when it never resets.
    var budgetSeconds: Double?

    static let rpmField = "team_member_rpm_limit"
    static let tpmField = "team_member_tpm_limit"
    static let budgetField = "team_member_budget"
    static let durationField = "team_member_budget_duration"

    /// Nil when the caller is not a user of a team, or its team sets none of these limits.
    init?(_ principal: Principal) {
        guard let key = principal.key, let team = principal.team, let user = key.userID, !user.isEmpty,
            let fields = ModelLimits.object(team.litellmFields, naming: [Self.rpmField, Self.tpmField, Self.budgetField])
        else { return nil }
        teamID = team.teamID
        userID = user
        rpm = fields[Self.rpmField]?.intValue.flatMap { $0 >= 0 ? $0 : nil }
        tpm = fields[Self.tpmField]?.intValue.flatMap { $0 >= 0 ? $0 : nil }
        budget = fields[Self.budgetField]?.doubleValue.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        budgetSeconds = fields[Self.durationField]?.stringValue.flatMap(DurationText.seconds) ?? team.limits.budgetPeriod
        guard rpm != nil || tpm != nil || budget != nil else { return nil }
    }

    /// `team:<team>@member:<user>`.
    var subjectID: String { Self.subjectID(teamID: teamID, userID: userID) }

    static func subjectID(teamID: String, userID: String) -> String { LimitSubject.id(.team, teamID) + "@member:" + userID }

    /// The rate-limit subject, named `<team>:<user>` as LiteLLM's descriptor is; nil without rates.
    var subject: LimitSubject? {
        guard rpm != nil || tpm != nil else { return nil }
        return LimitSubject(
            id: subjectID, kind: LimitSubject.teamMemberKind, name: "\(teamID):\(userID)", models: [], rpm: rpm, tpm: tpm,
            parallel: nil, maxBudget: nil, spend: 0)
    }

    /// The budget's counter: a new duration starts a new count.
    var budgetCounter: String { Self.counter(teamID: teamID, userID: userID, seconds: budgetSeconds) }

    static func counter(teamID: String, userID: String, seconds: Double?) -> String {
        subjectID(teamID: teamID, userID: userID) + "@budget:" + (seconds.map { "\(Int64($0))s" } ?? "never")
    }
}

extension ModelBudgets {
    /// Refuses a team member whose spend in the team has reached its member budget, with
    /// LiteLLM's `BudgetExceededError` words and `budget_exceeded_status_code`; otherwise what
    /// the request is to be charged to (nil without a member budget).
    func admit(_ member: TeamMemberLimits, store: (any GatewayStore)?, now: Double, refusalStatus: Int)
        async throws(GatewayError) -> Charge?
    {
        guard let budget = member.budget else { return nil }
        let charge = Charge(counter: member.budgetCounter, seconds: member.budgetSeconds ?? .infinity)
        if member.budgetSeconds == nil, let store { await seedMembers(of: member.teamID, from: store) }
        let spent = await spent(charge.counter, now: now)
        if spent >= budget {
            throw GatewayError(
                .budgetExceeded,
                "Budget has been exceeded! User=\(member.userID) in Team=\(member.teamID) Current cost: \(spent), Max budget: \(budget)",
                status: refusalStatus)
        }
        return charge
    }

    /// Once per team and process: the members' spend in the team, from the ledger, opens their
    /// never-ending counters. A store that cannot answer is asked again on the next request.
    private func seedMembers(of teamID: String, from store: any GatewayStore) async {
        guard beginSeeding(LimitSubject.id(.team, teamID)) else { return }
        do {
            let spends = try await store.teamMemberSpend(teamID: teamID)
            await seed(spends.map { (TeamMemberLimits.counter(teamID: teamID, userID: $0.key, seconds: nil), $0.value) })
        } catch {
            endSeeding(LimitSubject.id(.team, teamID))
        }
    }
}
