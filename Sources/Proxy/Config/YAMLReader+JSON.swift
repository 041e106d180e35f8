import Telemetry
import Yams

extension YAMLReader {
    /// Any YAML value as JSON, for parameters passed on to providers as written: plain scalars
    /// typed as YAML 1.2's core schema types them (null, booleans, numbers), quoted ones and
    /// `os.environ/NAME` values as strings.
    mutating func json(_ node: Node, at path: String) -> JSONValue? {
        switch node {
        case .scalar(let scalar):
            if scalar.string.hasPrefix(Self.environmentPrefix) { return string(node, at: path).map(JSONValue.string) }
            guard scalar.style == .plain else { return .string(scalar.string) }
            let text = scalar.string
            if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
            if ["true", "True", "TRUE"].contains(text) { return .bool(true) }
            if ["false", "False", "FALSE"].contains(text) { return .bool(false) }
            if let int = Int(text) { return .int(int) }
            if let double = Double(text), double.isFinite { return .double(double) }
            return .string(text)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                guard let value = json(item, at: "\(path)[\(index)]") else { return nil }
                items.append(value)
            }
            return .array(items)
        case .mapping:
            guard let mapping = mapping(node, at: path) else { return nil }
            var object = JSONObject()
            for (key, value) in mapping.sorted(by: { $0.key < $1.key }) {
                guard let item = json(value, at: "\(path).\(key)") else { return nil }
                object[key] = item
            }
            return .object(object)
        case .alias:
            error(path, "YAML aliases are not supported here")
            return nil
        }
    }
}
