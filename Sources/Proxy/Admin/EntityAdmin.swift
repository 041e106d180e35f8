import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// A record the admin API creates, updates, looks up and deletes by id: teams, users and
/// organisations. Each says only what differs; `EntityAdmin` does the rest once.
protocol AdminEntity: BudgetedRecord {
    /// The fields `/<kind>/new` and `/<kind>/update` accept besides the id, and answers show.
    static var adminFields: AdminFields<Self> { get }
    /// Fields `/<kind>/new` must have.
    static var requiredOnCreate: [String] { get }
    /// A record with nothing set but its id and creation time.
    init(id: String, createdAt: Double)
    /// LiteLLM answers `/team/update` and `/user/update` with `{"<kind>_id", "data"}`, and
    /// `/organization/update` with the record itself.
    static var updateAnswerWrapped: Bool { get }
}

extension AdminEntity {
    /// `team_id`, `user_id`, `organization_id`.
    static var idField: String { "\(kind)_id" }
    static var requiredOnCreate: [String] { [] }
    static var updateAnswerWrapped: Bool { false }

    var json: JSONObject { Self.adminFields.render(self) }
}

/// Create, update, delete and look up for one entity type; the budget gauges on `/metrics`
/// follow every change.
struct EntityAdmin<Record: AdminEntity>: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    /// Checks a record before it is saved (a team's organisation must exist).
    var validate: @Sendable (Record) async throws(GatewayError) -> Void = { _ in }
    /// LiteLLM answers a duplicate user with 409 and a duplicate team with 400.
    var duplicateStatus = 400

    func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Record.adminFields.settable.union([Record.idField]))
            try await BudgetLinks.requireTier(object, store)
            let id =
                object[Record.idField] == nil
                ? UUID().uuidString.lowercased() : try AdminInput.requiredString(object, Record.idField)
            for field in Record.requiredOnCreate { _ = try AdminInput.requiredString(object, field) }
            let now = authenticator.clock.nowSeconds()
            var record = Record(id: id, createdAt: now)
            try Record.adminFields.changes(object, passing: [Record.idField], now: now).apply(to: &record)
            try await validate(record)
            guard try await AdminInput.store({ try await store.fetch(Record.self, id: id) }) == nil else {
                throw GatewayError(
                    .conflict, "A \(Record.kind) with \(Record.idField) '\(id)' already exists.", param: Record.idField,
                    status: duplicateStatus, detail: .init(code: "\(Record.kind)_exists"))
            }
            try await AdminInput.store { try await store.insert(record) }
            authenticator.budgetGauges.changed(record)
            return .object(try await record.answer(store))
        }
    }

    func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Record.adminFields.settable.union([Record.idField]))
            var record = try await existing(try AdminInput.requiredString(object, Record.idField))
            try await BudgetLinks.requireTier(object, store)
            let now = authenticator.clock.nowSeconds()
            try Record.adminFields.changes(object, passing: [Record.idField], now: now).apply(to: &record)
            try await validate(record)
            try await AdminInput.store { try await store.update(record) }
            authenticator.budgetGauges.changed(record)
            guard Record.updateAnswerWrapped else { return .object(try await record.answer(store)) }
            return .object([Record.idField: .string(record.recordID), "data": .object(try await record.answer(store))])
        }
    }

    /// `{"<kind>_ids": [...]}`, answered `{"deleted_<kind>s": [...]}`.
    func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            let field = "\(Record.kind)_ids"
            try AdminInput.onlyKnown(object.keys, [field])
            let ids = try AdminInput.stringList(object, field)
            let removed = try await AdminInput.store { try await store.delete(Record.self, ids: ids) }
            authenticator.budgetGauges.deleted(kind: Record.kind, ids: ids)
            guard removed > 0 else {
                throw .notFound("None of these \(Record.kind)s exists.")
            }
            return .object(["deleted_\(Record.kind)s": .array(ids.map(JSONValue.string))])
        }
    }

    func existing(_ id: String) async throws(GatewayError) -> Record {
        guard let record = try await AdminInput.store({ try await store.fetch(Record.self, id: id) }) else {
            throw .notFound("No \(Record.kind) with \(Record.idField) '\(id)'.")
        }
        return record
    }

    /// The id a GET names in its query string.
    static func id(in uri: String) throws(GatewayError) -> String {
        guard let id = AdminInput.query(uri)[Record.idField] else {
            throw .invalidRequest("'\(Record.idField)' is required.", param: Record.idField)
        }
        return id
    }
}

/// What the `…Management` types share: their record type's create, update and delete endpoints.
protocol EntityEndpoints: Sendable {
    associatedtype Record: AdminEntity
    var entity: EntityAdmin<Record> { get }
    /// `GET /<kind>/info?<kind>_id=…`.
    func info(_ uri: String, headers: HTTPFields) async -> GatewayReply
    /// Requirements so a type's own create, update or delete (users') is the one routes call.
    func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply
    func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply
    func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply
}

extension EntityEndpoints {
    var store: any GatewayStore { entity.store }
    var authenticator: Authenticator { entity.authenticator }

    func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.create(body, headers: headers)
    }

    func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.update(body, headers: headers)
    }

    func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.delete(body, headers: headers)
    }
}
