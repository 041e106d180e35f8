import Evaluations
import Telemetry
import Testing

@Suite struct EvalPlanJSONTests {
    static let bounds = EvalBounds(maxItems: 3, maxModels: 2, maxRepeats: 3, maxCells: 12, maxConcurrency: 5)

    /// A body with two models, two items and the given extra fields.
    func body(_ extra: String = "", dataset: String = #"[{"id": "a", "input": "1+1"}, {"id": "b", "input": "2+2"}]"#)
        -> String
    {
        #"{"models": ["small", "large"], "dataset": \#(dataset)\#(extra.isEmpty ? "" : ", " + extra)}"#
    }

    func plan(_ text: String, bounds: EvalBounds = Self.bounds) throws -> EvalPlan {
        try EvalPlan(json: try JSONParser.parse(text), bounds: bounds)
    }

    /// The field a body is refused for (nil when it is accepted or refused without a field).
    func refusal(_ text: String, bounds: EvalBounds = Self.bounds) throws -> EvalDatasetError? {
        let json = try JSONParser.parse(text)
        do {
            _ = try EvalPlan(json: json, bounds: bounds)
            return nil
        } catch {
            return error
        }
    }

    @Test func theSmallestBodyTakesTheDefaults() throws {
        let plan = try plan(body())
        #expect(plan.models == ["small", "large"])
        #expect(plan.items.map(\.id) == ["a", "b"])
        #expect(plan.items.first?.messages == [.object(["role": "user", "content": "1+1"])])
        #expect(plan.repeats == 1)
        #expect(plan.concurrency == 4)
        #expect(plan.stream == false)
        #expect(plan.seed == nil)
        #expect(plan.judge == nil)
        #expect(plan.scorers.isEmpty)
        #expect(plan.parameters.isEmpty)
        #expect(plan.cellCount == 4)
        #expect(plan.runID.hasPrefix("eval-"))
    }

    @Test func everyFieldIsRead() throws {
        let plan = try plan(
            body(
                #""scorers": ["exact", "regex:^4$", "numeric:0.5", "json-schema:{\"type\":\"string\"}"], "#
                    + #""judge": {"model": "grader", "rubric": "Be strict.", "pairwise": true}, "#
                    + #""parameters": {"temperature": 0.2, "max_tokens": 64}, "concurrency": 5, "repeat": 3, "#
                    + #""stream": true, "seed": 42, "limit": 1"#))
        #expect(plan.items.map(\.id) == ["a"])
        #expect(plan.repeats == 3)
        #expect(plan.concurrency == 5)
        #expect(plan.stream)
        #expect(plan.seed == 42)
        #expect(plan.parameters["temperature"] == .number("0.2"))
        #expect(plan.parameters["max_tokens"] == .number("64"))
        #expect(
            plan.scorers == [
                .exactMatch, .regex("^4$"), .numeric(tolerance: 0.5), .jsonSchema(.object(["type": "string"])),
            ])
        #expect(plan.judge?.model == "grader")
        #expect(plan.judge?.rubric.text == "Be strict.")
        #expect(plan.judge?.pairwise == true)
        #expect(plan.scorerNames == ["exact", "regex", "numeric", "json_schema", "judge"])
    }

    @Test func aJudgeMayBeJustAModelName() throws {
        let judge = try #require(try plan(body(#""judge": "grader""#)).judge)
        #expect(judge.model == "grader")
        #expect(judge.rubric == JudgeRubric())
        #expect(!judge.pairwise)
        #expect(try plan(body(#""judge": null"#)).judge == nil)
    }

    @Test func nullMeansAbsent() throws {
        let plan = try plan(
            body(#""concurrency": null, "repeat": null, "stream": null, "seed": null, "limit": null, "scorers": null"#))
        #expect(plan.concurrency == 4 && plan.repeats == 1 && !plan.stream && plan.seed == nil && plan.items.count == 2)
        #expect(plan.scorers.isEmpty)
    }

    // MARK: Every refusal names its field

    @Test(arguments: [
        (#""model": "small""#, "model"),
        (#""scorer": ["exact"]"#, "scorer"),
        (#""models": []"#, "models"),
        (#""models": "small""#, "models"),
        (#""models": ["small", 3]"#, "models"),
        (#""models": ["small", ""]"#, "models"),
        (#""models": ["small", "small"]"#, "models"),
        (#""models": ["a", "b", "c"]"#, "models"),
        (#""limit": 0"#, "limit"),
        (#""limit": "2""#, "limit"),
        (#""limit": 1.5"#, "limit"),
        (#""repeat": 0"#, "repeat"),
        (#""repeat": 4"#, "repeat"),
        (#""repeat": true"#, "repeat"),
        (#""concurrency": 0"#, "concurrency"),
        (#""concurrency": 6"#, "concurrency"),
        (#""concurrency": -1"#, "concurrency"),
        (#""stream": "yes""#, "stream"),
        (#""seed": -1"#, "seed"),
        (#""seed": "42""#, "seed"),
        (#""seed": 0.5"#, "seed"),
        (#""parameters": [1]"#, "parameters"),
        (#""parameters": {"temperature": 0, "model": "x"}"#, "parameters.model"),
        (#""parameters": {"stream": true}"#, "parameters.stream"),
        (#""parameters": {"stream_options": {}}"#, "parameters.stream_options"),
        (#""parameters": {"messages": []}"#, "parameters.messages"),
        (#""scorers": "exact""#, "scorers"),
        (#""scorers": {"exact": true}"#, "scorers"),
        (#""scorers": [1]"#, "scorers[0]"),
        (#""scorers": ["exact", "telepathy"]"#, "scorers[1]"),
        (#""scorers": ["exact", "judge"]"#, "scorers[1]"),
        (#""scorers": ["regex:("]"#, "scorers[0]"),
        (#""judge": 5"#, "judge"),
        (#""judge": """#, "judge"),
        (#""judge": {}"#, "judge"),
        (#""judge": {"model": ""}"#, "judge"),
        (#""judge": {"model": "g", "rubric": ""}"#, "judge.rubric"),
        (#""judge": {"model": "g", "rubric": 3}"#, "judge.rubric"),
        (#""judge": {"model": "g", "pairwise": "yes"}"#, "judge.pairwise"),
    ])
    func aBadFieldIsNamed(extra: String, field: String) throws {
        let failure = try #require(try refusal(body(extra)))
        #expect(failure.field == field)
        #expect(failure.line == nil)
    }

    @Test func theDatasetIsRequiredAndItsItemsAreCheckedByPosition() throws {
        #expect(try refusal(#"{"models": ["m"]}"#)?.field == "dataset")
        #expect(try refusal(body(dataset: #"{"id": "a"}"#))?.field == "dataset")
        #expect(try refusal(body(dataset: "[]"))?.field == "dataset")
        #expect(try refusal(body(dataset: #"[{"id": "a", "input": "x"}, {"id": "b"}]"#))?.field == "dataset[1].messages")
        #expect(try refusal(body(dataset: #"[{"id": "a", "input": "x"}, {"id": "a", "input": "y"}]"#))?.field == "dataset[1].id")
    }

    @Test func aBodyThatIsNotAnObjectIsRefused() throws {
        let failure = try #require(try refusal("[]"))
        #expect(failure.field == nil)
    }

    // MARK: Bounds

    @Test func itemsAreBoundedAfterTheLimit() throws {
        let four = #"[{"input": "1"}, {"input": "2"}, {"input": "3"}, {"input": "4"}]"#
        #expect(try refusal(body(dataset: four))?.field == "dataset")
        // The limit is applied first: four items cut to three fit.
        #expect(try plan(body(#""limit": 3"#, dataset: four)).items.count == 3)
        let three = #"[{"input": "1"}, {"input": "2"}, {"input": "3"}]"#
        #expect(try plan(body(dataset: three)).items.count == 3)
    }

    @Test func cellsAreBounded() throws {
        let three = #"[{"input": "1"}, {"input": "2"}, {"input": "3"}]"#
        // 3 items × 2 models × 2 = 12 cells: exactly the bound.
        #expect(try plan(body(#""repeat": 2"#, dataset: three)).cellCount == 12)
        // 3 × 2 × 3 = 18 > 12.
        let failure = try #require(try refusal(body(#""repeat": 3"#, dataset: three)))
        #expect(failure.field == "dataset")
        #expect(failure.message.contains("12"))
    }

    @Test func modelsAndConcurrencyMayReachTheirBounds() throws {
        #expect(try plan(body(#""concurrency": 5"#)).concurrency == 5)
        #expect(try plan(body(#""concurrency": 1"#)).concurrency == 1)
        #expect(try plan(body(#""repeat": 3"#)).repeats == 3)
        #expect(try plan(#"{"models": ["only"], "dataset": [{"input": "x"}]}"#).models == ["only"])
    }

    @Test func aScorerSpecIsAtMost256Bytes() throws {
        // The gateway runs the caller's regex with no time limit, so its length is bounded.
        let longest = "regex:" + String(repeating: "a", count: 250)
        #expect(try plan(body(#""scorers": ["\#(longest)"]"#)).scorers == [.regex(String(repeating: "a", count: 250))])
        let failure = try #require(try refusal(body(#""scorers": ["exact", "\#(longest)b"]"#)))
        #expect(failure.field == "scorers[1]")
    }

    // MARK: Scorers that would read a file

    @Test func aSchemaFromAFileIsRefused() throws {
        let failure = try #require(try refusal(body(#""scorers": ["json-schema:@/etc/passwd"]"#)))
        #expect(failure.field == "scorers[0]")
        #expect(failure.message.contains("inline"))
        #expect(!failure.message.contains("root:"))
    }

    @Test func aSchemaGivenInlineIsAccepted() throws {
        let plan = try plan(body(#""scorers": ["json-schema:{\"type\":\"object\",\"required\":[\"a\"]}", "json-schema"]"#))
        #expect(
            plan.scorers == [
                .jsonSchema(.object(["type": "object", "required": .array(["a"])])), .jsonSchema(nil),
            ])
    }
}
