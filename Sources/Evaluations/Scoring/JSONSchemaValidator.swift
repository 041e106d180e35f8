import Telemetry

/// Validates JSON values against a JSON Schema, a subset of draft 2020-12
/// (https://json-schema.org/draft/2020-12/json-schema-validation):
///
/// - any value: `type` (a name or an array of names; `integer` is any number with no fraction,
///   so `1.0` is one), `enum`, `const`, `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`,
///   and `$ref` to a JSON pointer inside the same document (`#/$defs/name`);
/// - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers, as in
///   2020-12), `multipleOf` (checked with a relative tolerance of 1e-9, since `0.3` is not an exact
///   multiple of `0.1` in binary floating point);
/// - strings: `minLength`, `maxLength` (in Unicode code points), `pattern` (searched anywhere in
///   the string, with Swift `Regex` syntax, which accepts the common ECMA-262 patterns);
/// - arrays: `prefixItems`, `items`, `minItems`, `maxItems`, `uniqueItems`, `contains`,
///   `minContains`, `maxContains`; an array-valued `items` is read as the older tuple form
///   (`prefixItems`);
/// - objects: `properties`, `patternProperties`, `additionalProperties` (boolean or schema),
///   `required`, `minProperties`, `maxProperties`, `propertyNames`, `dependentRequired`;
/// - boolean schemas (`true` accepts anything, `false` nothing).
///
/// Other keywords (`format`, `title`, `$id`, …) are ignored, as 2020-12 treats unknown keywords.
/// Schemas come from datasets and the command line, so nothing here trusts them: nesting (through
/// subschemas and `$ref`) stops at `maxDepth` and the whole validation at `maxSteps` subschema
/// checks (a `$ref` graph can otherwise take exponential time); either limit fails the value
/// rather than passing it.
public struct JSONSchemaValidator: Sendable {
    public var schema: JSONValue
    public var maxDepth: Int
    public var maxSteps: Int

    public init(schema: JSONValue, maxDepth: Int = 64, maxSteps: Int = 1_000_000) {
        self.schema = schema
        self.maxDepth = maxDepth
        self.maxSteps = maxSteps
    }

    /// At most this many errors are returned for one value.
    public static let maxErrors = 100

    /// Every way `value` breaks the schema, each as `"<JSON pointer>: <what>"` (the root is
    /// `(root)`); empty when the value is valid.
    public func validate(_ value: JSONValue) -> [String] {
        let evaluation = SchemaEvaluation(root: schema, maxDepth: maxDepth, maxSteps: maxSteps)
        let errors = evaluation.errors(schema, value, path: "", depth: 0)
        if let limit = evaluation.limitHit { return [limit] }
        return Array(errors.prefix(Self.maxErrors))
    }

    /// What makes the schema itself unusable (a keyword of the wrong type, a pattern that does not
    /// compile, a `$ref` that leads nowhere), each with the schema path; empty when usable.
    public func schemaProblems() -> [String] {
        var checker = SchemaChecker(root: schema, maxDepth: maxDepth)
        checker.check(schema, path: "", depth: 0)
        return Array(checker.problems.prefix(Self.maxErrors))
    }

    /// `path` as shown in messages.
    static func display(_ path: String) -> String { path.isEmpty ? "(root)" : path }

    /// One JSON pointer token (RFC 6901: `~` is `~0`, `/` is `~1`).
    static func token(_ key: String) -> String {
        key.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// The schema a local `$ref` (`#` or `#/a/b`) points to in `root`, or nil.
    static func resolve(_ reference: String, in root: JSONValue) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        let pointer = reference.dropFirst()
        if pointer.isEmpty { return root }
        guard pointer.hasPrefix("/") else { return nil }
        var node = root
        for rawToken in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = String(rawToken).replacing("~1", with: "/").replacing("~0", with: "~")
            switch node {
            case .object(let object):
                guard let next = object[token] else { return nil }
                node = next
            case .array(let array):
                guard let index = Int(token), array.indices.contains(index) else { return nil }
                node = array[index]
            default:
                return nil
            }
        }
        return node
    }
}
