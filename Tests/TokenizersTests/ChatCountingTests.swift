import Telemetry
import Testing
import Tokenizers

/// The cookbook's overhead constants, and its two worked examples, whose totals the OpenAI API
/// confirmed (How_to_count_tokens_with_tiktoken: 129 tokens on gpt-3.5/gpt-4 and 124 on gpt-4o
/// for the conversation; 105 on gpt-4 and 101 on gpt-4o with the weather tool).
struct ChatCountingTests {
    @Test func overheadConstants() {
        let o200k = ChatOverhead(encoding: .o200kBase)
        #expect(o200k.tokensPerMessage == 3 && o200k.tokensPerName == 1 && o200k.replyPriming == 3)
        #expect(o200k.functionInit == 7 && o200k.propertiesInit == 3 && o200k.propertyKey == 3)
        #expect(o200k.enumInit == -3 && o200k.enumItem == 3 && o200k.functionsEnd == 12)
        #expect(ChatOverhead(encoding: .cl100kBase).functionInit == 10)
    }

    static func message(_ role: String, _ content: String, name: String? = nil) -> JSONValue {
        var object = JSONObject()
        object["role"] = .string(role)
        if let name { object["name"] = .string(name) }
        object["content"] = .string(content)
        return .object(object)
    }

    static let conversation: [JSONValue] = [
        message(
            "system",
            "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."),
        message("system", "New synergies will help drive top-line growth.", name: "example_user"),
        message("system", "Things working well together will increase revenue.", name: "example_assistant"),
        message(
            "system",
            "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
            name: "example_user"),
        message("system", "Let's talk later when we're less busy about how to do better.", name: "example_assistant"),
        message("user", "This late pivot means we don't have time to boil the ocean for the client deliverable."),
    ]

    @Test(.enabled(if: TestRanks.available, "needs SPANWAY_TOKENIZER_DIR with the rank files (.ci/run)"))
    func cookbookConversation() async throws {
        let counter = TokenCounter(store: TestRanks.store)
        let gpt4 = try await TestRanks.tokenizer(.cl100kBase)
        let gpt4o = try await TestRanks.tokenizer(.o200kBase)
        #expect(counter.count(messages: Self.conversation, tools: [], using: gpt4) == TokenTally(tokens: 129, estimated: false))
        #expect(counter.count(messages: Self.conversation, tools: [], using: gpt4o).tokens == 124)
    }

    static let weatherTool = try! JSONParser.parse(
        #"""
        {"type": "function", "function": {"name": "get_current_weather",
          "description": "Get the current weather in a given location",
          "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {"type": "string", "description": "The unit of temperature to return",
                     "enum": ["celsius", "fahrenheit"]}},
          "required": ["location"]}}}
        """#)

    @Test(.enabled(if: TestRanks.available, "needs SPANWAY_TOKENIZER_DIR with the rank files (.ci/run)"))
    func cookbookTools() async throws {
        let counter = TokenCounter(store: TestRanks.store)
        let messages = [
            Self.message("system", "You are a helpful assistant that can answer to questions about the weather."),
            Self.message("user", "What's the weather like in San Francisco?"),
        ]
        let gpt4o = try await TestRanks.tokenizer(.o200kBase)
        let gpt4 = try await TestRanks.tokenizer(.cl100kBase)
        #expect(counter.count(messages: messages, tools: [Self.weatherTool], using: gpt4o).tokens == 101)
        #expect(counter.count(messages: messages, tools: [Self.weatherTool], using: gpt4).tokens == 105)
    }

    /// Without a tokenizer: UTF-8 bytes of the text ÷ 4, rounded up, marked as an estimate.
    @Test func estimateWithoutATokenizer() {
        let counter = TokenCounter.estimating
        let messages = [Self.message("user", "hello world"), Self.message("assistant", "éé")]  // 11 + 4 bytes
        #expect(counter.count(messages: messages, tools: [], using: nil) == TokenTally(tokens: 4, estimated: true))
        #expect(counter.count(text: "abcde", using: nil) == TokenTally(tokens: 2, estimated: true))
        #expect(FallbackEstimate.tokens(bytes: 0) == 0)
        #expect(counter.tokenizer(forOpenAIModel: "gpt-4o") == nil)
    }
}
