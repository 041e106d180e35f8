import Foundation
import GatewayTesting
import HTTPTypes
import Store
import Telemetry
import Testing

@testable import Proxy

/// Stage 1 against a real store, with time from a `ManualClock`.
@Suite struct AuthenticatorTests {
    static let master = "sk-unit-master"
    static let start = TestTime.minuteStart

    let store: SQLiteStore
    let clock = ManualClock(seconds: AuthenticatorTests.start)
    let authenticator: Authenticator

    init() throws {
        store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("spanway-auth-\(UUID().uuidString).db").path)
        authenticator = Authenticator(masterKey: Self.master, store: store, clock: clock)
    }

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

    /// Stores a key whose raw value is `raw`, as `/key/generate` would (only its digest is kept).
    func storeKey(_ raw: String, _ edit: (inout VirtualKey) -> Void = { _ in }) async throws -> VirtualKey {
        var key = VirtualKey(token: KeyDigest(key: raw).hex, keyName: VirtualKey.displayName(of: raw), createdAt: Self.start)
        edit(&key)
        try await store.insert(key)
        return key
    }

    func refusal(_ headers: HTTPFields, admin: Bool = false) async -> GatewayError? {
        do throws(GatewayError) {
            _ = admin ? try await authenticator.authenticateAdmin(headers) : try await authenticator.authenticate(headers)
            return nil
        } catch {
            return error
        }
    }

    @Test func theMasterKeyIsNamedNotHashed() async throws {
        let principal = try await authenticator.authenticate(Self.bearer(Self.master))
        #expect(principal.isMaster && principal.key == nil)
        #expect(principal.caller.keyHash == "master" && principal.caller.keyAlias == "master")
        #expect(try await authenticator.authenticateAdmin(Self.bearer(Self.master)).isMaster)
    }

    @Test func missingAndUnknownKeysAreRefused() async throws {
        let missing = try #require(await refusal([:]))
        #expect(missing.status == 401 && missing.type == "authentication_error")
        #expect(missing.message == "No API key provided. Send 'Authorization: Bearer <key>' or an 'x-api-key' header.")
        #expect(await refusal(Self.bearer("  ")) != nil)
        let unknown = try #require(await refusal(Self.bearer("sk-nobody")))
        #expect(unknown.status == 401 && unknown.message == "Invalid API key.")
    }

    @Test func aVirtualKeyIsFoundByItsDigestInEitherHeader() async throws {
        let stored = try await storeKey("sk-virtual-1") { $0.keyAlias = "app" }
        let principal = try await authenticator.authenticate(Self.bearer("sk-virtual-1"))
        #expect(!principal.isMaster && principal.key?.token == stored.token)
        #expect(principal.caller.keyHash == stored.token && principal.caller.keyAlias == "app")
        let viaHeader = try await authenticator.authenticate([HTTPField.Name("x-api-key")!: "sk-virtual-1"])
        #expect(viaHeader.key?.token == stored.token)
    }

    @Test func aKeyExpiresWhenTheClockReachesItsExpiry() async throws {
        _ = try await storeKey("sk-expiring") { $0.expiresAt = Self.start + 3600 }
        #expect(try await authenticator.authenticate(Self.bearer("sk-expiring")).key != nil)
        clock.advance(by: .seconds(3599))
        #expect(await refusal(Self.bearer("sk-expiring")) == nil)
        clock.advance(by: .seconds(1))
        let expired = try #require(await refusal(Self.bearer("sk-expiring")))
        #expect(expired.status == 401 && expired.message == "This API key has expired.")
    }

    @Test func aBudgetResetsOnceItsPeriodHasPassed() async throws {
        let stored = try await storeKey("sk-budgeted") {
            $0.limits.maxBudget = 10
            $0.limits.spend = 4
            $0.limits.budgetDuration = "1h"
            $0.limits.budgetResetAt = Self.start + 3600
        }
        #expect(try await authenticator.authenticate(Self.bearer("sk-budgeted")).key?.limits.spend == 4)
        clock.advance(by: .seconds(3600))
        let reset = try #require(try await authenticator.authenticate(Self.bearer("sk-budgeted")).key)
        #expect(reset.limits.spend == 0)
        // The next period is counted from the reset: an hour later.
        #expect(reset.limits.budgetResetAt == Self.start + 7200)
        #expect(try await store.fetch(VirtualKey.self, id: stored.token)?.limits.spend == 0)
    }

    @Test func blockedKeysAndTeamsAreRefused() async throws {
        _ = try await storeKey("sk-blocked") { $0.blocked = true }
        #expect(await refusal(Self.bearer("sk-blocked"))?.message == "This API key is blocked.")
        var team = Team(teamID: "t", createdAt: Self.start)
        team.blocked = true
        try await store.insert(team)
        _ = try await storeKey("sk-in-team") { $0.teamID = "t" }
        let refused = try #require(await refusal(Self.bearer("sk-in-team")))
        #expect(refused.status == 401 && refused.message == "This API key's team is blocked.")
    }

    @Test func adminEndpointsTakeOnlyTheMasterKey() async throws {
        _ = try await storeKey("sk-virtual-2")
        let refused = try #require(await refusal(Self.bearer("sk-virtual-2"), admin: true))
        #expect(refused.status == 403 && refused.type == "permission_denied")
        #expect(refused.message == "This endpoint needs the master key.")
        #expect(await refusal(Self.bearer("sk-wrong"), admin: true)?.status == 401)

        let open = Authenticator(masterKey: nil, store: store, clock: clock)
        #expect(try await open.authenticate([:]).isMaster)
        do throws(GatewayError) {
            _ = try await open.authenticateAdmin(Self.bearer("anything"))
            Issue.record("an open gateway served an admin call")
        } catch {
            #expect(error.status == 403)
            #expect(error.message == "The admin API needs a master key; set general_settings.master_key or SPANWAY_MASTER_KEY.")
        }
    }
}
