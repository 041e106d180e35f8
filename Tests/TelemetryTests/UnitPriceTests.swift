import Testing

@testable import Telemetry

/// Operations billed per image, second, character or search, at the shipped table's rates
/// (LiteLLM's model_prices_and_context_window.json).
@Suite struct UnitPriceTests {
    let book = PriceBook.bundled

    @Test func rowsPricedOnlyPerUnitAreLoaded() throws {
        // whisper-1: 0.0001 $/s; tts-1: 0.000015 $/character; rerank-v3.5: 0.002 $/search.
        let whisper = try #require(book?.price(model: "whisper-1", provider: "openai"))
        #expect(whisper.inputCostPerSecond == 0.0001)
        #expect(whisper.mode == "audio_transcription")
        let tts = try #require(book?.price(model: "tts-1", provider: "openai"))
        #expect(tts.inputCostPerCharacter == 1.5e-05)
        let rerank = try #require(book?.price(model: "rerank-v3.5", provider: "cohere"))
        #expect(rerank.inputCostPerQuery == 0.002)
        #expect(rerank.mode == "rerank")
    }

    @Test func secondsCharactersAndSearchesAreCharged() throws {
        let whisper = try #require(book?.price(model: "whisper-1", provider: "openai"))
        #expect(abs((whisper.cost(of: nil, units: BilledUnits(seconds: 90)) ?? 0) - 0.009) < 1e-12)
        let tts = try #require(book?.price(model: "tts-1", provider: "openai"))
        #expect(abs((tts.cost(of: nil, units: BilledUnits(characters: 1000)) ?? 0) - 0.015) < 1e-12)
        let rerank = try #require(book?.price(model: "rerank-v3.5", provider: "cohere"))
        #expect(abs((rerank.cost(of: nil, units: BilledUnits(queries: 2)) ?? 0) - 0.004) < 1e-12)
    }

    @Test func imagesAreChargedPerImageWithoutUsageAndPerTokenWithIt() {
        var price = ModelPrice(inputCostPerToken: 2e-6, outputCostPerToken: 0)
        price.outputCostPerImage = 0.04
        price.outputCostPerImageToken = 8e-6
        #expect(abs((price.cost(of: nil, units: BilledUnits(images: 3)) ?? 0) - 0.12) < 1e-12)
        // gpt-image-1-mini's rates: text in at 2 $/M, image tokens out at 8 $/M.
        let usage = Usage(inputTokens: 50, outputTokens: 1000)
        #expect(abs((price.cost(of: usage, units: BilledUnits(images: 1)) ?? 0) - (50 * 2e-6 + 1000 * 8e-6)) < 1e-12)
    }

    @Test func nothingBilledThatTheTableCannotPriceIsNil() {
        let price = ModelPrice(inputCostPerToken: 0, outputCostPerToken: 0)
        #expect(price.cost(of: nil, units: BilledUnits(seconds: 12)) == nil)
        #expect(price.cost(of: nil, units: nil) == nil)
    }
}
