import HTTPTypes
import NIOCore
import Store
import Telemetry

/// A team's trace routing through the admin API, with LiteLLM's endpoints: its own callbacks
/// (`POST /team/{team_id}/callback`), what they are (`GET`, credentials masked), and
/// `POST /team/{team_id}/disable_logging`. All of it lives in the team's `metadata`.
extension TeamManagement {
    static let callbackFields: Set<String> = ["callback_name", "callback_type", "callback_vars"]
    /// `callback_vars` that are not credentials, shown as they are; every other value is masked.
    static let visibleCallbackVars: Set<String> = [
        "langfuse_host", "host", "helicone_api_base", "api_base", "format", "log_format", "environment", "release",
    ]

    public func addCallback(teamID: String, body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.callbackFields)
            let name = try AdminInput.requiredString(object, "callback_name")
            var team = try await entity.existing(teamID)
            var metadata = Self.metadata(of: team)
            var logging = metadata["logging"]?.arrayValue ?? []
            logging.removeAll { $0["callback_name"]?.stringValue == name }
            logging.append(.object(object))
            metadata["logging"] = .array(logging)
            team.metadata = JSONValue.object(metadata).encodedString()
            try await Self.checkTraceSettings(team, egress: egress)
            try await AdminInput.store { try await store.update(team) }
            return .object([
                "status": "success",
                "data": .object([
                    "team_id": .string(teamID), "callback_name": .string(name),
                    "callback_type": object["callback_type"] ?? .string("success_and_failure"),
                ]),
            ])
        }
    }

    public func callbacks(teamID: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let team = try await entity.existing(teamID)
            let metadata = Self.masked(Self.metadata(of: team))
            return .object([
                "status": "success",
                "data": .object([
                    "team_id": .string(teamID), "logging": metadata["logging"] ?? .array([]),
                    "default_sinks": metadata["default_sinks"] ?? .bool(true),
                    "capture_content": metadata["capture_content"] ?? .null,
                ]),
            ])
        }
    }

    /// LiteLLM's meaning: the team's requests are logged nowhere — its own callbacks are removed
    /// and the default destinations skip it. (The ledger and Prometheus still count them.)
    public func disableLogging(teamID: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            var team = try await entity.existing(teamID)
            var metadata = Self.metadata(of: team)
            metadata["logging"] = .array([])
            metadata["default_sinks"] = .bool(false)
            team.metadata = JSONValue.object(metadata).encodedString()
            try await AdminInput.store { try await store.update(team) }
            return .object(["status": "success", "data": .object(["team_id": .string(teamID), "logging_disabled": true])])
        }
    }

    /// Refuses metadata whose trace settings the gateway could not use, or whose destinations
    /// point where team destinations may not send (checked after DNS resolution), naming the field.
    static func checkTraceSettings(_ team: Team, egress: EgressPolicy) async throws(GatewayError) {
        let settings: TeamTraceSettings
        do throws(TeamTraceSettings.Problem) {
            settings = try TeamTraceSettings.parse(teamID: team.teamID, metadata: Self.metadata(of: team))
        } catch {
            guard case .invalid(let field, let why) = error else { return }
            throw .invalidRequest("'\(field)' \(why).", param: field)
        }
        for (sink, field) in zip(settings.sinks, settings.destinationFields) {
            if let refusal = await egress.check(sink: sink) {
                throw .invalidRequest("'\(field)' \(refusal.message).", param: field, code: "destination_not_allowed")
            }
        }
    }

    static func metadata(of team: Team) -> JSONObject {
        (try? JSONParser.parse(team.metadata))?.objectValue ?? [:]
    }

    /// The metadata as the admin API shows it: callback credentials replaced.
    static func masked(_ metadata: JSONObject) -> JSONObject {
        var shown = metadata
        guard let logging = metadata["logging"]?.arrayValue else { return shown }
        shown["logging"] = .array(
            logging.map { entry in
                guard var object = entry.objectValue, let vars = object["callback_vars"]?.objectValue else { return entry }
                object["callback_vars"] = .object(
                    JSONObject(
                        vars.members.map { member in
                            (
                                key: member.key,
                                value: visibleCallbackVars.contains(member.key)
                                    ? member.value : .string(SecretRedactor.replacement)
                            )
                        }))
                return .object(object)
            })
        return shown
    }
}
