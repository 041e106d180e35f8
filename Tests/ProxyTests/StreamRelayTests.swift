import GatewayTesting
import HTTPTypes
import NIOCore
import Synchronization
import Telemetry
import Testing

@testable import Proxy

/// The relay between a provider stream and the client (`StreamRelay` in Gateway/StreamedReply.swift),
/// fed OpenAI-format SSE through the OpenAI decoder, writing into memory.
@Suite struct StreamRelayTests {
    static func chunk(_ content: String?, finish: String? = nil, usage: String? = nil) -> String {
        let delta = content.map { #"{"content":"\#($0)"}"# } ?? "{}"
        let reason = finish.map { #""\#($0)""# } ?? "null"
        let usagePart = usage.map { #","usage":\#($0)"# } ?? ""
        return
            #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(reason)}]\#(usagePart)}"#
            + "\n\n"
    }

    static let usage = #"{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}"#
    static let usageOnly =
        #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":\#(usage)}"#
        + "\n\n"
    static let done = "data: [DONE]\n\n"
    static let complete = [chunk("Hello"), chunk(" world"), chunk(nil, finish: "stop"), usageOnly, done]

    struct Run {
        var ending: StreamRelay.Ending
        var relay: StreamRelay
        var written: String
        var payloads: [String] { ssePayloads(written) }
    }

    struct Unplugged: Error {}

    /// What the client was sent.
    final class Client: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    static func run(
        _ chunks: [String], forwardUsage: Bool = false, failingWith failure: (any Error & Sendable)? = nil,
        clientGone: Bool = false
    ) async throws -> Run {
        let exchange = Exchange(method: "POST", route: "/v1/chat/completions", operation: "chat", headers: [:])
        let deployment = Deployment(
            config: DeploymentConfig(modelName: "g", provider: "openai", model: "gpt-4o-mini", id: "d"), adapter: OpenAIAdapter(),
            transport: FakeTransport.unreachable(), price: nil)
        let request = try OpenAIRequest(
            operation: .chat, bytes: Array(#"{"model":"g","stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8))
        let attempt = exchange.beginAttempt(deployment, group: "g", number: 1, request: request)
        let client = Client()
        var relay = StreamRelay(decoder: OpenAIAdapter().makeStreamDecoder(for: request), forwardUsage: forwardUsage)
        let ending = await relay.run(ByteChunks(chunks, failingWith: failure), attempt: attempt) { buffer in
            if clientGone { throw Unplugged() }
            client.bytes.withLock { $0 += Array(buffer.readableBytesView) }
        }
        return Run(ending: ending, relay: relay, written: String(decoding: client.bytes.withLock { $0 }, as: UTF8.self))
    }

    static func failure(_ ending: StreamRelay.Ending) -> GatewayError? {
        if case .upstreamFailed(let error) = ending { return error }
        return nil
    }

    @Test func aCompleteStreamIsRelayedWithUsageReadButNotForwarded() async throws {
        let run = try await Self.run(Self.complete)
        guard case .completed = run.ending else {
            Issue.record("ended \(run.ending)")
            return
        }
        // Three chunks; the usage-only chunk dropped; `[DONE]` held back for the gateway to send.
        #expect(run.payloads.count == 3 && !run.written.contains("usage") && !run.written.contains("[DONE]"))
        #expect(run.payloads.first == String(Self.chunk("Hello").dropFirst(6).dropLast(2)))
        #expect(run.relay.reply.usage?.inputTokens == 7 && run.relay.reply.usage?.outputTokens == 5)
        #expect(run.relay.reply.finishReasons == ["stop"] && run.relay.reply.responseID == "chatcmpl-1")
        // "Hello world" is 11 bytes: 3 tokens at four bytes a token, rounded up.
        #expect(run.relay.relayedTextBytes == 11 && run.relay.estimatedOutputTokens == 3)
    }

    @Test func usageIsForwardedWhenTheClientAsked() async throws {
        let run = try await Self.run(Self.complete, forwardUsage: true)
        #expect(run.payloads.count == 4)
        #expect(run.payloads.last == String(Self.usageOnly.dropFirst(6).dropLast(2)))
    }

    /// Usage on a chunk that also carries a choice: the choice goes out, the usage does not.
    @Test func usageIsStrippedFromAChunkWithChoices() async throws {
        let run = try await Self.run([Self.chunk("Hi", finish: "stop", usage: Self.usage), Self.done])
        let payload = try #require(run.payloads.first)
        let object = try JSONParser.parse(payload)
        #expect(object["usage"] == nil && object["choices"]?.arrayValue?.first?["delta"]?["content"] == "Hi")
        #expect(run.relay.reply.usage?.outputTokens == 5)
    }

    /// The same stream cut into pieces at every byte boundary gives the same output.
    @Test func chunkBoundariesDoNotMatter() async throws {
        let whole = Self.complete.joined()
        let expected = try await Self.run([whole]).written
        let bytes = Array(whole.utf8)
        for cut in stride(from: 1, to: bytes.count, by: 7) {
            let pieces = [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
            #expect(try await Self.run(pieces).written == expected, "cut at \(cut)")
        }
    }

    @Test func anErrorEventEndsTheStreamAsAnUpstreamFailure() async throws {
        let event = #"data: {"error":{"message":"overloaded","type":"server_error","code":"overloaded"}}"# + "\n\n"
        let run = try await Self.run([Self.chunk("Hel"), event])
        let error = try #require(Self.failure(run.ending))
        #expect(error.status == 502 && error.message == "overloaded" && error.errorType == "overloaded")
        // The client gets the provider's event as it was.
        #expect(run.payloads.last == String(event.dropFirst(6).dropLast(2)))
    }

    @Test func aStreamCutOffBeforeItsEndIsAFailureTheClientIsToldOf() async throws {
        let run = try await Self.run([Self.chunk("Hello"), Self.chunk(" wor")])
        let error = try #require(Self.failure(run.ending))
        #expect(error.message == "The upstream stream ended before it was complete.")
        let last = try JSONParser.parse(try #require(run.payloads.last))
        #expect(last["error"]?["message"] == "The upstream stream ended before it was complete.")
        #expect(run.relay.relayedTextBytes == 9)
    }

    @Test func aBrokenConnectionIsAFailureTheClientIsToldOf() async throws {
        let run = try await Self.run([Self.chunk("Hello")], failingWith: Unplugged())
        let error = try #require(Self.failure(run.ending))
        #expect(error.message == "The upstream connection failed mid-stream." && error.errorType == "stream_interrupted")
        #expect(try JSONParser.parse(try #require(run.payloads.last))["error"] != nil)
    }

    @Test func aFailedWriteMeansTheClientIsGone() async throws {
        let run = try await Self.run(Self.complete, clientGone: true)
        guard case .clientGone = run.ending else {
            Issue.record("ended \(run.ending)")
            return
        }
        #expect(run.written.isEmpty)
    }

    /// OpenAI's typed streams (Responses, images, transcripts) keep their event names, and the
    /// terminal event is held back until the request is settled, in place of `[DONE]`.
    @Test func typedEventsKeepTheirNamesAndTheTerminalOneWaitsForTheSettlement() async throws {
        func event(_ json: String) -> String {
            let type = try! JSONParser.parse(Array(json.utf8))["type"]?.stringValue ?? ""
            return "event: \(type)\ndata: \(json)\n\n"
        }
        let created = event(
            #"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"gpt-4o","status":"in_progress"}}"#
        )
        let delta = event(
            #"{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}"#
        )
        let completed = event(
            #"{"type":"response.completed","sequence_number":2,"response":{"id":"resp_1","status":"completed","usage":{"input_tokens":9,"output_tokens":2,"total_tokens":11}}}"#
        )
        let run = try await Self.run([created, delta, completed])
        guard case .completed = run.ending else { Issue.record("\(run.ending)"); return }
        #expect(run.written == created + delta)
        #expect(String(decoding: run.relay.lastFrame, as: UTF8.self) == completed)
        #expect(run.relay.reply.usage == Usage(inputTokens: 9, outputTokens: 2))
        #expect(run.relay.reply.responseID == "resp_1" && run.relay.reply.finishReasons == ["completed"])

        // Two images, each completed with its usage: the first goes out, the usage adds up.
        let first = event(
            #"{"type":"image_generation.completed","b64_json":"AA==","usage":{"input_tokens":5,"output_tokens":272,"total_tokens":277}}"#
        )
        let second = event(
            #"{"type":"image_generation.completed","b64_json":"AQ==","usage":{"input_tokens":5,"output_tokens":272,"total_tokens":277}}"#
        )
        let images = try await Self.run([first, second])
        #expect(images.written == first)
        #expect(String(decoding: images.relay.lastFrame, as: UTF8.self) == second)
        #expect(images.relay.reply.usage == Usage(inputTokens: 10, outputTokens: 544))
        #expect(images.relay.reply.units?.images == 2)

        // A stream that ends before its terminal event was cut off.
        // A stream that ends before its terminal event was cut off: the gateway says so with a
        // typed `error` event, numbered after the last event relayed.
        let cut = try await Self.run([created, delta])
        guard case .upstreamFailed = cut.ending else { Issue.record("\(cut.ending)"); return }
        let last = try #require(cut.written.components(separatedBy: "\n\n").dropLast().last)
        #expect(last.hasPrefix("event: error\ndata: "))
        let error = try JSONParser.parse(Array(last.dropFirst("event: error\ndata: ".count).utf8))
        #expect(error["type"] == "error" && error["sequence_number"] == .int(2))
        #expect(error["message"] == "The upstream stream ended before it was complete.")
    }
}
