import Telemetry

extension Scorer {
    /// The scorer names `parse` understands, for help text and error messages.
    public static let specNames = ["exact", "contains", "regex", "json", "json-schema", "numeric"]

    /// Reads a command-line scorer: `exact`, `contains`, `regex` or `regex:PATTERN`, `json`,
    /// `json-schema`, `json-schema:@schema.json` or `json-schema:{…}`, `numeric` or
    /// `numeric:0.01`. Everything is checked here, before any request is sent: a pattern that does
    /// not compile or a schema that does not parse fails the run at once, not item by item.
    public static func parse(_ spec: String, readFile: (String) throws -> [UInt8]) throws(ScorerSpecError) -> Scorer {
        let name: Substring
        let argument: Substring?
        if let colon = spec.firstIndex(of: ":") {
            name = spec[..<colon]
            argument = spec[spec.index(after: colon)...]
        } else {
            name = spec[...]
            argument = nil
        }
        func fail(_ message: String) -> ScorerSpecError { ScorerSpecError(spec: spec, message) }
        func noArgument(_ scorer: Scorer) throws(ScorerSpecError) -> Scorer {
            guard argument == nil else { throw fail("'\(name)' takes no argument") }
            return scorer
        }

        switch name.lowercased() {
        case "exact", "exact-match", "exact_match": return try noArgument(.exactMatch)
        case "contains": return try noArgument(.contains)
        case "json", "json-valid", "json_valid": return try noArgument(.jsonValid)
        case "regex":
            guard let argument else { return .regex(nil) }
            guard !argument.isEmpty else { throw fail("the pattern after 'regex:' is empty") }
            do {
                _ = try Regex<AnyRegexOutput>(String(argument))
            } catch {
                throw fail("the pattern does not compile: \(error)")
            }
            return .regex(String(argument))
        case "json-schema", "json_schema":
            guard let argument else { return .jsonSchema(nil) }
            return .jsonSchema(try schema(argument, spec: spec, readFile: readFile))
        case "numeric":
            guard let argument else { return .numeric(tolerance: 0) }
            guard let tolerance = Double(argument), tolerance.isFinite, tolerance >= 0 else {
                throw fail("the tolerance must be a finite number ≥ 0, like 'numeric:0.01'")
            }
            return .numeric(tolerance: tolerance)
        case "judge":
            throw fail("the judge is not a --scorer: give it with --judge MODEL (and optionally a rubric)")
        default:
            throw fail("unknown scorer; use one of \(specNames.joined(separator: ", ")), or --judge MODEL")
        }
    }

    private static func schema(
        _ argument: Substring, spec: String, readFile: (String) throws -> [UInt8]
    ) throws(ScorerSpecError) -> JSONValue {
        let bytes: [UInt8]
        let source: String
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard !path.isEmpty else { throw ScorerSpecError(spec: spec, "the path after '@' is empty") }
            do {
                bytes = try readFile(path)
            } catch {
                throw ScorerSpecError(spec: spec, "cannot read the schema file '\(path)': \(error)")
            }
            source = "the schema file '\(path)'"
        } else if argument.first == "{" || argument == "true" || argument == "false" {
            bytes = Array(argument.utf8)
            source = "the inline schema"
        } else {
            throw ScorerSpecError(
                spec: spec, "give the schema as 'json-schema:@path/to/schema.json' or inline as 'json-schema:{…}'")
        }
        let schema: JSONValue
        do {
            schema = try JSONParser.parse(bytes)
        } catch {
            throw ScorerSpecError(spec: spec, "\(source) is not valid JSON: \(error)")
        }
        guard isSchema(schema) else {
            throw ScorerSpecError(spec: spec, "\(source) must be a JSON object or a boolean, not \(schema.typeName)")
        }
        let problems = JSONSchemaValidator(schema: schema).schemaProblems()
        guard problems.isEmpty else {
            throw ScorerSpecError(spec: spec, "\(source) is not a usable schema: \(problems.joined(separator: "; "))")
        }
        return schema
    }
}
