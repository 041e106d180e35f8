import NIOHTTP1
import Sinks
import Store
import Telemetry
import Testing

@testable import Proxy

/// Every place the gateway turns an upstream's or an admin's number into an integer or a
/// duration, fed NaN, infinities, negatives, 1e300 and huge integer strings: nothing traps, and
/// what reaches cooldowns and clients is a small whole number (issue 11).
@Suite struct OutsideNumberParsingTests {
    static let hostile = ["nan", "NaN", "inf", "-inf", "-1", "1e300", "99999999999999999999999999", "1.7976931348623157e308"]
    let openAIDeployment = DeploymentConfig(modelName: "m", provider: "openai", model: "gpt-4o", id: "d", apiKey: "sk-x")

    func headers(_ pairs: [(String, String)]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in pairs { headers.add(name: name, value: value) }
        return headers
    }

    /// What a `retry-after` we pass on may be: absent, or whole seconds between 0 and a day.
    func isSane(_ value: String?) -> Bool {
        guard let value else { return true }
        guard let seconds = Int(value) else { return false }
        return (0...86_400).contains(seconds)
    }

    @Test func openAIRetryAfterHeaders() {
        for text in Self.hostile {
            #expect(isSane(UpstreamStatus.retryAfterSeconds(headers([("retry-after", text)]))), "retry-after: \(text)")
            #expect(isSane(UpstreamStatus.retryAfterSeconds(headers([("retry-after-ms", text)]))), "retry-after-ms: \(text)")
        }
        #expect(UpstreamStatus.retryAfterSeconds(headers([("retry-after", "1e300")])) == "86400")
        #expect(UpstreamStatus.retryAfterSeconds(headers([("retry-after-ms", "nan")])) == nil)
        #expect(UpstreamStatus.retryAfterSeconds(headers([("retry-after-ms", "1e300")])) == "86400")
        #expect(UpstreamStatus.retryAfterSeconds(headers([("retry-after-ms", "-1")])) == nil)
        #expect(UpstreamStatus.retryAfterSeconds(headers([("retry-after-ms", "1500")])) == "2")
        #expect(UpstreamStatus.retryAfterSeconds(headers([("retry-after", "7")])) == "7")
        #expect(UpstreamStatus.retryAfterSeconds(headers([("retry-after", "soon")])) == nil, "garbage is not passed on")
        // Through the adapter, as the router sees it.
        let error = OpenAIAdapter().mapError(
            status: 429, headers: headers([("retry-after", "1e300")]), body: [], deployment: openAIDeployment)
        #expect(error.headers["retry-after"] == "86400")
    }

    @Test func anthropicPassesOnlyANormalisedRetryAfter() {
        let deployment = DeploymentConfig(modelName: "c", provider: "anthropic", model: "claude", id: "d", apiKey: "k")
        for text in Self.hostile {
            let error = AnthropicAdapter().mapError(
                status: 429, headers: headers([("retry-after", text)]), body: [], deployment: deployment)
            #expect(isSane(error.headers["retry-after"]), "\(text)")
        }
    }

    func retryInfo(_ delay: String) throws -> [JSONValue] {
        let text = #"[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"\#(delay)"}]"#
        return try JSONParser.parse(Array(text.utf8)).arrayValue ?? []
    }

    @Test func geminiRetryDelays() throws {
        for text in Self.hostile + ["-5"] {
            #expect(isSane(GeminiError.retryDelaySeconds(try retryInfo("\(text)s"))), "\(text)s")
        }
        #expect(GeminiError.retryDelaySeconds(try retryInfo("1e300s")) == "86400")
        #expect(GeminiError.retryDelaySeconds(try retryInfo("nans")) == nil)
        #expect(GeminiError.retryDelaySeconds(try retryInfo("0.5s")) == "1")
    }

    @Test func upstreamStatusErrorsOfOtherProviders() {
        for text in Self.hostile {
            let error = UpstreamStatusError.make(status: 429, message: "x", headers: headers([("retry-after-ms", text)]))
            #expect(isSane(error.headers["retry-after"]), "\(text)")
        }
    }

    @Test func cooldownsTakeAHugeRetryAfterAsADay() {
        let cooldowns = Cooldowns(settings: .init(allowedFails: 3, cooldownTime: 5))
        for (index, text) in Self.hostile.enumerated() {
            var error = GatewayError.upstream(clientStatus: 429, "slow down")
            error.headers["retry-after"] = text
            #expect(cooldowns.recordFailure("d\(index)", error: error, now: 0))
            #expect(cooldowns.secondsUntilAvailable(["d\(index)"], now: 0) <= 86_400, "\(text)")
        }
        var huge = GatewayError.upstream(clientStatus: 429, "slow down")
        huge.headers["retry-after"] = "1e300"
        #expect(cooldowns.recordFailure("big", error: huge, now: 0))
        #expect(cooldowns.isCooling("big", now: 86_399) && !cooldowns.isCooling("big", now: 86_400))
        // A configured cooldown time far too large is held to a day too.
        let configured = Cooldowns(settings: .init(allowedFails: 0, cooldownTime: 1e300))
        #expect(configured.recordFailure("x", error: GatewayError.upstream(clientStatus: 500, "boom"), now: 0))
        #expect(configured.secondsUntilAvailable(["x"], now: 0) == 86_400)
    }

    @Test func allCoolingDownNeverTraps() {
        for seconds in [Double.nan, .infinity, 1e300, -1, 0, 0.2] {
            do {
                try ModelRouter.allCoolingDown("g", retryAfter: seconds)
            } catch {
                #expect(isSane(error.headers["retry-after"]) && error.headers["retry-after"] != "0", "\(seconds)")
            }
        }
    }

    @Test func adminDurations() {
        #expect(DurationText.seconds("30d") == 2_592_000.0)
        #expect(DurationText.seconds("1e300s") == nil)
        #expect(DurationText.seconds("nans") == nil)
        #expect(DurationText.seconds("-1s") == nil)
        #expect(DurationText.seconds("99999999999999999999999s") == nil, "does not fit an Int")
        #expect(DurationText.seconds("9223372036854775807mo") == nil, "fits an Int, but is not a duration a budget has")
        #expect(DurationText.seconds("36500d") == 3_153_600_000.0)
    }
}

/// Token counts from upstream usage objects are added together and summed per minute: extreme
/// values must not make those additions trap.
@Suite struct UpstreamTokenCountTests {
    static let extremes = ["9223372036854775807", "-9223372036854775808", "-1", "9000000000000000"]

    func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func everyAdaptersUsageStaysInRange() throws {
        for value in Self.extremes {
            let openAI = try #require(
                CanonicalUsage.parse(
                    try json(
                        #"{"prompt_tokens":\#(value),"completion_tokens":\#(value),"prompt_tokens_details":{"cached_tokens":\#(value)}}"#
                    )))
            let anthropic = try #require(
                AnthropicAdapter.usage(
                    try json(
                        #"{"input_tokens":\#(value),"cache_read_input_tokens":\#(value),"cache_creation_input_tokens":\#(value),"output_tokens":\#(value)}"#
                    )))
            let bedrock = try #require(
                BedrockAdapter.usage(
                    try json(
                        #"{"inputTokens":\#(value),"cacheReadInputTokens":\#(value),"cacheWriteInputTokens":\#(value),"outputTokens":\#(value)}"#
                    )))
            let gemini = try #require(
                GeminiResponse.usage(
                    try json(
                        #"{"promptTokenCount":\#(value),"toolUsePromptTokenCount":\#(value),"candidatesTokenCount":\#(value),"thoughtsTokenCount":\#(value)}"#
                    )))
            for usage in [openAI, anthropic, bedrock, gemini] {
                #expect(usage.totalTokens >= 0 && usage.totalTokens <= 8 * TokenCount.maximum, "\(value)")
            }
            let inbound = AnthropicInbound.usage(
                try json(#"{"prompt_tokens":\#(value),"prompt_tokens_details":{"cached_tokens":1}}"#))
            #expect((inbound["input_tokens"]?.intValue ?? -1) >= 0, "\(value)")
        }
        #expect(CanonicalUsage.parse(try json(#"{"prompt_tokens":12,"completion_tokens":3}"#))?.totalTokens == 15)
    }

    @Test func perMinuteTokenSumsSaturate() {
        let load = DeploymentLoad()
        for second in 0..<4 { load.used("d", tokens: .max, now: Double(second)) }
        load.used("d", tokens: .min, now: 5)
        #expect(OutsideNumber.saturatingSum(.max, 1) == .max && OutsideNumber.saturatingSum(.min, -1) == .min)
        #expect(OutsideNumber.saturatingSum(2, 3) == 5)
    }
}
