import Foundation
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// Anthropic's Messages format in front of any provider: `POST /v1/messages` to an OpenAI
/// upstream and to an Anthropic one, answered in Messages format with spans and cost as for chat.
@Suite(.serialized, .timeLimit(.minutes(3))) struct MessagesEndToEndTests {
    static let request =
        #"{"model":"MODEL","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"Say hello"}]}"#

    @Test func messagesReachEveryProviderInAnthropicFormat() async throws {
        try await Harness.with(config: e2eConfig) { h in
            for model in ["gpt-4o-mini", "claude"] {
                let reply = try await h.send(
                    "/v1/messages", json: Self.request.replacingOccurrences(of: "MODEL", with: model), key: nil,
                    headers: [("x-api-key", Harness.master), ("anthropic-version", "2023-06-01")])
                #expect(reply.status == 200, "\(reply.text)")
                #expect(reply.json?["type"] == "message" && reply.json?["role"] == "assistant")
                #expect(reply.json?["content"]?.arrayValue?.first?["text"]?.stringValue == MockUpstream.text)
                #expect(reply.json?["stop_reason"] == "end_turn")
                #expect((reply.json?["usage"]?["output_tokens"]?.intValue ?? 0) > 0)
                #expect(Double(reply.headers.first(name: "x-spanway-response-cost") ?? "") != nil)

                let streamed = try await h.send(
                    "/v1/messages",
                    json: Self.request.replacingOccurrences(of: "MODEL", with: model).replacingOccurrences(
                        of: #""max_tokens":100"#, with: #""max_tokens":100,"stream":true"#))
                #expect(streamed.status == 200)
                let events = streamed.text.components(separatedBy: "\n\n").compactMap { $0.split(separator: "\n").first }
                #expect(events.first == "event: message_start" && events.last == "event: message_stop", "\(streamed.text)")
                #expect(events.contains("event: content_block_delta") && events.contains("event: message_delta"))
                let deltas = ssePayloadsOfEvents(streamed.text).compactMap { try? JSONParser.parse($0) }
                #expect(deltas.compactMap { $0["delta"]?["text"]?.stringValue }.joined() == MockUpstream.text)
                #expect((deltas.last { $0["type"] == "message_delta" }?["usage"]?["output_tokens"]?.intValue ?? 0) > 0)
            }

            let limited = try await h.send("/v1/messages", json: Self.request.replacingOccurrences(of: "MODEL", with: "e429"))
            #expect(limited.status == 429 && limited.json?["type"] == "error")
            #expect(limited.json?["error"]?["type"] == "rate_limit_error")
            let invalid = try await h.send("/v1/messages", json: #"{"model":"claude","messages":[]}"#)
            #expect(invalid.status == 400 && invalid.json?["error"]?["type"] == "invalid_request_error")
            #expect(invalid.json?["error"]?["message"]?.stringValue?.contains("max_tokens") == true)
            let anonymous = try await h.send("/v1/messages", json: Self.request, key: nil)
            #expect(anonymous.status == 401 && anonymous.json?["error"]?["type"] == "authentication_error")

            try await h.eventually("server spans for /v1/messages, answered and refused") {
                let spans = h.receiver.spans.filter {
                    $0.kind == .server && $0[attribute: "http.route"]?.stringValue == "/v1/messages"
                }
                return spans.count == 7
            }
        }
    }
}

/// The `data:` payloads of a stream of named events.
func ssePayloadsOfEvents(_ text: String) -> [String] {
    text.components(separatedBy: "\n\n").compactMap { frame in
        frame.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }
}
