import Evaluations
import Telemetry
import Testing

@Suite struct DatasetTests {
    func lines(_ text: String, limit: Int? = nil) throws(EvalDatasetError) -> [EvalItem] {
        try EvalDataset.parse(jsonLines: Array(text.utf8), limit: limit)
    }

    /// The error a dataset gives, or nil when it parses.
    func error(_ text: String, limit: Int? = nil) -> EvalDatasetError? {
        do {
            _ = try lines(text, limit: limit)
            return nil
        } catch {
            return error
        }
    }

    func arrayError(_ text: String) throws -> EvalDatasetError? {
        let array = try #require(try JSONParser.parse(text).arrayValue)
        do {
            _ = try EvalDataset.parse(array: array)
            return nil
        } catch {
            return error
        }
    }

    static let user: JSONValue = .object(["role": "user", "content": "What is the capital of France?"])

    // MARK: Items

    @Test func readsEveryFieldOfAnItem() throws {
        let items = try lines(
            #"{"id": "q1", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}], "expected": "Paris", "parameters": {"temperature": 0, "max_tokens": 5}, "metadata": {"topic": "geo"}}"#
        )
        let item = try #require(items.first)
        #expect(items.count == 1)
        #expect(item.id == "q1")
        #expect(
            item.messages == [
                .object(["role": "system", "content": "Be brief."]), .object(["role": "user", "content": "Capital of France?"]),
            ])
        #expect(item.expected == .string("Paris"))
        #expect(item.parameters["temperature"] == .number("0"))
        #expect(item.parameters["max_tokens"] == .number("5"))
        #expect(item.metadata == ["topic": "geo"])
        #expect(item.prompt == "Capital of France?")
    }

    @Test func inputStandsForOneUserMessage() throws {
        let items = try lines(#"{"id": "q", "input": "Say hi"}"#)
        #expect(items.first?.messages == [.object(["role": "user", "content": "Say hi"])])
        #expect(items.first?.expected == nil)
        #expect(items.first?.parameters.isEmpty == true)
    }

    @Test func expectedMayBeAnyJSONValue() throws {
        let items = try lines(
            """
            {"id": "n", "input": "2+2", "expected": 4}
            {"id": "o", "input": "json", "expected": {"a": [1, true]}}
            """)
        #expect(items.map(\.expected) == [.number("4"), .object(["a": .array([.number("1"), .bool(true)])])])
    }

    @Test func idsDefaultToTheItemsPositionAndNumbersAreKeptAsWritten() throws {
        let items = try lines(
            """
            // a comment line does not count as an item
            {"input": "a"}
            {"id": 7, "input": "b"}
            {"id": null, "input": "c"}
            """)
        #expect(items.map(\.id) == ["item-1", "7", "item-3"])
    }

    @Test func skipsBlankLinesCommentsAndCarriageReturnsButCountsThemAsLines() throws {
        let text = "\r\n  // a comment\r\n\t\r\n{\"id\":\"a\",\"input\":\"x\"}\r\n   \n{\"id\":\"b\",\"input\":\"y\"}\n\n"
        #expect(try lines(text).map(\.id) == ["a", "b"])
        // Line 6 is the first bad one: the blank lines and the comment still count.
        let bad = "\n// c\n\n{\"id\":\"a\",\"input\":\"x\"}\n  \nnot json\n"
        #expect(error(bad)?.line == 6)
    }

    @Test func limitKeepsTheFirstItemsAndReadsNoFurther() throws {
        let text = """
            {"id": "a", "input": "1"}
            // skipped
            {"id": "b", "input": "2"}
            {"id": "c", "input": "3"}
            this line is never read
            """
        #expect(try lines(text, limit: 2).map(\.id) == ["a", "b"])
        #expect(try lines(text, limit: 3).map(\.id) == ["a", "b", "c"])
        #expect(error(text, limit: 4)?.line == 5)
    }

    // MARK: Errors name the line and the field

    @Test func invalidJSONNamesItsLine() throws {
        let failure = try #require(error("{\"id\":\"a\",\"input\":\"x\"}\n{\"id\": \"b\", \"input\": }\n"))
        #expect(failure.line == 2)
        #expect(failure.field == nil)
        #expect(failure.description.hasPrefix("line 2: "))
    }

    @Test func aDuplicateIdNamesTheSecondLineAndTheId() throws {
        let failure = try #require(
            error(
                """
                {"id": "same", "input": "a"}
                {"id": "other", "input": "b"}
                {"id": "same", "input": "c"}
                """))
        #expect(failure.line == 3)
        #expect(failure.field == "id")
        #expect(failure.message.contains("same"))
        #expect(failure.description.hasPrefix("line 3, field 'id': "))
    }

    @Test func aNumericIdCollidesWithTheSameTextAsAString() throws {
        let failure = try #require(error("{\"id\": 1, \"input\": \"a\"}\n{\"id\": \"1\", \"input\": \"b\"}"))
        #expect(failure.line == 2 && failure.field == "id")
    }

    @Test(arguments: [
        (#"{"id": "q", "messages": [{"role": "user", "content": "a"}], "input": "b"}"#, "input"),
        (#"{"id": "q"}"#, "messages"),
        (#"{"id": "q", "messages": []}"#, "messages"),
        (#"{"id": "q", "messages": "hello"}"#, "messages"),
        (#"{"id": "q", "messages": [{"role": "user", "content": "a"}, {"content": "b"}]}"#, "messages[1]"),
        (#"{"id": "q", "messages": [{"role": "user"}]}"#, "messages[0]"),
        (#"{"id": "q", "messages": [7]}"#, "messages[0]"),
        (#"{"id": "q", "input": ["a"]}"#, "input"),
        (#"{"id": "", "input": "a"}"#, "id"),
        (#"{"id": true, "input": "a"}"#, "id"),
        (#"{"id": {"x": 1}, "input": "a"}"#, "id"),
        (#"{"id": "q", "input": "a", "parameters": [1]}"#, "parameters"),
        (#"{"id": "q", "input": "a", "metadata": "m"}"#, "metadata"),
        (#"{"id": "q", "input": "a", "parameters": {"temperature": 1, "model": "x"}}"#, "parameters.model"),
        (#"{"id": "q", "input": "a", "parameters": {"messages": []}}"#, "parameters.messages"),
        (#"{"id": "q", "input": "a", "parameters": {"stream": true}}"#, "parameters.stream"),
        (#"{"id": "q", "input": "a", "parameters": {"stream_options": {}}}"#, "parameters.stream_options"),
    ])
    func aBadItemNamesItsLineAndField(item: String, field: String) throws {
        let failure = try #require(error("{\"id\": \"first\", \"input\": \"ok\"}\n" + item))
        #expect(failure.line == 2)
        #expect(failure.field == field)
        #expect(failure.description.hasPrefix("line 2, field '\(field)': "))
    }

    @Test func idsAreAtMost128Bytes() throws {
        let longest = String(repeating: "é", count: 64)  // 128 bytes
        #expect(try lines(#"{"id": "\#(longest)", "input": "a"}"#).first?.id == longest)
        let failure = error(#"{"id": "\#(longest)x", "input": "a"}"#)
        #expect(failure?.field == "id")
    }

    @Test func anItemMustBeAnObject() throws {
        let failure = try #require(error("[1, 2]"))
        #expect(failure.line == 1)
        #expect(failure.field == nil)
        #expect(failure.message.contains("array"))
    }

    @Test func anEmptyDatasetIsAnError() throws {
        let failure = try #require(error("\n// only a comment\n\n"))
        #expect(failure.line == nil)
        #expect(failure.field == nil)
    }

    // MARK: JSON arrays (the HTTP API)

    @Test func anArrayReadsLikeLinesWithALimit() throws {
        let array = try #require(
            try JSONParser.parse(#"[{"input": "a"}, {"id": "b", "messages": [{"role": "user", "content": "x"}]}, {"id": "c"}]"#)
                .arrayValue)
        let items = try EvalDataset.parse(array: array, limit: 2)
        #expect(items.map(\.id) == ["item-1", "b"])
        #expect(items.first?.messages == [.object(["role": "user", "content": "a"])])
    }

    @Test func arrayErrorsNameTheElementsField() throws {
        let missing = try #require(try arrayError(#"[{"id": "a", "input": "x"}, {"id": "b"}]"#))
        #expect(missing.line == nil)
        #expect(missing.field == "dataset[1].messages")

        let reserved = try #require(try arrayError(#"[{"id": "a", "input": "x", "parameters": {"model": "m"}}]"#))
        #expect(reserved.field == "dataset[0].parameters.model")

        let duplicate = try #require(try arrayError(#"[{"id": "a", "input": "x"}, {"id": "a", "input": "y"}]"#))
        #expect(duplicate.field == "dataset[1].id")

        let notAnObject = try #require(try arrayError(#"[{"id": "a", "input": "x"}, "text"]"#))
        #expect(notAnObject.field == "dataset[1]")

        let empty = try #require(try arrayError("[]"))
        #expect(empty.field == "dataset")
    }
}
