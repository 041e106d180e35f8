import Testing

@testable import Telemetry

@Suite struct PriceTests {
    // gpt-4o-mini in the shipped table: 0.15 $/M input, 0.6 $/M output, 0.075 $/M cached input.
    let mini = ModelPrice(inputCostPerToken: 1.5e-7, outputCostPerToken: 6e-7, cacheReadInputTokenCost: 7.5e-8)

    @Test func plainUsage() {
        let cost = mini.cost(of: Usage(inputTokens: 1000, outputTokens: 500))
        #expect(abs(cost - (1000 * 1.5e-7 + 500 * 6e-7)) < 1e-15)
    }

    @Test func cachedInputUsesItsOwnRate() {
        // Scenario A of the provider fixtures: 1250 prompt tokens of which 1024 cached.
        let cost = mini.cost(of: Usage(inputTokens: 1250, outputTokens: 73, cacheReadTokens: 1024, reasoningTokens: 64))
        let expected = 226 * 1.5e-7 + 1024 * 7.5e-8 + 73 * 6e-7
        #expect(abs(cost - expected) < 1e-15)
    }

    @Test func reasoningAndCacheCreationUseTheirRatesWhenTheTableHasThem() {
        let price = ModelPrice(
            inputCostPerToken: 3e-6, outputCostPerToken: 1.5e-5, cacheReadInputTokenCost: 3e-7,
            cacheCreationInputTokenCost: 3.75e-6, outputCostPerReasoningToken: 2e-5)
        let usage = Usage(
            inputTokens: 1000, outputTokens: 100, cacheReadTokens: 200, cacheCreationTokens: 300, reasoningTokens: 40)
        let expected = 500 * 3e-6 + 200 * 3e-7 + 300 * 3.75e-6 + 60 * 1.5e-5 + 40 * 2e-5
        #expect(abs(price.cost(of: usage) - expected) < 1e-15)
    }

    @Test func deploymentOverrideReplacesOnlyWhatItSets() {
        let price = mini.overridden(input: 1e-6, output: nil)
        #expect(price.inputCostPerToken == 1e-6 && price.outputCostPerToken == 6e-7)
        #expect(price.cacheReadInputTokenCost == 7.5e-8)
    }

    @Test func shippedTableLoadsInLiteLLMFormat() throws {
        let book = try #require(PriceBook.bundled, "the price table resource should sit beside the test binary")
        let mini = try #require(book.price(model: "gpt-4o-mini", provider: "openai"))
        #expect(mini.inputCostPerToken == 1.5e-7 && mini.outputCostPerToken == 6e-7)
        #expect(mini.cacheReadInputTokenCost == 7.5e-8 && mini.maxInputTokens == 128000)
        #expect(book.price(model: "sample_spec", provider: nil) == nil)
        #expect(book.price(model: "no-such-model-anywhere", provider: "openai") == nil)
    }

    @Test func lookupTriesProviderQualifiedNameFirst() throws {
        let book = try PriceBook(
            json: Array(
                #"""
                {"m": {"input_cost_per_token": 1, "output_cost_per_token": 2},
                 "groq/m": {"input_cost_per_token": 3, "output_cost_per_token": 4},
                 "sample_spec": {"input_cost_per_token": "text"}}
                """#.utf8))
        #expect(book.price(model: "m", provider: "groq")?.inputCostPerToken == 3)
        #expect(book.price(model: "m", provider: "openai")?.inputCostPerToken == 1)
        #expect(book.price(model: "vendor/m", provider: nil)?.inputCostPerToken == 1)
    }

    @Test func malformedTableIsAnError() {
        #expect(throws: PriceBook.LoadError.self) { try PriceBook(json: Array("[1,2]".utf8)) }
        #expect(throws: PriceBook.LoadError.self) { try PriceBook(json: Array("{".utf8)) }
    }
}
