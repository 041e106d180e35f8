import Yams

extension ConfigLoader {
    /// One `credential_list` entry's values, already resolved from `os.environ/…`. Secrets.
    struct Credential {
        var values: [String: String] = [:]
        /// Values from unset variables let through by `--allow-missing-env`.
        var deferred: Set<String> = []
    }

    /// `credential_list: [{credential_name, credential_values: {api_key, api_base, …}, credential_info}]`,
    /// by name. Each value is resolved once, here, so a missing variable is reported at the
    /// credential and not again at every deployment that uses it.
    func readCredentials(_ node: Node?, _ reader: inout YAMLReader) -> [String: Credential] {
        guard let node, let items = reader.sequence(node, at: "credential_list") else { return [:] }
        var credentials: [String: Credential] = [:]
        for (index, item) in items.enumerated() {
            let path = "credential_list[\(index)]"
            guard let entry = reader.mapping(item, at: path) else { continue }
            reader.warnUnknown(entry, known: ["credential_name", "credential_values", "credential_info"], at: path)
            guard let nameNode = entry["credential_name"] else {
                reader.error("\(path).credential_name", "required")
                continue
            }
            guard let name = reader.string(nameNode, at: "\(path).credential_name") else { continue }
            var credential = Credential()
            let valuesPath = "\(path).credential_values"
            if let valuesNode = entry["credential_values"], let values = reader.mapping(valuesNode, at: valuesPath) {
                for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                    let valuePath = "\(valuesPath).\(key)"
                    if let text = reader.string(value, at: valuePath) {
                        credential.values[key] = text
                    } else if reader.isDeferred(valuePath) {
                        credential.deferred.insert(key)
                    }
                }
            } else if entry["credential_values"] == nil {
                reader.error(valuesPath, "required")
            }
            if credentials[name] != nil {
                reader.error("\(path).credential_name", "another credential is also named '\(name)'")
            }
            credentials[name] = credential
        }
        return credentials
    }

    /// `litellm_params.litellm_credential_name`: the credential's values fill the parameters the
    /// deployment does not set itself.
    func applyCredential(
        to params: inout [String: Node], at path: String, from credentials: [String: Credential], _ reader: inout YAMLReader
    ) {
        let namePath = "\(path).litellm_credential_name"
        guard let node = params["litellm_credential_name"], let name = reader.string(node, at: namePath) else { return }
        guard let credential = credentials[name] else {
            let known = credentials.keys.sorted().joined(separator: ", ")
            reader.error(
                namePath, "no credential named '\(name)' in credential_list\(known.isEmpty ? "" : " (known: \(known))")")
            return
        }
        for (key, value) in credential.values where params[key] == nil {
            // Quoted: the value is text already resolved, never YAML null nor another reference.
            params[key] = .scalar(Node.Scalar(value, .implicit, .singleQuoted))
        }
        for key in credential.deferred where params[key] == nil {
            reader.markDeferred("\(path).\(key)")
        }
    }
}
