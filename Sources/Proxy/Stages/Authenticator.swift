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
    /// The key's team, whose rules bind the key too.
    public var team: Team?

    /// Every subject whose limits bind this caller, key first.
    var limitSubjects: [LimitSubject] {
        [key?.limits, team?.limits].compactMap { $0 }
    }
}

/// Stage 1: the bearer key (or `x-api-key`) to a principal: the master key, or a virtual key
/// looked up by its SHA-256 (keys are never stored or compared in the clear).
public struct Authenticator: Sendable {
    let masterDigest: KeyDigest?
    let store: (any GatewayStore)?

    public init(masterKey: String?, store: (any GatewayStore)?) {
        masterDigest = masterKey.flatMap { $0.isEmpty ? nil : KeyDigest(key: $0) }
        self.store = store
    }

    public var isOpen: Bool { masterDigest == nil }

    public func authenticate(_ headers: HTTPFields, now: Double = Date().timeIntervalSince1970) async throws(GatewayError)
        -> Principal
    {
        let digest = Self.presentedKey(headers).map(KeyDigest.init(key:))
        guard let masterDigest else {
            // No master key configured: the gateway is open (a warning was logged at start-up).
            return Principal(caller: Caller(keyHash: digest?.hex), isMaster: true)
        }
        guard let digest else {
            throw .authentication("No API key provided. Send 'Authorization: Bearer <key>' or an 'x-api-key' header.")
        }
        if digest.matches(masterDigest) {
            return Principal(caller: Caller(keyHash: digest.hex, keyAlias: "master"), isMaster: true)
        }
        guard var key = try await lookUp(digest.hex) else { throw .authentication("Invalid API key.") }
        if key.blocked { throw .authentication("This API key is blocked.") }
        if key.isExpired(now: now) { throw .authentication("This API key has expired.") }
        try await resetBudgetIfDue(&key, now: now)
        var team: Team?
        if let teamID = key.teamID {
            team = try await lookUpTeam(teamID, now: now)
            if team?.blocked == true { throw .authentication("This API key's team is blocked.") }
        }
        return Principal(
            caller: Caller(
                keyHash: key.token, keyAlias: key.keyAlias, teamID: key.teamID, teamAlias: team?.teamAlias,
                userID: key.userID),
            isMaster: false, key: key, team: team)
    }

    /// Admin endpoints take the master key only; with none configured they are closed.
    public func authenticateAdmin(_ headers: HTTPFields) async throws(GatewayError) -> Principal {
        guard masterDigest != nil else {
            throw GatewayError(status: 403, type: "permission_denied",
                message: "The admin API needs a master key; set general_settings.master_key or SPANWAY_MASTER_KEY.",
                errorType: "permission_denied")
        }
        let principal = try await authenticate(headers)
        guard principal.isMaster else {
            throw GatewayError(status: 403, type: "permission_denied", message: "This endpoint needs the master key.",
                errorType: "permission_denied")
        }
        return principal
    }

    /// Budgets reset lazily, when a key is next used after its period ended; the store makes the
    /// reset happen once even when several requests notice it together.
    private func resetBudgetIfDue(_ key: inout VirtualKey, now: Double) async throws(GatewayError) {
        guard let store, let due = key.budgetResetAt, due <= now,
            let period = key.budgetDuration.flatMap(DurationText.seconds)
        else { return }
        do {
            _ = try await store.resetBudget(token: key.token, dueBy: now, next: now + period)
            if let fresh = try await store.key(token: key.token) { key = fresh }
        } catch {
            throw GatewayError(status: 503, type: "api_error", message: "The key store is unavailable.",
                errorType: "store_unavailable")
        }
    }

    private func lookUpTeam(_ id: String, now: Double) async throws(GatewayError) -> Team? {
        guard let store else { return nil }
        do {
            guard let team = try await store.team(id: id) else { return nil }
            if let due = team.budgetResetAt, due <= now, let period = team.budgetDuration.flatMap(DurationText.seconds) {
                _ = try await store.resetTeamBudget(id: id, dueBy: now, next: now + period)
                return try await store.team(id: id)
            }
            return team
        } catch {
            throw GatewayError(status: 503, type: "api_error", message: "The key store is unavailable.",
                errorType: "store_unavailable")
        }
    }

    private func lookUp(_ token: String) async throws(GatewayError) -> VirtualKey? {
        guard let store else { return nil }
        do {
            return try await store.key(token: token)
        } catch {
            throw GatewayError(status: 503, type: "api_error", message: "The key store is unavailable.",
                errorType: "store_unavailable")
        }
    }

    static func presentedKey(_ headers: HTTPFields) -> String? {
        if let authorization = headers[.authorization] {
            let trimmed = authorization.trimmingCharacters(in: .whitespaces)
            if trimmed.lowercased().hasPrefix("bearer ") {
                let key = trimmed.dropFirst(7).trimmingCharacters(in: .whitespaces)
                return key.isEmpty ? nil : key
            }
        }
        if let key = headers.first(where: { $0.name.canonicalName == "x-api-key" })?.value, !key.isEmpty {
            return key
        }
        return nil
    }
}

extension Principal {
    /// Stage 2 (per-key part): the model group this key asks for after its aliases, if it may use it.
    func admit(model: String) throws(GatewayError) -> String {
        guard let key else { return model }
        let group = key.aliases[model] ?? model
        for (kind, models) in [("key", key.models), ("team", team?.models ?? [])]
        where !models.isEmpty && !models.contains(group) && !models.contains(model) {
            throw GatewayError(status: 403, type: "permission_denied",
                message: "This \(kind) may not use the model '\(model)'.", param: "model", code: "model_not_allowed",
                errorType: "model_not_allowed")
        }
        return group
    }
}
