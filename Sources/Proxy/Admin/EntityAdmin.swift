import Foundation
import HTTPTypes
import NIOCore
import Telemetry

/// A record the admin API creates, updates, looks up and deletes by id: teams, users and
/// organisations. Each says only what differs; `EntityAdmin` does the rest once.
protocol AdminEntity: BudgetedRecord {
    /// The fields `/<kind>/new` and `/<kind>/update` accept besides the id.
    static var settable: Set<String> { get }
    /// A record made from checked `/<kind>/new` fields.
    static func make(id: String, fields: JSONObject, now: Double) throws(GatewayError) -> Self
    /// Applies checked fields; `null` clears.
    mutating func apply(_ fields: JSONObject, now: Double) throws(GatewayError)
    var json: JSONObject { get }
}

extension AdminEntity {
    /// `team_id`, `user_id`, `organization_id`.
    static var idField: String { "\(kind)_id" }
}

/// Create, update, delete and look up for one entity type, against the store calls given; the
/// budget gauges on `/metrics` follow every change.
struct EntityAdmin<Record: AdminEntity>: Sendable {
    let authenticator: Authenticator
    let fetch: @Sendable (String) async throws -> Record?
    let insert: @Sendable (Record) async throws -> Void
    let save: @Sendable (Record) async throws -> Void
    /// Deletes by id (with whatever depends on them); returns how many existed.
    let remove: @Sendable ([String]) async throws -> Int
    /// Checks a record before it is saved (a team's organisation must exist).
    var validate: @Sendable (Record) async throws(GatewayError) -> Void = { _ in }
    /// LiteLLM answers a duplicate user with 409 and a duplicate team with 400.
    var duplicateStatus = 400

    func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Record.settable.union([Record.idField]))
            let id =
                object[Record.idField] == nil
                ? UUID().uuidString.lowercased() : try AdminInput.requiredString(object, Record.idField)
            let record = try Record.make(id: id, fields: object, now: Date().timeIntervalSince1970)
            try await validate(record)
            guard try await AdminInput.store({ try await fetch(id) }) == nil else {
                throw GatewayError(
                    status: duplicateStatus, type: "invalid_request_error",
                    message: "A \(Record.kind) with \(Record.idField) '\(id)' already exists.", param: Record.idField,
                    code: "\(Record.kind)_exists")
            }
            try await AdminInput.store { try await insert(record) }
            authenticator.budgetGauges.changed(record)
            return .object(record.json)
        }
    }

    /// `answer` shapes the reply: LiteLLM wraps teams and users in `{"<kind>_id", "data"}`.
    func update(_ body: ByteBuffer, headers: HTTPFields, answer: @escaping @Sendable (Record) -> JSONValue) async
        -> GatewayReply
    {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Record.settable.union([Record.idField]))
            var record = try await existing(try AdminInput.requiredString(object, Record.idField))
            try record.apply(object, now: Date().timeIntervalSince1970)
            try await validate(record)
            try await AdminInput.store { try await save(record) }
            authenticator.budgetGauges.changed(record)
            return answer(record)
        }
    }

    /// `{"<kind>_ids": [...]}`, answered `{"deleted_<kind>s": [...]}`.
    func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            let field = "\(Record.kind)_ids"
            try AdminInput.onlyKnown(object.keys, [field])
            let ids = try AdminInput.stringList(object, field)
            let removed = try await AdminInput.store { try await remove(ids) }
            authenticator.budgetGauges.deleted(kind: Record.kind, ids: ids)
            guard removed > 0 else {
                throw .notFound("None of these \(Record.kind)s exists.")
            }
            return .object(["deleted_\(Record.kind)s": .array(ids.map(JSONValue.string))])
        }
    }

    func existing(_ id: String) async throws(GatewayError) -> Record {
        guard let record = try await AdminInput.store({ try await fetch(id) }) else {
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
