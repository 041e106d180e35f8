import Telemetry
import Yams

extension ConfigLoader {
    /// One `model_list` entry given as JSON (the admin API's `/model/new`), read by the same code
    /// as the config file's entries, so a bad entry is refused with the same words. Issue paths
    /// are relative to the entry (`litellm_params.model`). `credential_list` names do not resolve
    /// here: the config's credentials stay in the config.
    func deployment(fromJSON entry: JSONObject, dropParams: Bool) -> (DeploymentConfig?, [ConfigIssue]) {
        var reader = YAMLReader(environment: environment)
        let deployment = readDeployment(Self.node(.object(entry)), at: "", dropParams: dropParams, credentials: [:], &reader)
        let issues = reader.issues.map { issue in
            var issue = issue
            if issue.path.hasPrefix(".") { issue.path.removeFirst() }
            return issue
        }
        return (deployment, issues)
    }

    /// JSON as the YAML the reader expects: strings quoted (so `"123"` stays text), numbers,
    /// booleans and null plain, as YAML 1.2's core schema reads them.
    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: .scalar(Node.Scalar("null", .implicit, .plain))
        case .bool(let flag): .scalar(Node.Scalar(flag ? "true" : "false", .implicit, .plain))
        case .number(let text): .scalar(Node.Scalar(text, .implicit, .plain))
        case .string(let text): .scalar(Node.Scalar(text, .implicit, .doubleQuoted))
        case .array(let items): .sequence(Node.Sequence(items.map(node)))
        case .object(let object):
            .mapping(Node.Mapping(object.members.map { (Node.scalar(Node.Scalar($0.key)), node($0.value)) }))
        }
    }
}

/// An entry's first error, as the admin API's model routes return it.
extension ConfigIssue: Error {}
