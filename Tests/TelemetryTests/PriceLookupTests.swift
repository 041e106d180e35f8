import Testing

@testable import Telemetry

/// Model spellings clients send on wildcard routes must still find their price (issue 11).
@Suite struct PriceLookupTests {
    let book = try! PriceBook(
        json: Array(
            #"""
            {"gpt-4o": {"input_cost_per_token": 2.5e-6, "output_cost_per_token": 1e-5},
             "openai/o1": {"input_cost_per_token": 1.5e-5, "output_cost_per_token": 6e-5},
             "Mixed-Case": {"input_cost_per_token": 7, "output_cost_per_token": 7},
             "mixed-case": {"input_cost_per_token": 8, "output_cost_per_token": 8}}
            """#.utf8))

    @Test func caseIsIgnoredWhenNoExactSpellingExists() {
        #expect(book.price(model: "GPT-4o", provider: nil)?.inputCostPerToken == 2.5e-6)
        #expect(book.price(model: "Gpt-4O", provider: "openai")?.outputCostPerToken == 1e-5)
        #expect(book.price(model: "O1", provider: "OpenAI")?.inputCostPerToken == 1.5e-5)
    }

    @Test func exactSpellingWinsOverAFoldedOne() {
        #expect(book.price(model: "Mixed-Case", provider: nil)?.inputCostPerToken == 7)
        #expect(book.price(model: "mixed-case", provider: nil)?.inputCostPerToken == 8)
        // No exact row: the all-lower-case row is the folded one.
        #expect(book.price(model: "MIXED-CASE", provider: nil)?.inputCostPerToken == 8)
    }

    @Test func aRepeatedProviderPrefixIsNormalised() {
        // `openai/gpt-4o` asked of an `openai/*` route, or `OpenAI/o1` of a `*` route on openai.
        #expect(book.price(model: "openai/gpt-4o", provider: "openai")?.inputCostPerToken == 2.5e-6)
        #expect(book.price(model: "OpenAI/O1", provider: "openai")?.inputCostPerToken == 1.5e-5)
        #expect(book.price(model: "mock/GPT-4o", provider: nil)?.inputCostPerToken == 2.5e-6)
    }

    @Test func unknownModelsStayUnpriced() {
        #expect(book.price(model: "GPT-5-nonexistent", provider: "openai") == nil)
        #expect(book.price(model: "", provider: nil) == nil)
    }

    @Test func setKeepsTheFoldedIndexCurrent() {
        var book = PriceBook()
        book.set(ModelPrice(inputCostPerToken: 1, outputCostPerToken: 2), for: "claude-x")
        #expect(book.price(model: "Claude-X", provider: "anthropic")?.outputCostPerToken == 2)
    }

    @Test func shippedTablePricesACapitalisedSpelling() throws {
        let shipped = try #require(PriceBook.bundled)
        let exact = try #require(shipped.price(model: "gpt-4o", provider: "openai"))
        #expect(shipped.price(model: "GPT-4o", provider: nil) == exact)
    }
}
