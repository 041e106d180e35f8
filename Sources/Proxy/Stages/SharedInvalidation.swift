import Logging
import Redis
import Store

/// Keys, teams, users and organisations changed on one replica are read afresh on every replica
/// at once: a write through the admin API (or a budget reset) is published on a Redis channel
/// before the write's answer goes out, and every replica drops what it cached of the record.
/// Publish/subscribe keeps nothing, so a replica drops its whole cache each time it (re)subscribes;
/// the cache's two-second lifetime stays as the backstop for a message lost in between.
/// A record whose spend may have been lowered (a reset, an edit) also has its shared budget
/// figure forgotten, to be taken again from the store.
final class SharedInvalidation: Sendable {
    static let channel = "spanway:invalidate"

    private let client: RedisClient
    private let store: CachedStore

    init(client: RedisClient, store: CachedStore, budgets: SharedBudgets, logger: Logger) {
        self.client = client
        self.store = store
        store.observeWrites { [client, logger] change in
            if case .record(let owner, let id) = change { await budgets.forget(LimitSubject.id(owner, id)) }
            do throws(RedisError) {
                _ = try await client.publish(Self.channel, Self.message(change))
            } catch {
                logger.warning(
                    "could not tell the other replicas of a change; they see it within two seconds",
                    metadata: ["error": "\(error.kind)"])
            }
        }
    }

    /// Applies other replicas' changes until the client shuts down.
    func run() async {
        for await event in client.subscribe(to: Self.channel) {
            switch event {
            case .subscribed: store.invalidate(.all)
            case .message(let payload): store.invalidate(Self.parse(payload) ?? .all)
            }
        }
    }

    /// `<owner> <id>`, the id last since it is free text; `*` for every record.
    static func message(_ change: StoreChange) -> String {
        switch change {
        case .record(let owner, let id): "\(owner.rawValue) \(id)"
        case .all: "*"
        case .models: Self.modelsMessage
        }
    }

    /// A model added, changed or deleted through the admin API: every replica reloads its models.
    static let modelsMessage = "models"

    /// Nil for anything but one record's or the models' change: the caller then drops everything,
    /// which is never wrong.
    static func parse(_ payload: [UInt8]) -> StoreChange? {
        if payload.elementsEqual(modelsMessage.utf8) { return .models }
        guard let text = String(validating: payload, as: UTF8.self), let space = text.firstIndex(of: " "),
            let owner = BudgetOwner(rawValue: String(text[..<space]))
        else { return nil }
        let id = String(text[text.index(after: space)...])
        return id.isEmpty ? nil : .record(owner, id: id)
    }
}
