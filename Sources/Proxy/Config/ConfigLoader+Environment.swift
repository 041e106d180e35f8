import Yams

extension ConfigLoader {
    /// Variables `environment_variables` may not set, as LiteLLM refuses them: they change which
    /// programs and libraries the process runs, not what it connects to.
    static func isProtectedVariable(_ name: String) -> Bool {
        let exact: Set<String> = [
            "PATH", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "HOME", "USER", "SHELL", "LOGNAME", "NO_PROXY",
        ]
        return exact.contains(name.uppercased()) || name.hasPrefix("LD_") || name.hasPrefix("DYLD_")
    }

    /// `environment_variables: {NAME: value}`, each value resolved (`os.environ/…` allowed); also
    /// set in `reader` so that later `os.environ/NAME` references resolve from them.
    func readEnvironmentVariables(_ root: Node, _ reader: inout YAMLReader) -> [String: String] {
        guard let top = root.mapping,
            let node = top.first(where: { $0.key.scalar?.string == "environment_variables" })?.value,
            let entries = reader.mapping(node, at: "environment_variables")
        else { return [:] }
        var variables: [String: String] = [:]
        for (name, value) in entries.sorted(by: { $0.key < $1.key }) {
            let path = "environment_variables.\(name)"
            if Self.isProtectedVariable(name) {
                reader.warning(path, "not set: \(name) changes what the process runs, so a config may not set it")
                continue
            }
            guard let text = reader.string(value, at: path) else { continue }
            variables[name] = text
            reader.environment[name] = text
        }
        return variables
    }
}
