import Telemetry

/// Finds what makes a schema unusable, so a bad `--scorer json-schema:…` fails before the run
/// instead of failing every answer. Walks every subschema once; nesting stops at `maxDepth`.
struct SchemaChecker {
    let root: JSONValue
    let maxDepth: Int
    private(set) var problems: [String] = []

    init(root: JSONValue, maxDepth: Int) {
        self.root = root
        self.maxDepth = maxDepth
    }

    private static let typeNames: Set<String> = ["null", "boolean", "number", "integer", "string", "array", "object"]
    private static let schemaKeywords = [
        "additionalProperties", "items", "not", "contains", "propertyNames", "if", "then", "else",
    ]
    private static let schemaListKeywords = ["prefixItems", "allOf", "anyOf", "oneOf"]
    private static let schemaMapKeywords = ["properties", "patternProperties", "$defs", "definitions"]
    private static let countKeywords = [
        "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains",
        "maxContains",
    ]
    private static let boundKeywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]

    mutating func check(_ schema: JSONValue, path: String, depth: Int) {
        guard problems.count < JSONSchemaValidator.maxErrors else { return }
        let here = path.isEmpty ? "(schema root)" : path
        guard depth <= maxDepth else {
            problems.append("\(here): the schema nests deeper than \(maxDepth) levels")
            return
        }
        let keywords: JSONObject
        switch schema {
        case .bool: return
        case .object(let object): keywords = object
        default:
            problems.append("\(here): a schema must be an object or a boolean, not \(schema.typeName)")
            return
        }
        checkValues(keywords, here)
        for keyword in Self.schemaKeywords {
            guard let sub = keywords[keyword] else { continue }
            if keyword == "items", let tuple = sub.arrayValue {
                for (index, item) in tuple.enumerated() {
                    check(item, path: "\(path)/items/\(index)", depth: depth + 1)
                }
            } else {
                check(sub, path: "\(path)/\(keyword)", depth: depth + 1)
            }
        }
        for keyword in Self.schemaListKeywords {
            guard let list = keywords[keyword] else { continue }
            guard let schemas = list.arrayValue, !schemas.isEmpty else {
                problems.append("\(here): '\(keyword)' must be a non-empty array of schemas")
                continue
            }
            for (index, sub) in schemas.enumerated() {
                check(sub, path: "\(path)/\(keyword)/\(index)", depth: depth + 1)
            }
        }
        for keyword in Self.schemaMapKeywords {
            guard let map = keywords[keyword] else { continue }
            guard let members = map.objectValue?.members else {
                problems.append("\(here): '\(keyword)' must be an object of schemas")
                continue
            }
            for (name, sub) in members {
                if keyword == "patternProperties", (try? Regex<AnyRegexOutput>(name)) == nil {
                    problems.append("\(here): the patternProperties pattern \(name) does not compile")
                }
                check(sub, path: "\(path)/\(keyword)/\(JSONSchemaValidator.token(name))", depth: depth + 1)
            }
        }
    }

    private mutating func checkValues(_ keywords: JSONObject, _ here: String) {
        if let type = keywords["type"] {
            var names = type.stringValue.map { [$0] } ?? type.arrayValue?.map { $0.stringValue ?? "" } ?? [""]
            if names.isEmpty { names = [""] }
            for name in names where !Self.typeNames.contains(name) {
                problems.append(
                    "\(here): 'type' must name one of \(Self.typeNames.sorted().joined(separator: ", ")) (or list them)")
                break
            }
        }
        if let values = keywords["enum"], values.arrayValue == nil {
            problems.append("\(here): 'enum' must be an array")
        }
        if let required = keywords["required"], required.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            problems.append("\(here): 'required' must be an array of property names")
        }
        if let dependencies = keywords["dependentRequired"] {
            let valid = dependencies.objectValue?.members.allSatisfy { member in
                member.value.arrayValue?.allSatisfy { $0.stringValue != nil } == true
            }
            if valid != true { problems.append("\(here): 'dependentRequired' must map names to arrays of names") }
        }
        for keyword in Self.countKeywords {
            if let count = keywords[keyword], (count.intValue ?? -1) < 0 {
                problems.append("\(here): '\(keyword)' must be a whole number ≥ 0")
            }
        }
        for keyword in Self.boundKeywords {
            if let bound = keywords[keyword], bound.doubleValue?.isFinite != true {
                problems.append("\(here): '\(keyword)' must be a number (a boolean is the pre-2020 form)")
            }
        }
        if let divisor = keywords["multipleOf"], (divisor.doubleValue ?? 0) <= 0 {
            problems.append("\(here): 'multipleOf' must be a number > 0")
        }
        if let unique = keywords["uniqueItems"], unique.boolValue == nil {
            problems.append("\(here): 'uniqueItems' must be a boolean")
        }
        if let pattern = keywords["pattern"] {
            if let text = pattern.stringValue {
                if (try? Regex<AnyRegexOutput>(text)) == nil {
                    problems.append("\(here): the pattern \(text) does not compile")
                }
            } else {
                problems.append("\(here): 'pattern' must be a string")
            }
        }
        if let reference = keywords["$ref"] {
            if let text = reference.stringValue {
                if JSONSchemaValidator.resolve(text, in: root) == nil {
                    problems.append("\(here): the $ref '\(text)' does not point into this schema")
                }
            } else {
                problems.append("\(here): '$ref' must be a string")
            }
        }
    }
}
