import Yams

/// Typed access to YAML nodes that records a located issue instead of throwing, and resolves
/// LiteLLM's `os.environ/NAME` references wherever a scalar is read.
struct YAMLReader {
    static let environmentPrefix = "os.environ/"

    /// Where `os.environ/NAME` resolves: the process's environment, with the config's own
    /// `environment_variables` over it.
    var environment: [String: String]
    /// `spanway check --allow-missing-env`: an unset `os.environ/NAME` is a warning, so CI can
    /// check a production config without its secrets.
    var missingEnvironmentIsWarning = false
    private(set) var issues: [ConfigIssue] = []
    /// Paths whose value is an unset variable let through by `missingEnvironmentIsWarning`: a
    /// check that the value is present must not fail there.
    private(set) var deferred: Set<String> = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    mutating func error(_ path: String, _ message: String) {
        issues.append(ConfigIssue(.error, path, message))
    }

    mutating func warning(_ path: String, _ message: String) {
        issues.append(ConfigIssue(.warning, path, message))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// A mapping with string keys; nil (and an error) for anything else. A YAML null reads as empty.
    mutating func mapping(_ node: Node, at path: String) -> [String: Node]? {
        if isNull(node) { return [:] }
        guard let mapping = node.mapping else {
            error(path, "expected a mapping, found \(kind(node))")
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                error(path, "keys must be strings")
                continue
            }
            result[name] = value
        }
        return result
    }

    mutating func sequence(_ node: Node, at path: String) -> [Node]? {
        if isNull(node) { return [] }
        guard let sequence = node.sequence else {
            error(path, "expected a list, found \(kind(node))")
            return nil
        }
        return Array(sequence)
    }

    mutating func markDeferred(_ path: String) { deferred.insert(path) }

    func isDeferred(_ path: String) -> Bool { deferred.contains(path) }

    /// Keys outside `known`: LiteLLM settings Spanway lacks get a warning saying so (those it
    /// refuses are reported as errors by `ConfigLoader.refuseUnsupported`), anything else is unknown.
    mutating func warnUnknown(_ mapping: [String: Node], known: Set<String>, at path: String) {
        for key in mapping.keys.sorted() where !known.contains(key) {
            let full = Self.join(path, key)
            let generic = UnsupportedSettings.generic(full)
            if UnsupportedSettings.refused.contains(generic) { continue }
            if let note = UnsupportedSettings.ignored[generic] {
                warning(full, "LiteLLM setting not supported by Spanway, ignored\(note.isEmpty ? "" : ": \(note)")")
            } else {
                warning(full, "unknown key, ignored")
            }
        }
    }

    /// The scalar's text after `os.environ/` resolution; nil for YAML null (absent) or on error.
    private mutating func scalarText(_ node: Node, at path: String, expected: String) -> (text: String, quoted: Bool)? {
        if isNull(node) { return nil }
        guard let scalar = node.scalar else {
            error(path, "expected \(expected), found \(kind(node))")
            return nil
        }
        if scalar.string.hasPrefix(Self.environmentPrefix) {
            let name = String(scalar.string.dropFirst(Self.environmentPrefix.count))
            guard let value = environment[name] else {
                if missingEnvironmentIsWarning {
                    warning(path, "environment variable \(name) is not set (allowed by --allow-missing-env)")
                    deferred.insert(path)
                } else {
                    error(path, "environment variable \(name) is not set")
                }
                return nil
            }
            // A value from the environment is text; numbers in it are parsed, not type-checked.
            return (value, false)
        }
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        return (scalar.string, quoted)
    }

    mutating func string(_ node: Node, at path: String) -> String? {
        scalarText(node, at: path, expected: "a string")?.text
    }

    mutating func int(_ node: Node, at path: String) -> Int? {
        guard let (text, quoted) = scalarText(node, at: path, expected: "an integer") else { return nil }
        guard !quoted, let value = Int(text.replacingUnderscores) else {
            error(path, "expected an integer, found \(quoted ? "a string" : "'\(text)'")")
            return nil
        }
        return value
    }

    mutating func double(_ node: Node, at path: String) -> Double? {
        guard let (text, quoted) = scalarText(node, at: path, expected: "a number") else { return nil }
        guard !quoted, let value = Double(text.replacingUnderscores), value.isFinite else {
            error(path, "expected a number, found \(quoted ? "a string" : "'\(text)'")")
            return nil
        }
        return value
    }

    /// A timeout in seconds: greater than 0 and at most a day (bounded before converting:
    /// `Int64(1e300 * 1000)` traps).
    mutating func timeout(_ node: Node, at path: String) -> Duration? {
        guard let seconds = double(node, at: path) else { return nil }
        guard seconds > 0, seconds <= 86_400 else {
            error(path, "must be a number of seconds greater than 0 and at most 86400")
            return nil
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    mutating func bool(_ node: Node, at path: String) -> Bool? {
        guard let (text, quoted) = scalarText(node, at: path, expected: "a boolean") else { return nil }
        switch (text.lowercased(), quoted) {
        case ("true", false), ("yes", false): return true
        case ("false", false), ("no", false): return false
        default:
            error(path, "expected a boolean, found \(quoted ? "a string" : "'\(text)'")")
            return nil
        }
    }

    /// A list of strings; a single string is accepted as a list of one.
    mutating func stringList(_ node: Node, at path: String) -> [String]? {
        if node.scalar != nil { return string(node, at: path).map { [$0] } }
        guard let items = sequence(node, at: path) else { return nil }
        return items.enumerated().compactMap { string($1, at: "\(path)[\($0)]") }
    }

    private func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

extension String {
    fileprivate var replacingUnderscores: String { replacingOccurrences(of: "_", with: "") }
}
