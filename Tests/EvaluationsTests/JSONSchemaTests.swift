import Evaluations
import Telemetry
import Testing

@Suite struct JSONSchemaTests {
    func errors(_ schema: String, _ value: String) throws -> [String] {
        JSONSchemaValidator(schema: try JSONParser.parse(schema)).validate(try JSONParser.parse(value))
    }

    func valid(_ schema: String, _ value: String) throws -> Bool {
        try errors(schema, value).isEmpty
    }

    @Test func booleanSchemas() throws {
        #expect(try valid("true", #"{"anything": [1]}"#))
        #expect(try !valid("false", "null"))
        #expect(try valid("{}", "12"))
        #expect(try !valid(#"{"properties": {"a": false}}"#, #"{"a": 1}"#))
        #expect(try valid(#"{"properties": {"a": false}}"#, #"{"b": 1}"#))
    }

    @Test func types() throws {
        #expect(try valid(#"{"type": "string"}"#, #""x""#))
        #expect(try !valid(#"{"type": "string"}"#, "1"))
        #expect(try valid(#"{"type": "number"}"#, "1.5"))
        #expect(try valid(#"{"type": "number"}"#, "2"))
        #expect(try valid(#"{"type": "integer"}"#, "2"))
        #expect(try valid(#"{"type": "integer"}"#, "2.0"))
        #expect(try valid(#"{"type": "integer"}"#, "1e3"))
        #expect(try !valid(#"{"type": "integer"}"#, "2.5"))
        #expect(try !valid(#"{"type": "integer"}"#, #""2""#))
        #expect(try valid(#"{"type": "boolean"}"#, "false"))
        #expect(try !valid(#"{"type": "boolean"}"#, "0"))
        #expect(try valid(#"{"type": "null"}"#, "null"))
        #expect(try valid(#"{"type": "array"}"#, "[]"))
        #expect(try !valid(#"{"type": "object"}"#, "[]"))
        #expect(try valid(#"{"type": ["string", "null"]}"#, "null"))
        #expect(try valid(#"{"type": ["string", "null"]}"#, #""a""#))
        #expect(try !valid(#"{"type": ["string", "null"]}"#, "1"))
    }

    @Test func errorsNameTheJSONPointerAndTheProblem() throws {
        let schema = #"""
            {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"}},
             "a/b": {"type": "integer"}, "m~n": {"const": 1}}}
            """#
        let found = try errors(schema, #"{"items": ["x", 2], "a/b": "no", "m~n": 2}"#)
        #expect(found.count == 3)
        #expect(found.contains("/items/1: expected string, got integer"))
        #expect(found.contains("/a~1b: expected integer, got string"))
        #expect(found.contains { $0.hasPrefix("/m~0n: ") })
        #expect(try errors(#"{"type": "object"}"#, "[]") == ["(root): expected object, got array"])
    }

    @Test func enumAndConstCompareAsJSONValues() throws {
        #expect(try valid(#"{"enum": ["red", 1, null]}"#, "1.0"))
        #expect(try valid(#"{"enum": ["red", 1, null]}"#, "null"))
        #expect(try !valid(#"{"enum": ["red", 1, null]}"#, #""Red""#))
        #expect(try valid(#"{"const": {"a": 1, "b": [true]}}"#, #"{"b": [true], "a": 1}"#))
        #expect(try !valid(#"{"const": {"a": 1}}"#, #"{"a": 1, "b": 2}"#))
        #expect(try !valid(#"{"const": [1, 2]}"#, "[2, 1]"))
        #expect(try !valid(#"{"const": false}"#, "0"))
    }

    @Test func objectKeywords() throws {
        let schema = #"""
            {"properties": {"name": {"type": "string"}}, "required": ["name", "age"],
             "additionalProperties": false}
            """#
        #expect(try !valid(schema, #"{"name": "Ada"}"#))
        #expect(try errors(schema, #"{"name": "Ada"}"#) == ["(root): missing required property 'age'"])
        let extra = try errors(#"{"properties": {"a": {}}, "additionalProperties": false}"#, #"{"a": 1, "b": 2}"#)
        #expect(extra == ["/b: property 'b' is not allowed"])
        #expect(try valid(#"{"additionalProperties": {"type": "integer"}}"#, #"{"a": 1, "b": 2}"#))
        #expect(try !valid(#"{"additionalProperties": {"type": "integer"}}"#, #"{"a": 1, "b": "2"}"#))
        let patterned = #"{"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false}"#
        #expect(try valid(patterned, #"{"x-trace": "1"}"#))
        #expect(try !valid(patterned, #"{"x-trace": 1}"#))
        #expect(try !valid(patterned, #"{"y": "1"}"#))
        #expect(try valid(#"{"minProperties": 1, "maxProperties": 2}"#, #"{"a": 1}"#))
        #expect(try !valid(#"{"minProperties": 1}"#, "{}"))
        #expect(try !valid(#"{"maxProperties": 1}"#, #"{"a": 1, "b": 2}"#))
        #expect(try !valid(#"{"propertyNames": {"maxLength": 3}}"#, #"{"long": 1}"#))
        #expect(try !valid(#"{"dependentRequired": {"card": ["cvv"]}}"#, #"{"card": "1"}"#))
        #expect(try valid(#"{"dependentRequired": {"card": ["cvv"]}}"#, #"{"cash": 1}"#))
        // Object keywords do not apply to other types.
        #expect(try valid(#"{"required": ["a"]}"#, "[]"))
    }

    @Test func arrayKeywords() throws {
        #expect(try valid(#"{"items": {"type": "integer"}}"#, "[1, 2, 3]"))
        #expect(try !valid(#"{"items": {"type": "integer"}}"#, #"[1, "2"]"#))
        let tuple = #"{"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false}"#
        #expect(try valid(tuple, #"["a", 1]"#))
        #expect(try valid(tuple, #"["a"]"#))
        #expect(try !valid(tuple, #"["a", 1, 2]"#))
        #expect(try !valid(tuple, #"[1, "a"]"#))
        #expect(try valid(#"{"items": [{"type": "string"}]}"#, #"["a", 1]"#))
        #expect(try !valid(#"{"items": [{"type": "string"}]}"#, "[1]"))
        // With prefixItems present, an old-style array `items` is ignored rather than misread.
        #expect(try valid(#"{"prefixItems": [{"type": "string"}], "items": [{"type": "null"}]}"#, #"["a", 1]"#))
        #expect(try !valid(#"{"minItems": 2}"#, "[1]"))
        #expect(try !valid(#"{"maxItems": 1}"#, "[1, 2]"))
        #expect(try valid(#"{"minItems": 1, "maxItems": 2}"#, "[1, 2]"))
        #expect(try !valid(#"{"uniqueItems": true}"#, "[1, 2, 1.0]"))
        #expect(try !valid(#"{"uniqueItems": true}"#, #"[{"a": 1, "b": 2}, {"b": 2, "a": 1}]"#))
        #expect(try valid(#"{"uniqueItems": true}"#, "[1, 2, 3]"))
        #expect(try valid(#"{"contains": {"const": 3}}"#, "[1, 3]"))
        #expect(try !valid(#"{"contains": {"const": 3}}"#, "[1, 2]"))
        #expect(try !valid(#"{"contains": {"type": "integer"}, "maxContains": 1}"#, "[1, 2]"))
        #expect(try !valid(#"{"contains": {"type": "integer"}, "minContains": 3}"#, "[1, 2]"))
    }

    @Test func stringKeywordsCountUnicodeCodePoints() throws {
        // "é" written precomposed is one code point; "👍" is one code point but two UTF-16 units.
        #expect(try valid(#"{"maxLength": 2}"#, #""é👍""#))
        #expect(try !valid(#"{"maxLength": 1}"#, #""é👍""#))
        #expect(try valid(#"{"minLength": 2}"#, #""é👍""#))
        #expect(try !valid(#"{"minLength": 3}"#, #""é👍""#))
        // "e" + combining acute is two code points though it shows as one character.
        #expect(try !valid(#"{"maxLength": 1}"#, #""e\u0301""#))
    }

    @Test func patternSearchesAnywhereUnlessAnchored() throws {
        #expect(try valid(#"{"pattern": "\\d+"}"#, #""abc123""#))
        #expect(try !valid(#"{"pattern": "^\\d+$"}"#, #""abc123""#))
        #expect(try valid(#"{"pattern": "^[a-z]+@[a-z]+\\.com$"}"#, #""ada@example.com""#))
        // Keywords of one type ignore values of another.
        #expect(try valid(#"{"pattern": "^x$", "minLength": 5}"#, "12"))
    }

    @Test func numberKeywords() throws {
        #expect(try valid(#"{"minimum": 1, "maximum": 3}"#, "1"))
        #expect(try valid(#"{"minimum": 1, "maximum": 3}"#, "3"))
        #expect(try !valid(#"{"minimum": 1}"#, "0.999"))
        #expect(try !valid(#"{"maximum": 3}"#, "3.001"))
        #expect(try !valid(#"{"exclusiveMinimum": 1}"#, "1"))
        #expect(try valid(#"{"exclusiveMinimum": 1}"#, "1.0001"))
        #expect(try !valid(#"{"exclusiveMaximum": 3}"#, "3"))
        #expect(try valid(#"{"multipleOf": 0.1}"#, "0.3"))
        #expect(try valid(#"{"multipleOf": 5}"#, "-15"))
        #expect(try !valid(#"{"multipleOf": 5}"#, "12"))
        #expect(try !valid(#"{"multipleOf": 0.01}"#, "0.125"))
    }

    @Test func combinators() throws {
        let anyOf = #"{"anyOf": [{"type": "string"}, {"minimum": 10}]}"#
        #expect(try valid(anyOf, #""a""#))
        #expect(try valid(anyOf, "11"))
        #expect(try !valid(anyOf, "9"))
        let oneOf = #"{"oneOf": [{"type": "integer"}, {"minimum": 10}]}"#
        #expect(try valid(oneOf, "5"))
        #expect(try valid(oneOf, "10.5"))
        #expect(try !valid(oneOf, "12"))
        #expect(try !valid(oneOf, "5.5"))
        #expect(try !valid(#"{"allOf": [{"type": "integer"}, {"minimum": 10}]}"#, "5"))
        #expect(try valid(#"{"allOf": [{"type": "integer"}, {"minimum": 10}]}"#, "15"))
        #expect(try !valid(#"{"not": {"type": "null"}}"#, "null"))
        #expect(try valid(#"{"not": {"type": "null"}}"#, "0"))
        let conditional = #"""
            {"if": {"properties": {"kind": {"const": "card"}}}, "then": {"required": ["number"]},
             "else": {"required": ["iban"]}}
            """#
        #expect(try valid(conditional, #"{"kind": "card", "number": "4111"}"#))
        #expect(try !valid(conditional, #"{"kind": "card"}"#))
        #expect(try valid(conditional, #"{"kind": "bank", "iban": "DE00"}"#))
        #expect(try !valid(conditional, #"{"kind": "bank", "number": "4111"}"#))
    }

    @Test func localReferences() throws {
        let schema = #"""
            {"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
              "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["value"]}},
             "$ref": "#/$defs/node"}
            """#
        #expect(try valid(schema, #"{"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}"#))
        #expect(try !valid(schema, #"{"value": 1, "children": [{"value": "2"}]}"#))
        #expect(try !valid(schema, #"{"value": 1, "children": [{"children": []}]}"#))
        #expect(try !valid(##"{"$ref": "#/$defs/missing"}"##, "1"))
    }

    @Test func unknownKeywordsAreIgnored() throws {
        #expect(try valid(#"{"type": "string", "format": "email", "title": "x", "x-custom": [1]}"#, #""not an email""#))
    }

    // MARK: hostile schemas

    @Test func deepNestingStopsAtTheDepthLimitAndFails() throws {
        var schema = "true"
        var value = "1"
        for _ in 0..<200 {
            schema = #"{"items": \#(schema)}"#
            value = "[\(value)]"
        }
        let found = try errors(schema, value)
        #expect(found.count == 1)
        #expect(found.first?.contains("deeper than 64") == true)
        // Within the limit the same shape validates.
        var shallow = "true"
        var shallowValue = "1"
        for _ in 0..<30 {
            shallow = #"{"items": \#(shallow)}"#
            shallowValue = "[\(shallowValue)]"
        }
        #expect(try valid(shallow, shallowValue))
    }

    @Test(.timeLimit(.minutes(3)))
    func selfReferenceEndsAtTheDepthLimit() throws {
        #expect(try !valid(##"{"$ref": "#"}"##, "1"))
        #expect(try !valid(##"{"allOf": [{"$ref": "#"}]}"##, "1"))
        #expect(try !valid(##"{"not": {"$ref": "#"}}"##, "1"))
    }

    @Test(.timeLimit(.minutes(3)))
    func exponentialReferenceGraphsHitTheStepBudget() throws {
        // Each level refers to the next twice: 2^25 checks unless something stops it.
        var defs: [String] = []
        for level in 0..<25 {
            let next = "#/$defs/l\(level + 1)"
            defs.append(#""l\#(level)": {"anyOf": [{"$ref": "\#(next)"}, {"$ref": "\#(next)"}]}"#)
        }
        defs.append(#""l25": false"#)
        let schema = ##"{"$defs": {\##(defs.joined(separator: ", "))}, "$ref": "#/$defs/l0"}"##
        let validator = JSONSchemaValidator(schema: try JSONParser.parse(schema), maxSteps: 10_000)
        let found = validator.validate(.number("1"))
        #expect(found.count == 1)
        #expect(found.first?.contains("more than 10000 checks") == true)
    }

    @Test func malformedKeywordValuesDoNotCrash() throws {
        let odd = #"""
            {"type": 5, "enum": "x", "required": [1, {}], "properties": [], "items": 3, "minLength": -1,
             "maxLength": "two", "multipleOf": 0, "pattern": "((", "anyOf": {}, "not": "x", "$ref": 7,
             "prefixItems": "no", "minimum": "1", "patternProperties": {"((": {}}}
            """#
        for value in [#""s""#, "1", "[1]", #"{"a": 1}"#, "null"] {
            _ = try errors(odd, value)
        }
        let problems = JSONSchemaValidator(schema: try JSONParser.parse(odd)).schemaProblems()
        #expect(problems.count >= 10)
        #expect(problems.contains { $0.contains("'required'") })
        #expect(problems.contains { $0.contains("pattern (( does not compile") })
        #expect(problems.contains { $0.contains("'multipleOf'") })
    }

    @Test func schemaProblemsIsEmptyForAGoodSchema() throws {
        let schema = #"""
            {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
             "$defs": {"x": {"type": ["integer", "null"]}}, "additionalProperties": {"$ref": "#/$defs/x"},
             "required": ["tags"]}
            """#
        #expect(JSONSchemaValidator(schema: try JSONParser.parse(schema)).schemaProblems() == [])
        #expect(JSONSchemaValidator(schema: .bool(true)).schemaProblems() == [])
        #expect(JSONSchemaValidator(schema: .number("1")).schemaProblems().count == 1)
        #expect(JSONSchemaValidator(schema: .object(["type": .array([])])).schemaProblems().count == 1)
    }
}
