import Foundation
import Telemetry

/// How one team's traces travel: its own destinations, whether the default ones see its requests,
/// and whether its prompts and answers are captured. From `litellm_settings.default_team_settings`
/// or the team's metadata (`logging`, `default_sinks`, `capture_content`, `redact_emails`), which
/// the admin API sets.
public struct TeamTraceSettings: Sendable {
    public var sinks: [SinkConfig] = []
    /// For each of `sinks`, the metadata field that named its destination (for refusals).
    var destinationFields: [String] = []
    /// False: the default destinations skip this team's requests.
    public var defaultSinks: Bool?
    /// Nil: the gateway-wide `capture_content`.
    public var captureContent: Bool?
    public var redactEmails: Bool?

    public init() {}

    public var isEmpty: Bool { sinks.isEmpty && defaultSinks == nil && captureContent == nil && redactEmails == nil }

    public enum Problem: Error, Equatable {
        case invalid(String, String)
    }

    /// The settings in a team's metadata. `logging` is LiteLLM's list of team callbacks:
    /// `{"callback_name": "langfuse", "callback_type": "success|failure|success_and_failure",
    /// "callback_vars": {"langfuse_public_key": …}}`. Metadata is set through the admin API, so it
    /// may not read the gateway's environment: a value `os.environ/NAME` is refused, with the same
    /// words whether or not the variable exists (the answer must not tell which ones do), and the
    /// gateway's own variables are never used as a team's credentials. (Team settings written in
    /// the config file, `default_team_settings`, are the operator's and may use `os.environ/`.)
    public static func parse(teamID: String, metadata: JSONObject) throws(Problem) -> TeamTraceSettings {
        var settings = TeamTraceSettings()
        for key in ["default_sinks", "capture_content", "redact_emails"] {
            guard let value = metadata[key], !value.isNull else { continue }
            guard let flag = value.boolValue else { throw .invalid("metadata.\(key)", "must be true or false") }
            switch key {
            case "default_sinks": settings.defaultSinks = flag
            case "capture_content": settings.captureContent = flag
            default: settings.redactEmails = flag
            }
        }
        guard let logging = metadata["logging"], !logging.isNull else { return settings }
        guard let entries = logging.arrayValue else { throw .invalid("metadata.logging", "must be a list") }
        for (index, entry) in entries.enumerated() {
            let path = "metadata.logging[\(index)]"
            guard let name = entry["callback_name"]?.stringValue else { throw .invalid("\(path).callback_name", "is required") }
            let unsupported = Problem.invalid("\(path).callback_name", "'\(name)' is not a supported callback")
            // The name is judged before the rest of the entry.
            guard SinkConfig.Kind(callbackName: name) != nil else { throw unsupported }
            let type = entry["callback_type"]?.stringValue ?? "success_and_failure"
            guard let outcome = Self.outcome(type) else {
                throw .invalid("\(path).callback_type", "must be success, failure or success_and_failure")
            }
            var values: [String: String] = [:]
            for (key, value) in (entry["callback_vars"]?.objectValue ?? JSONObject()).members {
                guard let text = value.stringValue ?? value.intValue.map(String.init) else { continue }
                if text.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("os.environ/") {
                    throw .invalid(
                        "\(path).callback_vars.\(key)",
                        "may not read the gateway's environment (os.environ/…): give the value itself")
                }
                values[key] = text
            }
            do throws(CallbackProblem) {
                let parsed = try callback(teamID: teamID, name: name, outcome: outcome, values: values)
                settings.sinks.append(parsed.sink)
                // The key that carried the destination; none when the kind's default was used.
                settings.destinationFields.append(
                    parsed.destinationKey.map { "\(path).callback_vars.\($0)" } ?? "\(path).callback_vars")
            } catch {
                switch error {
                case .unsupported: throw unsupported
                case .sink(.missing(let what)): throw .invalid("\(path).callback_vars", "\(what) is required")
                case .sink(.invalid(let field, let why)): throw .invalid("\(path).callback_vars.\(field)", why)
                }
            }
        }
        return settings
    }

    public enum CallbackProblem: Error, Equatable {
        /// Not a callback Spanway can send to.
        case unsupported
        case sink(SinkConfig.Problem)
    }

    /// One team callback, from the team's metadata or from `default_team_settings` in the config
    /// file: the same rules for both. `values` are LiteLLM's callback variables (already free of
    /// `os.environ/` where the source may not read the environment); the gateway's own variables
    /// are never a team's credentials. The sink is named `team/<team_id>/<callback name>`.
    static func callback(
        teamID: String, name: String, outcome: SinkRoute.Outcome, values: [String: String]
    ) throws(CallbackProblem) -> SinkConfig.Parsed {
        guard let kind = SinkConfig.Kind(callbackName: name) else { throw .unsupported }
        do throws(SinkConfig.Problem) {
            return try SinkConfig.parse(
                kind: kind, name: "team/\(teamID)/\(name.lowercased())", values: values, environment: [:],
                route: .team(teamID, outcome: outcome), captureContent: true)
        } catch {
            throw .sink(error)
        }
    }

    static func outcome(_ type: String) -> SinkRoute.Outcome? {
        switch type {
        case "success": .success
        case "failure": .failure
        case "success_and_failure", "": .any
        default: nil
        }
    }
}
