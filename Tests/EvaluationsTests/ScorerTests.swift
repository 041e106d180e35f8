import Evaluations
import Telemetry
import Testing

@Suite struct ScorerTests {
    func item(_ expected: JSONValue?) -> EvalItem {
        EvalItem(id: "q", messages: [.object(["role": "user", "content": "question?"])], expected: expected)
    }

    func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    @Test func namesAreTheReportsColumnNames() {
        #expect(Scorer.exactMatch.name == "exact")
        #expect(Scorer.contains.name == "contains")
        #expect(Scorer.regex(nil).name == "regex")
        #expect(Scorer.regex("a").name == "regex")
        #expect(Scorer.jsonValid.name == "json")
        #expect(Scorer.jsonSchema(nil).name == "json_schema")
        #expect(Scorer.numeric(tolerance: 0.5).name == "numeric")
    }

    // MARK: exact

    @Test func exactComparesTrimmedText() {
        #expect(Scorer.exactMatch.score("  Paris\n", item: item("Paris")) == 1)
        #expect(Scorer.exactMatch.score("Paris", item: item(" Paris\t")) == 1)
        #expect(Scorer.exactMatch.score("paris", item: item("Paris")) == 0)
        #expect(Scorer.exactMatch.score("Paris, France", item: item("Paris")) == 0)
    }

    @Test func exactComparesNumbersAndOtherJSONByTheirText() throws {
        #expect(Scorer.exactMatch.score(" 42 ", item: item(.number("42"))) == 1)
        #expect(Scorer.exactMatch.score("42.0", item: item(.number("42"))) == 0)
        #expect(Scorer.exactMatch.score("true", item: item(.bool(true))) == 1)
        #expect(Scorer.exactMatch.score(#"{"a":[1,2]}"#, item: item(try json(#"{"a": [1, 2]}"#))) == 1)
    }

    @Test func exactNeedsAnExpectedValue() {
        #expect(Scorer.exactMatch.score("Paris", item: item(nil)) == nil)
        #expect(Scorer.exactMatch.score("null", item: item(.null)) == nil)
    }

    // MARK: contains

    @Test func containsIgnoresCase() {
        #expect(Scorer.contains.score("The capital is PARIS.", item: item("paris")) == 1)
        #expect(Scorer.contains.score("The capital is Lyon.", item: item("paris")) == 0)
        #expect(Scorer.contains.score("Straße", item: item("STRASSE")) == 0)
        #expect(Scorer.contains.score("ÉCOLE", item: item("école")) == 1)
    }

    @Test func containsWithAnArrayNeedsEveryString() {
        let expected: JSONValue = .array(["red", "green", "blue"])
        #expect(Scorer.contains.score("Blue, green and RED.", item: item(expected)) == 1)
        #expect(Scorer.contains.score("Blue and red.", item: item(expected)) == 0)
    }

    @Test func containsRefusesExpectedValuesItCannotSearchFor() {
        #expect(Scorer.contains.score("anything", item: item(nil)) == nil)
        #expect(Scorer.contains.score("anything", item: item(.object(["a": "b"]))) == nil)
        #expect(Scorer.contains.score("anything", item: item(.array([]))) == nil)
        #expect(Scorer.contains.score("a true b", item: item(.array(["a", .bool(true)]))) == nil)
        #expect(Scorer.contains.score("the answer is 42", item: item(.number("42"))) == 1)
    }

    // MARK: regex

    @Test func regexSearchesAnywhere() {
        let scorer = Scorer.regex(#"\b\d{3}-\d{4}\b"#)
        #expect(scorer.score("Call 555-1234 today", item: item(nil)) == 1)
        #expect(scorer.score("Call 5551234 today", item: item(nil)) == 0)
    }

    @Test func regexWithoutAPatternUsesTheItemsExpectedString() {
        #expect(Scorer.regex(nil).score("I think it is Paris", item: item("^I think.*Paris$")) == 1)
        #expect(Scorer.regex(nil).score("It is Paris, I think", item: item("^I think.*Paris$")) == 0)
        #expect(Scorer.regex(nil).score("anything", item: item(nil)) == nil)
        #expect(Scorer.regex(nil).score("42", item: item(.number("42"))) == nil)
    }

    @Test func anInvalidPatternFromTheDatasetCannotScoreAndDoesNotCrash() {
        #expect(Scorer.regex(nil).score("(((", item: item("(((")) == nil)
        #expect(Scorer.regex(nil).score("a", item: item("[z-a]")) == nil)
    }

    // MARK: json

    @Test func jsonAcceptsOneDocumentOptionallyFenced() {
        #expect(Scorer.jsonValid.score(#"  {"a": 1}  "#, item: item(nil)) == 1)
        #expect(Scorer.jsonValid.score("[1, 2, 3]", item: item(nil)) == 1)
        #expect(Scorer.jsonValid.score("```json\n{\"a\": 1}\n```", item: item(nil)) == 1)
        #expect(Scorer.jsonValid.score("```JSON\n{\"a\": 1}\n```\n", item: item(nil)) == 1)
        #expect(Scorer.jsonValid.score("```\n{\"a\": 1}\n```", item: item(nil)) == 1)
        #expect(Scorer.jsonValid.score(#"```{"a": 1}```"#, item: item(nil)) == 1)
    }

    @Test func jsonRejectsProseTrailingTextAndDoubleFences() {
        #expect(Scorer.jsonValid.score(#"Here it is: {"a": 1}"#, item: item(nil)) == 0)
        #expect(Scorer.jsonValid.score(#"{"a": 1} hope that helps"#, item: item(nil)) == 0)
        #expect(Scorer.jsonValid.score(#"{"a": 1}{"b": 2}"#, item: item(nil)) == 0)
        #expect(Scorer.jsonValid.score("Sure!\n```json\n{\"a\": 1}\n```", item: item(nil)) == 0)
        #expect(Scorer.jsonValid.score("```python\n{\"a\": 1}\n```", item: item(nil)) == 0)
        #expect(Scorer.jsonValid.score("```json\n```json\n{}\n```\n```", item: item(nil)) == 0)
        #expect(Scorer.jsonValid.score(#"{"a": 1,}"#, item: item(nil)) == 0)
        #expect(Scorer.jsonValid.score("", item: item(nil)) == 0)
    }

    // MARK: json_schema

    @Test func jsonSchemaNeedsValidJSONThatValidates() throws {
        let schema = try json(#"{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}"#)
        let scorer = Scorer.jsonSchema(schema)
        #expect(scorer.score(#"{"name": "Ada"}"#, item: item(nil)) == 1)
        #expect(scorer.score("```json\n{\"name\": \"Ada\"}\n```", item: item(nil)) == 1)
        #expect(scorer.score(#"{"name": 1}"#, item: item(nil)) == 0)
        #expect(scorer.score(#"{"nom": "Ada"}"#, item: item(nil)) == 0)
        #expect(scorer.score(#"name: Ada"#, item: item(nil)) == 0)
    }

    @Test func jsonSchemaWithoutASchemaUsesTheItemsExpected() throws {
        let schema = try json(#"{"type": "array", "items": {"type": "integer"}}"#)
        #expect(Scorer.jsonSchema(nil).score("[1, 2]", item: item(schema)) == 1)
        #expect(Scorer.jsonSchema(nil).score("[1, 2.5]", item: item(schema)) == 0)
        #expect(Scorer.jsonSchema(nil).score("[1]", item: item(nil)) == nil)
        #expect(Scorer.jsonSchema(nil).score("[1]", item: item("an array")) == nil)
        #expect(Scorer.jsonSchema(nil).score("[1]", item: item(.bool(false))) == 0)
    }

    @Test func anUnusableSchemaFromTheDatasetCannotScore() throws {
        let schema = try json(#"{"type": "string", "pattern": "(("}"#)
        #expect(Scorer.jsonSchema(nil).score(#""x""#, item: item(schema)) == nil)
        let typo = try json(#"{"type": "strnig"}"#)
        #expect(Scorer.jsonSchema(nil).score(#""x""#, item: item(typo)) == nil)
    }

    // MARK: numeric

    @Test(arguments: [
        ("The answer is 42.", 42.0),
        ("It costs $1,234,567.89 in total", 1_234_567.89),
        ("about 1.5e3 metres", 1500.0),
        ("tiny: 2.5E-2", 0.025),
        ("First 12, then 7", 7.0),
        ("-3.25", -3.25),
        ("it fell to \u{2212}8 degrees", -8.0),
        ("x = .5", 0.5),
        ("pages 3-4", 4.0),
        ("1, 2, 3", 3.0),
        ("45% of 1,000", 1000.0),
        ("12,34", 34.0),
        ("3 eggs", 3.0),
        ("answer: +7", 7.0),
    ])
    func numericReadsTheLastNumber(answer: String, value: Double) {
        #expect(Scorer.numeric(tolerance: 0).score(answer, item: item(.double(value))) == 1)
        #expect(Scorer.numeric(tolerance: 0).score(answer, item: item(.double(value + 1))) == 0)
    }

    @Test func numericToleranceIsAbsoluteAndInclusive() {
        let scorer = Scorer.numeric(tolerance: 0.5)
        #expect(scorer.score("10.5", item: item(.number("10"))) == 1)
        #expect(scorer.score("9.5", item: item(.number("10"))) == 1)
        #expect(scorer.score("10.51", item: item(.number("10"))) == 0)
        #expect(scorer.score("9.49", item: item(.number("10"))) == 0)
    }

    @Test func numericAcceptsANumericExpectedString() {
        #expect(Scorer.numeric(tolerance: 0).score("1234", item: item(" 1,234 ")) == 1)
        #expect(Scorer.numeric(tolerance: 0).score("-0.5", item: item("-.5")) == 1)
        #expect(Scorer.numeric(tolerance: 0).score("1234", item: item("about 1234")) == nil)
        #expect(Scorer.numeric(tolerance: 0).score("1234", item: item(nil)) == nil)
        #expect(Scorer.numeric(tolerance: 0).score("1234", item: item(.array([.number("1234")]))) == nil)
    }

    @Test func numericWithNoNumberInTheAnswerScoresZero() {
        #expect(Scorer.numeric(tolerance: 1).score("I don't know", item: item(.number("3"))) == 0)
        #expect(Scorer.numeric(tolerance: 1).score("", item: item(.number("3"))) == 0)
    }

    // MARK: parse

    func parse(_ spec: String, files: [String: String] = [:]) throws(ScorerSpecError) -> Scorer {
        try Scorer.parse(spec) { path in
            guard let text = files[path] else { throw FileMissing(path: path) }
            return Array(text.utf8)
        }
    }

    struct FileMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "no such file" }
    }

    @Test func parsesEverySpec() throws {
        #expect(try parse("exact") == .exactMatch)
        #expect(try parse("contains") == .contains)
        #expect(try parse("regex") == .regex(nil))
        #expect(try parse("regex:^a:b$") == .regex("^a:b$"))
        #expect(try parse("json") == .jsonValid)
        #expect(try parse("json-schema") == .jsonSchema(nil))
        #expect(try parse("json-schema:{\"type\":\"string\"}") == .jsonSchema(.object(["type": "string"])))
        #expect(try parse("json-schema:true") == .jsonSchema(.bool(true)))
        #expect(
            try parse("json-schema:@schemas/person.json", files: ["schemas/person.json": #"{"required": ["a"]}"#])
                == .jsonSchema(.object(["required": .array(["a"])])))
        #expect(try parse("numeric") == .numeric(tolerance: 0))
        #expect(try parse("numeric:0.01") == .numeric(tolerance: 0.01))
    }

    func failure(_ spec: String, files: [String: String] = [:]) -> String? {
        do {
            _ = try parse(spec, files: files)
            return nil
        } catch {
            #expect(error.spec == spec)
            return error.description
        }
    }

    @Test func anInvalidPatternFailsAtParseTime() throws {
        let message = try #require(failure("regex:(unclosed"))
        #expect(message.contains("regex:(unclosed"))
        #expect(message.contains("does not compile"))
        #expect(failure("regex:") != nil)
    }

    @Test func theJudgeIsPointedToItsOwnOption() throws {
        let message = try #require(failure("judge"))
        #expect(message.contains("--judge"))
        #expect(try #require(failure("judge:gpt-4o")).contains("--judge"))
    }

    @Test func badSpecsAreRefusedWithAReason() throws {
        #expect(try #require(failure("bleu")).contains("unknown scorer"))
        #expect(try #require(failure("exact:Paris")).contains("takes no argument"))
        #expect(try #require(failure("numeric:abc")).contains("tolerance"))
        #expect(failure("numeric:-1") != nil)
        #expect(failure("numeric:inf") != nil)
        #expect(failure("numeric:nan") != nil)
        #expect(failure("numeric:") != nil)
        #expect(try #require(failure("json-schema:@missing.json")).contains("missing.json"))
        #expect(try #require(failure("json-schema:{oops")).contains("not valid JSON"))
        #expect(try #require(failure("json-schema:[1]")).contains("json-schema:@"))
        #expect(try #require(failure("json-schema:@s.json", files: ["s.json": "[1]"])).contains("not array"))
        let badPattern = #"{"pattern": "(("}"#
        #expect(try #require(failure("json-schema:@s.json", files: ["s.json": badPattern])).contains("compile"))
        #expect(failure("json-schema:@") != nil)
    }
}
