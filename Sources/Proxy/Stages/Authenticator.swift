import Foundation
import HTTPTypes
import Store
import Telemetry

/// Who is calling, once authenticated.
public struct Principal: Sendable {
    public var caller: Caller
    public var isMaster: Bool
    /// The virtual key, for per-key rules; nil for the master key.
    public var key: VirtualKey?
    /// The key's team and user, whose rules bind the key too.
    public var team: Team?
    public var user: User?
    /// The team's organisation, whose rules bind the team's keys.
    public var organization: Organization?
    /// The end user the request names (its `user` field), once the body is read; its limits
    /// bind whatever key calls for it.
    public var endUser: EndUser?
    /// `model_info.access_groups` as served when the caller authenticated: each access group's
    /// model groups, which a `models` entry naming the access group allows.
    var accessGroups: [String: Set<String>] = [:]

    /// Every subject whose limits bind this caller, key first.
    var limitSubjects: [LimitSubject] {
        let key = key.map { key in
            var subject = key.limitSubject
            // Never the digest: refusals name a key as LiteLLM does, by alias and `sk-...wxyz`.
            subject.name = BudgetGuard.keyDescriptor(alias: key.keyAlias, keyName: key.keyName)
            return subject
        }
        return [key, team?.limitSubject, user?.limitSubject, organization?.limitSubject, endUser?.limitSubject].compactMap { $0 }
    }

    /// Stage 2 (per-key part): the model group this key asks for after its aliases, if its key,
    /// team and user all allow it.
    func admit(model: String, param: String = "model") throws(GatewayError) -> String {
        let group = key?.aliases[model] ?? team?.modelAliases[model] ?? model
        if let subject = refusing(group, requested: model) {
            throw .permissionDenied(
                "This \(subject.kind) may not use the model '\(model)'.", param: param, code: "model_not_allowed")
        }
        return group
    }

    /// Whether every allow-list binding this caller lets it use `group` (asked for as `requested`).
    /// Checked again for each fallback group, so a fallback never reaches a group the caller may
    /// not use.
    func allows(_ group: String, requested: String? = nil) -> Bool {
        refusing(group, requested: requested ?? group) == nil
    }

    private func refusing(_ group: String, requested: String) -> LimitSubject? {
        guard key != nil else { return nil }
        return limitSubjects.first { subject in
            !ModelAccess.allows(models(of: subject), group: group, requested: requested, accessGroups: accessGroups)
        }
    }

    /// A subject's allow-list, a key's `all-team-models` read as its team's.
    private func models(of subject: LimitSubject) -> [String] {
        subject.kind == VirtualKey.kind ? ModelAccess.keyModels(subject.models, team: team?.limits.models) : subject.models
    }

    /// Whether every allow-list binding the caller grants the access group `name` itself.
    func allowsAccessGroup(_ name: String) -> Bool {
        guard key != nil else { return true }
        return limitSubjects.allSatisfy { ModelAccess.grants(models(of: $0), accessGroup: name) }
    }
}

/// Stage 1: the presented key (`presentedKey`) to a principal: the master key, or a virtual key
/// looked up by its SHA-256 (keys are never stored or compared in the clear), with its team and user.
public struct Authenticator: Sendable {
    let masterDigest: KeyDigest?
    let store: (any GatewayStore)?
    /// Kept here because the authenticator is what the request path and every admin endpoint
    /// share, and it is where budgets reset (lazily), which the gauges must hear about.
    public let budgetGauges: BudgetGauges

    /// How telemetry names the master key, in place of its digest: master keys are chosen by
    /// people, and an unsalted SHA-256 of one in every sink and ledger row invites a guess.
    public static let masterKeyName = "master"

    /// Key expiry and budget resets are read against this clock.
    public let clock: any GatewayClock
    /// The served deployments, whose access groups a principal carries.
    let deployments: DeploymentSet?

    public init(
        masterKey: String?, store: (any GatewayStore)?, budgetGauges: BudgetGauges = BudgetGauges(),
        clock: any GatewayClock = SystemClock(), deployments: DeploymentSet? = nil
    ) {
        self.clock = clock
        self.deployments = deployments
        masterDigest = masterKey.flatMap { $0.isEmpty ? nil : KeyDigest(key: $0) }
        self.store = store
        self.budgetGauges = budgetGauges
    }

    public func authenticate(_ headers: HTTPFields) async throws(GatewayError) -> Principal {
        let now = clock.nowSeconds()
        guard let masterDigest else {
            // No master key configured: the gateway is open (a warning was logged at start-up).
            let presented = (try? Self.presentedKey(headers)) ?? nil
            return Principal(caller: Caller(keyHash: presented.map { KeyDigest(key: $0).hex }), isMaster: true)
        }
        let digest = try Self.presentedKey(headers).map(KeyDigest.init(key:))
        guard let digest else {
            throw .authentication("No API key provided. Send 'Authorization: Bearer <key>' or an 'x-api-key' header.")
        }
        if digest.matches(masterDigest) {
            return Principal(caller: Caller(keyHash: Self.masterKeyName, keyAlias: Self.masterKeyName), isMaster: true)
        }
        guard var key = try await fresh(VirtualKey.self, id: digest.hex, now: now)
        else { throw .authentication("Invalid API key.") }
        key = try await linked(key, tierID: key.budgetID, now: now)
        // A temporary budget increase (`/key/update` `temp_budget_increase`) binds until it expires.
        key.limits.maxBudget = key.maxBudget(now: now)
        if key.blocked { throw .authentication("This API key is blocked.") }
        if key.isExpired(now: now) { throw .authentication("This API key has expired.") }
        var team: Team?
        if let id = key.teamID { team = try await fresh(Team.self, id: id, now: now) }
        if team?.blocked == true { throw .authentication("This API key's team is blocked.") }
        // A key may name a user the gateway does not manage (attribution only); limits apply when it does.
        var user: User?
        if let id = key.userID { user = try await fresh(User.self, id: id, now: now) }
        var organization: Organization?
        // The team's organisation, or else the key's own (LiteLLM's key `organization_id`).
        if let id = team?.organizationID ?? key.organizationID {
            organization = try await fresh(Organization.self, id: id, now: now)
            if let linked = organization { organization = try await self.linked(linked, tierID: linked.budgetID, now: now) }
        }
        return Principal(
            caller: Caller(
                keyHash: key.token, keyAlias: key.keyAlias, teamID: key.teamID, teamAlias: team?.teamAlias,
                userID: key.userID, orgID: organization?.organizationID),
            isMaster: false, key: key, team: team, user: user, organization: organization,
            accessGroups: deployments?.snapshot.accessGroups ?? [:])
    }

    /// Admin endpoints take the master key only; with none configured they are closed.
    public func authenticateAdmin(_ headers: HTTPFields) async throws(GatewayError) -> Principal {
        guard masterDigest != nil else {
            throw .permissionDenied(
                "The admin API needs a master key; set general_settings.master_key or SPANWAY_MASTER_KEY.")
        }
        let principal = try await authenticate(headers)
        guard principal.isMaster else {
            throw .permissionDenied("This endpoint needs the master key.")
        }
        return principal
    }

    /// The record, with its budget reset first when its period has ended. Budgets reset lazily, on
    /// first use after the period; the store makes a reset happen once even when requests race.
    private func fresh<Record: BudgetedRecord>(
        _ type: Record.Type, id: String, now: Double
    ) async throws(GatewayError) -> Record? {
        guard let store else { return nil }
        do {
            guard let record = try await store.fetch(Record.self, id: id) else { return nil }
            guard let due = record.limits.budgetResetAt, due <= now, let period = record.limits.budgetPeriod else {
                return record
            }
            _ = try await store.resetBudget(of: Record.owner, id: id, dueBy: now, next: now + period)
            let reset = try await store.fetch(Record.self, id: id)
            reset.map(budgetGauges.refreshed)
            return reset
        } catch {
            throw .storeUnavailable()
        }
    }

    /// Where clients put their key, in LiteLLM's order: its own header (raw or `Bearer …`), then
    /// `Authorization`, then the raw-key headers of Azure, Anthropic, Google and Azure API
    /// Management.
    static let rawKeyHeaders = ["api-key", "x-api-key", "x-goog-api-key", "ocp-apim-subscription-key"]

    /// The key the caller presents, or nil when there is none. An `Authorization` header that is
    /// neither `Bearer <key>` nor `Basic <key>` is refused rather than skipped, as LiteLLM does:
    /// a client that sends one has misplaced its key, and a raw-key header further down must not
    /// quietly stand in. `Basic` is taken as LiteLLM takes it, the prefix stripped and the rest
    /// the key (not base64-decoded).
    static func presentedKey(_ headers: HTTPFields) throws(GatewayError) -> String? {
        if let value = headers.value("x-litellm-api-key"), !value.isEmpty {
            if let key = token(value, scheme: "bearer ") { return key }
            let raw = value.trimmingCharacters(in: .whitespaces)
            if !raw.isEmpty { return raw }
        }
        if let authorization = headers[.authorization], !authorization.allSatisfy({ $0 == " " || $0 == "\t" }) {
            guard let key = token(authorization, scheme: "bearer ") ?? token(authorization, scheme: "basic ") else {
                throw .authentication(
                    "Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix.",
                    param: "authorization")
            }
            return key
        }
        for name in rawKeyHeaders {
            if let key = headers.value(name), !key.isEmpty { return key }
        }
        return nil
    }

    /// The token of `<scheme> <token>` (`scheme` lower-case with its space, matched in any case,
    /// spaces and tabs around), read on the bytes: this runs for every request, and Foundation's
    /// trimming and lower-casing cost more than the rest of authentication.
    static func token(_ value: String, scheme: String) -> String? {
        let bytes = Array(value.utf8)
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let scheme = Array(scheme.utf8)
        guard end - start > scheme.count else { return nil }
        for (offset, expected) in scheme.enumerated() {
            let byte = bytes[start + offset]
            // ASCII letters compare case-blind with their lower-case bit set; the space exactly.
            guard (expected == UInt8(ascii: " ") ? byte : byte | 0x20) == expected else { return nil }
        }
        start += scheme.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        return start < end ? String(decoding: bytes[start..<end], as: UTF8.self) : nil
    }
}
