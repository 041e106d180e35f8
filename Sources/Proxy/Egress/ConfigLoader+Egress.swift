import Yams

extension ConfigLoader {
    /// `spanway_settings.allowed_egress`: a list of CIDRs (`10.0.0.0/8`, `fd00::/8`), addresses
    /// and host names (`langfuse.internal`, `*.corp.example`).
    func readAllowedEgress(_ spanway: [String: Node], into rules: inout [EgressPolicy.Rule], _ reader: inout YAMLReader) {
        guard let node = spanway["allowed_egress"] else { return }
        let path = "spanway_settings.allowed_egress"
        guard let items = reader.sequence(node, at: path) else { return }
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let text = reader.string(item, at: itemPath) else { continue }
            guard let rule = EgressPolicy.Rule(text) else {
                reader.error(itemPath, "'\(text)' is neither a CIDR (10.0.0.0/8, fd00::/8), an address nor a host name")
                continue
            }
            rules.append(rule)
        }
    }
}
