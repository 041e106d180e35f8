import Telemetry
import Testing

@testable import Proxy

/// Reservations against budgets, and the estimate a request reserves. Expected figures are worked
/// out by hand from gpt-4o-mini's prices in the bundled LiteLLM price table (input 1.5e-7 USD a
/// token, output 6e-7, at most 16384 output tokens).
@Suite struct BudgetGuardTests {
    static func subject(_ id: String, kind: String = "key", budget: Double?, spend: Double = 0) -> LimitSubject {
        LimitSubject(id: id, kind: kind, name: id, models: [], maxBudget: budget, spend: spend)
    }

    static func refusal(_ guardian: BudgetGuard, _ subjects: [LimitSubject], estimate: Double) -> GatewayError? {
        do throws(GatewayError) {
            _ = try guardian.reserve(subjects, estimate: estimate)
            return nil
        } catch {
            return error
        }
    }

    static func spentRefusal(_ guardian: BudgetGuard, _ subjects: [LimitSubject]) -> GatewayError? {
        do throws(GatewayError) {
            try guardian.refuseIfSpent(subjects)
            return nil
        } catch {
            return error
        }
    }

    @Test func unbudgetedSubjectsReserveNothing() throws {
        #expect(try BudgetGuard().reserve([Self.subject("key:a", budget: nil)], estimate: 1) == nil)
    }

    @Test func reservationsCountUntilReleased() throws {
        let guardian = BudgetGuard()
        let key = [Self.subject("key:a", budget: 1.0, spend: 0.5)]
        // 0.5 spent + 0.3 reserved < 1: admitted; then 0.5 + 0.6 >= 1: the third is refused.
        let first = try #require(try guardian.reserve(key, estimate: 0.3))
        _ = try #require(try guardian.reserve(key, estimate: 0.3))
        let refused = try #require(Self.refusal(guardian, key, estimate: 0.01))
        // LiteLLM's status (since 1.104) and words: `Budget has been exceeded! Key=… Current cost: …`.
        #expect(refused.status == 422 && refused.type == "budget_exceeded" && refused.code == "budget_exceeded")
        #expect(refused.message.hasPrefix("Budget has been exceeded! Key=key:a Current cost: 1.1"))
        #expect(refused.message.hasSuffix(", Max budget: 1.0"))
        #expect(Self.spentRefusal(guardian, key) != nil)
        // Releasing one leaves 0.5 + 0.3 < 1.
        guardian.release(first)
        #expect(Self.spentRefusal(guardian, key) == nil)
        #expect(try guardian.reserve(key, estimate: 0.1) != nil)
    }

    /// A settled request counts with its real cost (not its estimate) until the ledger has its
    /// row in the store, and not at all after (the store's spend counts it then).
    @Test func settledCostsCountUntilTheLedgerRecordsThem() throws {
        let guardian = BudgetGuard()
        let key = [Self.subject("key:a", budget: 1.0, spend: 0.2)]
        let reservation = try #require(try guardian.reserve(key, estimate: 0.5))
        // Settled at 0.9: 0.2 spent + 0.9 not yet in the store >= 1, so the key is spent.
        guardian.settle(reservation, cost: 0.9, requestID: "r1")
        #expect(Self.spentRefusal(guardian, key) != nil)
        // Another request's row changes nothing for this one.
        guardian.recorded(["r2"])
        #expect(Self.spentRefusal(guardian, key) != nil)
        // Once recorded, the subject as the store now reads it (0.2 + 0.9) carries the cost.
        guardian.recorded(["r1"])
        #expect(Self.spentRefusal(guardian, key) == nil, "the stale subject no longer counts r1 twice or at all")
        #expect(Self.spentRefusal(guardian, [Self.subject("key:a", budget: 1.0, spend: 1.1)]) != nil)
        // Recording it again (a replayed row) does not take the cost off twice.
        guardian.recorded(["r1"])
        _ = try #require(try guardian.reserve(key, estimate: 0.7))
        _ = try #require(try guardian.reserve(key, estimate: 0.2), "0.2 + 0.7 < 1")
        #expect(Self.refusal(guardian, key, estimate: 0.01) != nil, "0.2 + 0.7 + 0.2 >= 1")
    }

    @Test func aSpentBudgetIsRefusedBeforeAnyReservation() throws {
        let guardian = BudgetGuard()
        let spent = [Self.subject("key:a", budget: 2, spend: 2)]
        #expect(
            Self.spentRefusal(guardian, spent)?.message
                == "Budget has been exceeded! Key=key:a Current cost: 2.0, Max budget: 2.0")
        #expect(Self.refusal(guardian, spent, estimate: 0) != nil)
        #expect(Self.spentRefusal(guardian, [Self.subject("key:b", budget: 2, spend: 1.99)]) == nil)
    }

    /// The first spent subject is named, and a refused request reserves against none.
    @Test func refusalsNameTheSubjectAndReserveNothing() throws {
        let guardian = BudgetGuard()
        let key = Self.subject("key:a", budget: 1)
        let team = Self.subject("team:t", kind: "team", budget: 0.1, spend: 0.1)
        #expect(
            Self.refusal(guardian, [key, team], estimate: 0.5)?.message
                == "Budget has been exceeded! Team=team:t Current cost: 0.1, Max budget: 0.1")
        // Had the key reserved 0.5 above, 0.5 + 0.6 would now be refused.
        #expect(try guardian.reserve([key], estimate: 0.6) != nil)
    }

    /// LiteLLM words a user's refusal differently, and `budget_exceeded_status_code` sets the status.
    @Test func userRefusalsUseLiteLLMsOtherFormAndTheConfiguredStatus() throws {
        let guardian = BudgetGuard(refusalStatus: 429, proxyBudget: nil)
        let user = LimitSubject(id: "user:u", kind: "user", name: "alice", models: [], maxBudget: 3, spend: 4)
        let refused = try #require(Self.spentRefusal(guardian, [user]))
        #expect(refused.message == "ExceededBudget: User=alice over budget. Spend=4.0, Budget=3.0")
        #expect(refused.status == 429 && refused.type == "budget_exceeded")
    }

    /// `litellm_settings.max_budget`: refused once spend goes past it (LiteLLM's `>`, where a
    /// record's budget refuses at `>=`); costs move from the guard's count to the budget's when
    /// the ledger records them; an epoch-aligned period starts again from 0.
    @Test func proxyBudgetCountsEveryRequestAndResetsEachPeriod() throws {
        let proxy = ProxyBudget(maxBudget: 1, period: 100, now: 1_050)
        let guardian = BudgetGuard(refusalStatus: 422, proxyBudget: proxy)
        let reservation = try #require(try guardian.reserve([proxy.subject(now: 1_050)], estimate: 0.5))
        guardian.settle(reservation, cost: 1.0, requestID: "r1")
        // Exactly at the budget: still admitted.
        #expect(Self.spentRefusal(guardian, [proxy.subject(now: 1_060)]) == nil)
        guardian.recorded(["r1"])
        #expect(proxy.subject(now: 1_060).spend == 1.0)
        let second = try #require(try guardian.reserve([proxy.subject(now: 1_060)], estimate: 0.25))
        guardian.settle(second, cost: 0.25, requestID: "r2")
        let refused = try #require(Self.spentRefusal(guardian, [proxy.subject(now: 1_070)]))
        #expect(refused.message == "Budget has been exceeded! Current cost: 1.25, Max budget: 1.0")
        #expect(refused.status == 422)
        guardian.recorded(["r2"])
        // 1,100 starts the next period (1,000–1,099 was this one).
        #expect(proxy.subject(now: 1_099).spend == 1.25)
        #expect(proxy.subject(now: 1_100).spend == 0)
        #expect(Self.spentRefusal(guardian, [proxy.subject(now: 1_100)]) == nil)
    }

    static func request(_ json: String) throws -> OpenAIRequest {
        try OpenAIRequest(operation: .chat, bytes: Array(json.utf8))
    }

    static let mini = ModelPrice(inputCostPerToken: 1.5e-7, outputCostPerToken: 6e-7, maxOutputTokens: 16384)

    /// A 100-byte body is 25 input tokens (four bytes a token).
    @Test func estimateIsBodyAsInputPlusTheOutputLimit() throws {
        let limited = try Self.request(#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}]}"#)
        // 25 × 1.5e-7 + 10 × 6e-7 = 3.75e-6 + 6e-6
        #expect(abs(BudgetGuard.estimate(limited, bodyBytes: 100, prices: [Self.mini]) - 9.75e-6) < 1e-12)
        // max_completion_tokens wins over max_tokens: 25 × 1.5e-7 + 20 × 6e-7
        let both = try Self.request(
            #"{"model":"m","max_tokens":10,"max_completion_tokens":20,"messages":[{"role":"user","content":"x"}]}"#)
        #expect(abs(BudgetGuard.estimate(both, bodyBytes: 100, prices: [Self.mini]) - 1.575e-5) < 1e-12)
        // No limit: the model's 16384 output tokens: 3.75e-6 + 16384 × 6e-7 = 3.75e-6 + 9.8304e-3
        let open = try Self.request(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
        #expect(abs(BudgetGuard.estimate(open, bodyBytes: 100, prices: [Self.mini]) - 0.00983415) < 1e-12)
        // Neither: 4096 output tokens: 3.75e-6 + 4096 × 6e-7 = 3.75e-6 + 2.4576e-3
        let unknown = ModelPrice(inputCostPerToken: 1.5e-7, outputCostPerToken: 6e-7)
        #expect(abs(BudgetGuard.estimate(open, bodyBytes: 100, prices: [unknown]) - 0.00246135) < 1e-12)
    }

    @Test func estimateUsesTheDearestDeploymentAndNothingWithoutPrices() throws {
        let request = try Self.request(#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}]}"#)
        // gpt-4o at 2.5e-6 / 1e-5: 25 × 2.5e-6 + 10 × 1e-5 = 6.25e-5 + 1e-4
        let dear = ModelPrice(inputCostPerToken: 2.5e-6, outputCostPerToken: 1e-5)
        #expect(abs(BudgetGuard.estimate(request, bodyBytes: 100, prices: [Self.mini, dear]) - 1.625e-4) < 1e-12)
        #expect(BudgetGuard.estimate(request, bodyBytes: 100, prices: []) == 0)
    }
}
