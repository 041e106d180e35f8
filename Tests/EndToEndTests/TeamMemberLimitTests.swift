import Foundation
import GatewayTesting
import Testing

@testable import Proxy

/// LiteLLM's limits on each member of a team, set on the team through the management API as
/// LiteLLM's scripts set them: `team_member_rpm_limit`, `team_member_tpm_limit` and
/// `team_member_budget` with `team_member_budget_duration`. They bind each user of the team on
/// its own: a key with both the team and a user counts against `team_member` `<team>:<user>`
/// (LiteLLM 1.108.7's `parallel_request_limiter_v3.py`), and the user's spend in the team
/// against the member budget (`auth_checks.py` `_check_team_member_budget`, refused with
/// `BudgetExceededError` at `budget_exceeded_status_code`, 422 by default).
///
/// Figures come from the mock upstream, as in `PerModelLimitTests`: a request whose one message
/// is "x" is 4 input tokens and 10 output tokens, 14 in all, and at m1's prices (0.001 USD an
/// input token, 0.002 an output token) costs 4 × 0.001 + 10 × 0.002 = 0.024 USD.
@Suite(.serialized, .timeLimit(.minutes(2))) struct TeamMemberLimitTests {
    static let config = PerModelLimitTests.config
    static let tokensPerRequest = 4 + 10
    static let costPerRequest = 4 * 0.001 + 10 * 0.002

    static func chat() -> String { PerModelLimitTests.chat("m1") }

    /// A key of `user` in `team`.
    static func memberKey(_ h: Harness, team: String, user: String) async throws -> String {
        try await h.newKey(#"{"team_id":"\#(team)","user_id":"\#(user)"}"#)
    }

    /// The clock stopped 15 seconds into a minute, so a test's requests share one window.
    @Test func memberRPMLimitBindsEachMemberOnItsOwn() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t-rpm","team_member_rpm_limit":1}"#).status == 200)
            let first = try await Self.memberKey(h, team: "t-rpm", user: "u1")
            let firstAgain = try await Self.memberKey(h, team: "t-rpm", user: "u1")
            let second = try await Self.memberKey(h, team: "t-rpm", user: "u2")
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: first).status == 200)
            let refused = try await h.send("/v1/chat/completions", json: Self.chat(), key: first)
            #expect(refused.status == 429 && refused.json?["error"]?["type"] == "rate_limit_exceeded", "\(refused.text)")
            let message = refused.json?["error"]?["message"]?.stringValue ?? ""
            #expect(
                message.hasPrefix("Rate limit exceeded for team_member: t-rpm:u1. Limit type: requests. Current limit: 1"),
                "\(message)")
            #expect(!message.contains(first))
            // The 45 seconds left of the minute.
            #expect(refused.headers.first(name: "retry-after") == "45")
            // The member's other key shares its count; another member and a key of the team
            // without a user are not bound by it.
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: firstAgain).status == 429)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: second).status == 200)
            let teamOnly = try await h.newKey(#"{"team_id":"t-rpm"}"#)
            for _ in 0..<2 {
                #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: teamOnly).status == 200)
            }
            clock.advance(by: .seconds(45))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: first).status == 200)
        }
    }

    /// Tokens count when a request settles: a limit below two requests' 28 tokens admits two
    /// requests and refuses the third in that minute.
    @Test func memberTPMLimitRefusesOnceSettledTokensReachIt() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            let limit = 20
            #expect(Self.tokensPerRequest < limit && 2 * Self.tokensPerRequest >= limit)
            #expect(
                try await h.send("/team/new", json: #"{"team_id":"t-tpm","team_member_tpm_limit":\#(limit)}"#).status == 200)
            let first = try await Self.memberKey(h, team: "t-tpm", user: "u1")
            let second = try await Self.memberKey(h, team: "t-tpm", user: "u2")
            for _ in 0..<2 {
                #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: first).status == 200)
            }
            let refused = try await h.send("/v1/chat/completions", json: Self.chat(), key: first)
            #expect(refused.status == 429 && refused.headers.first(name: "x-ratelimit-limit-tokens") == "\(limit)")
            let message = refused.json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("team_member: t-tpm:u1") && message.contains("Limit type: tokens"), "\(message)")
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: second).status == 200)
            clock.advance(by: .seconds(45))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: first).status == 200)
        }
    }

    /// The member budget: the window opens at the member's first charge and lasts
    /// `team_member_budget_duration`; the member's spend reaching the budget refuses that member
    /// only.
    @Test func memberBudgetRefusesThatMemberUntilTheWindowPasses() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            // Two requests: 0.024 then 0.048 spent; 0.04 is reached by the second.
            let budget = 0.04
            #expect(Self.costPerRequest < budget && 2 * Self.costPerRequest >= budget)
            let created = try await h.send(
                "/team/new",
                json: #"{"team_id":"t-budget","team_member_budget":\#(budget),"team_member_budget_duration":"1d"}"#)
            #expect(created.status == 200)
            let first = try await Self.memberKey(h, team: "t-budget", user: "u1")
            let second = try await Self.memberKey(h, team: "t-budget", user: "u2")
            for _ in 0..<2 {
                #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: first).status == 200)
            }
            let refused = try await h.send("/v1/chat/completions", json: Self.chat(), key: first)
            #expect(refused.status == 422 && refused.json?["error"]?["code"] == "budget_exceeded", "\(refused.text)")
            let message = refused.json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("Budget has been exceeded! User=u1 in Team=t-budget Current cost: "), "\(message)")
            #expect(message.hasSuffix("Max budget: \(budget)") && !message.contains(first), "\(message)")
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: second).status == 200)
            // Still within the day that started at the first charge.
            clock.advance(by: .seconds(86_400 - 60))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: first).status == 422)
            clock.advance(by: .seconds(60))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: first).status == 200)
        }
    }

    /// `budget_exceeded_status_code` sets the refusal's status, as for every budget.
    @Test func memberBudgetRefusalTakesTheConfiguredStatus() async throws {
        let config = Self.config + "\nlitellm_settings:\n  budget_exceeded_status_code: 400\n"
        try await Harness.with(config: config, otlp: false, clock: TestTime.clock(secondsIntoMinute: 15)) { h in
            #expect(
                try await h.send(
                    "/team/new", json: #"{"team_id":"t-status","team_member_budget":0.01,"team_member_budget_duration":"1h"}"#
                ).status == 200)
            let key = try await Self.memberKey(h, team: "t-status", user: "u1")
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: key).status == 400)
        }
    }

    /// `/team/update` changes the limits of the team's members from the next request.
    /// Without the journal every answer waits for its row in the store, which the member
    /// budget's first count reads.
    @Test func teamUpdateChangesTheMemberLimits() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock, journal: false) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t-up","team_member_rpm_limit":1}"#).status == 200)
            let key = try await Self.memberKey(h, team: "t-up", user: "u1")
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: key).status == 429)
            // Three a minute: the minute's one request leaves two.
            #expect(try await h.send("/team/update", json: #"{"team_id":"t-up","team_member_rpm_limit":3}"#).status == 200)
            for _ in 0..<2 {
                #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: key).status == 200)
            }
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: key).status == 429)
            // A member budget added later, without a duration, counts the member's spend in the
            // team so far (three requests, 0.072), as LiteLLM's membership spend does.
            let update = #"{"team_id":"t-up","team_member_rpm_limit":100,"team_member_budget":0.05}"#
            #expect(try await h.send("/team/update", json: update).status == 200)
            let refused = try await h.send("/v1/chat/completions", json: Self.chat(), key: key)
            #expect(refused.status == 422, "\(refused.text)")
            // Another member has spent nothing in the team.
            let other = try await Self.memberKey(h, team: "t-up", user: "u2")
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: other).status == 200)
            // Raised past what u1 has spent: allowed again.
            #expect(try await h.send("/team/update", json: #"{"team_id":"t-up","team_member_budget":1}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat(), key: key).status == 200)
        }
    }
}

/// Two replicas sharing a Redis: a member's count and spend hold across them.
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(
        if: testRedisURL != nil || ProcessInfo.processInfo.environment["CI"] != nil,
        "no Redis: run `eval \"$(scripts/test-services.sh)\"` to start one"))
struct SharedTeamMemberLimitTests {
    /// One request's 0.024 USD on the first replica reaches a 0.02 member budget on the second.
    /// The budget has no duration, so its counter in Redis never expires: the team is new on
    /// each run.
    @Test func memberBudgetHoldsAcrossReplicas() async throws {
        let url = try #require(testRedisURL, "CI starts a Redis (scripts/test-services.sh)")
        let config = SharedPerModelLimitTests.config(redis: url)
        try await Harness.with(config: config, otlp: false) { first in
            try await Harness.with(config: config, otlp: false, sharing: first.database) { second in
                let team = "t-shared-\(UUID().uuidString)"
                let budget = 0.02
                #expect(TeamMemberLimitTests.costPerRequest >= budget)
                let created = try await first.send(
                    "/team/new", json: #"{"team_id":"\#(team)","team_member_budget":\#(budget)}"#)
                #expect(created.status == 200)
                let key = try await TeamMemberLimitTests.memberKey(first, team: team, user: "u1")
                let other = try await TeamMemberLimitTests.memberKey(first, team: team, user: "u2")
                #expect(try await first.send("/v1/chat/completions", json: TeamMemberLimitTests.chat(), key: key).status == 200)
                let refused = try await second.send("/v1/chat/completions", json: TeamMemberLimitTests.chat(), key: key)
                #expect(refused.status == 422 && refused.json?["error"]?["code"] == "budget_exceeded", "\(refused.text)")
                #expect(
                    try await second.send("/v1/chat/completions", json: TeamMemberLimitTests.chat(), key: other).status == 200)
            }
        }
    }
}
