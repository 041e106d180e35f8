import Telemetry
import Testing

@testable import Evaluations

@Suite struct EvalAnswerTests {
    func answer(
        status: Int = 200, _ body: String, headers: [(String, String)] = [], trailers: [(String, String)] = [],
        streamed: Bool = false
    ) -> EvalAnswer {
        EvalAnswer(
            EvalResponse(status: status, headers: headers, body: Array(body.utf8), trailers: trailers), streamed: streamed)
    }

    /// Server-sent events as a gateway writes them: one `data:` line per event, a blank line after each.
    func sse(_ events: [String]) -> String {
        events.map { "data: \($0)\n\n" }.joined()
    }

    static let completion = #"""
        {"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}
        """#

    // MARK: Completions

    @Test func aCompletionGivesTextUsageAndCost() {
        let read = answer(Self.completion, headers: [("X-Spanway-Response-Cost", "0.00042")])
        #expect(read.succeeded)
        #expect(read.text == "Paris.")
        #expect(read.inputTokens == 12)
        #expect(read.outputTokens == 3)
        #expect(read.costUSD == 0.00042)
        #expect(read.errorKind == nil && read.errorMessage == nil)
    }

    @Test func aCompletionWithoutUsageCountsNoTokens() {
        let read = answer(#"{"choices":[{"message":{"role":"assistant","content":"ok"}}]}"#)
        #expect(read.succeeded && read.text == "ok")
        #expect(read.inputTokens == 0 && read.outputTokens == 0 && read.costUSD == 0)
    }

    @Test(arguments: ["not json at all", "[1,2,3]", "\"a string\"", ""])
    func aSuccessfulStatusWithABodyThatIsNoObjectIsAnInvalidResponse(body: String) {
        let read = answer(body)
        #expect(!read.succeeded)
        #expect(read.errorKind == "invalid_response")
        #expect(read.text == nil)
    }

    @Test func negativeOrNonIntegerTokenCountsAreNotBelieved() {
        let read = answer(#"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":-5,"completion_tokens":"7"}}"#)
        #expect(read.succeeded)
        #expect(read.inputTokens == 0)
        #expect(read.outputTokens == 0)
    }

    @Test(arguments: ["nan", "NaN", "-0.5", "inf", "-inf", "1e400", "cheap", ""])
    func aCostHeaderThatIsNotAFiniteNonNegativeNumberCountsAsZero(header: String) {
        let read = answer(Self.completion, headers: [("x-spanway-response-cost", header)])
        #expect(read.succeeded)
        #expect(read.costUSD == 0)
    }

    @Test func theCostTrailerOfAStreamIsRead() {
        let body = sse([#"{"choices":[{"delta":{"content":"hi"}}]}"#, "[DONE]"])
        let onlyTrailer = answer(body, trailers: [("x-spanway-response-cost", "0.25")], streamed: true)
        #expect(onlyTrailer.costUSD == 0.25)
        // The trailer is written after the stream, so it is the final word on the cost.
        let both = answer(
            body, headers: [("x-spanway-response-cost", "0.1")], trailers: [("x-spanway-response-cost", "0.3")], streamed: true)
        #expect(both.costUSD == 0.3)
    }

    @Test func withoutACostHeaderAStreamsUsageChunkSaysTheCost() {
        // What a client that cannot read trailers (AsyncHTTPClient) gets: LiteLLM's `usage.cost`.
        let body = sse([
            #"{"choices":[{"delta":{"content":"ok"}}]}"#,
            #"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"cost":0.0042}}"#,
            "[DONE]",
        ])
        #expect(answer(body, streamed: true).costUSD == 0.0042)
        // The gateway's header or trailer, when there is one, is the word that counts.
        #expect(answer(body, trailers: [("x-spanway-response-cost", "0.5")], streamed: true).costUSD == 0.5)
        #expect(answer(body, headers: [("x-spanway-response-cost", "0")], streamed: true).costUSD == 0)
    }

    @Test(arguments: ["-1", "1e400", "-1e400"])
    func aUsageCostThatIsNotAFiniteNonNegativeNumberCountsAsZero(cost: String) {
        let body = sse([#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"cost":\#(cost)}}"#, "[DONE]"])
        let read = answer(body, streamed: true)
        #expect(read.succeeded)
        #expect(read.costUSD == 0)
    }

    // MARK: Streams

    @Test func aStreamConcatenatesContentPiecesAndReadsTheUsageChunk() {
        let body = sse([
            #"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"Par"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"is"}}]}"#,
            #"{"choices":[{"index":0,"delta":{}, "finish_reason":"stop"}]}"#,
            #"{"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":2}}"#,
            "[DONE]",
        ])
        let read = answer(body, headers: [("x-spanway-response-cost", "0.003")], streamed: true)
        #expect(read.succeeded)
        #expect(read.text == "Paris")
        #expect(read.inputTokens == 20 && read.outputTokens == 2)
        #expect(read.costUSD == 0.003)
    }

    @Test func streamLinesMayUseCRLFAndNoSpaceAfterTheColonAndCarryComments() {
        let body =
            ": keep-alive\r\n\r\nevent: message\r\ndata:{\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\r\n\r\n"
            + "data: not json\r\n\r\ndata:  {\"choices\":[{\"delta\":{\"content\":\"B\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n"
        let read = answer(body, streamed: true)
        #expect(read.succeeded)
        #expect(read.text == "AB")
    }

    @Test func aStreamWithoutDoneIsInterrupted() {
        let body = sse([
            #"{"choices":[{"delta":{"content":"Half an ans"}}]}"#,
            #"{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":9}}"#,
        ])
        let read = answer(body, streamed: true)
        #expect(!read.succeeded)
        #expect(read.errorKind == "stream_interrupted")
        #expect(read.text == nil)
    }

    @Test func anEmptyStreamIsInterrupted() {
        #expect(answer("", streamed: true).errorKind == "stream_interrupted")
    }

    @Test func anErrorChunkFailsTheStreamWithItsKindAndMessage() {
        let body = sse([
            #"{"choices":[{"delta":{"content":"par"}}]}"#,
            #"{"error":{"message":"upstream went away","type":"api_error","code":"upstream_error"}}"#,
            "[DONE]",
        ])
        let read = answer(body, streamed: true)
        #expect(!read.succeeded)
        #expect(read.errorKind == "upstream_error")
        #expect(read.errorMessage == "upstream went away")
        #expect(read.text == nil)

        let typed = answer(sse([#"{"error":{"message":"m","type":"server_error","code":null}}"#]), streamed: true)
        #expect(typed.errorKind == "server_error")

        let bare = answer(sse([#"{"error":{"message":"m"}}"#]), streamed: true)
        #expect(bare.errorKind == "stream_error")
    }

    @Test func aCompletionBodyGivenForAStreamIsInterrupted() {
        #expect(answer(Self.completion, streamed: true).errorKind == "stream_interrupted")
    }

    // MARK: Errors

    @Test func anOpenAIErrorIsNamedByItsCode() {
        let read = answer(
            status: 400,
            #"{"error":{"message":"Budget has been exceeded","type":"budget_exceeded","param":null,"code":"budget_exceeded"}}"#
        )
        #expect(!read.succeeded)
        #expect(read.errorKind == "budget_exceeded")
        #expect(read.errorMessage == "Budget has been exceeded")
        #expect(read.text == nil)

        let coded = answer(
            status: 404, #"{"error":{"message":"no such model","type":"invalid_request_error","code":"model_not_found"}}"#)
        #expect(coded.errorKind == "model_not_found")
    }

    @Test func withoutACodeTheErrorIsNamedByItsType() {
        let null = answer(status: 429, #"{"error":{"message":"slow down","type":"rate_limit_exceeded","code":null}}"#)
        #expect(null.errorKind == "rate_limit_exceeded")
        let empty = answer(status: 500, #"{"error":{"message":"boom","type":"api_error","code":""}}"#)
        #expect(empty.errorKind == "api_error")
        let absent = answer(status: 503, #"{"error":{"type":"upstream_unavailable"}}"#)
        #expect(absent.errorKind == "upstream_unavailable")
        #expect(absent.errorMessage == nil)
    }

    @Test func aNumericCodeIsNamedByItsDigits() {
        #expect(answer(status: 429, #"{"error":{"message":"m","code":429}}"#).errorKind == "429")
    }

    @Test(arguments: [
        (502, "<html>Bad Gateway</html>"), (500, ""), (503, #"{"detail":"overloaded"}"#), (401, #"{"error":"bad key"}"#),
        (418, #"{"error":{"message":"teapot"}}"#),
    ])
    func anErrorWithNeitherCodeNorTypeIsNamedByItsStatus(status: Int, body: String) {
        let read = answer(status: status, body)
        #expect(!read.succeeded)
        #expect(read.errorKind == "http_\(status)")
    }

    @Test func aLongErrorMessageIsCut() {
        let long = String(repeating: "x", count: 2000)
        let read = answer(status: 400, #"{"error":{"message":"\#(long)","type":"invalid_request_error"}}"#)
        #expect(read.errorMessage == String(repeating: "x", count: 500))
    }

    @Test func anErrorStatusWinsOverASuccessfulLookingBody() {
        let read = answer(status: 500, Self.completion)
        #expect(!read.succeeded)
        #expect(read.errorKind == "http_500")
        #expect(read.text == nil)
    }

    @Test func aTransportFailureIsAConnectionError() {
        let read = EvalAnswer(EvalResponse(status: 0, transportError: "timed out"), streamed: true)
        #expect(!read.succeeded)
        #expect(read.errorKind == "connection_error")
        #expect(read.errorMessage == "timed out")
        #expect(read.text == nil)
        #expect(read.costUSD == 0)
    }
}
