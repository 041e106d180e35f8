import Foundation
import Telemetry
import Testing

@testable import Proxy

/// `litellm_settings.turn_off_message_logging`: no prompt or answer reaches a callback sink, even
/// where `capture_content` (gateway-wide and a team's) asks for it. The same config without the
/// setting delivers the prompt, so the check below would notice if capture stopped altogether.
@Suite(.serialized, .timeLimit(.minutes(3))) struct MessageLoggingTests {
    static let prompt = "the-secret-recipe-is-cardamom"

    @Test(arguments: [true, false]) func callbackSinksReceiveNoMessageContent(turnedOff: Bool) async throws {
        let config =
            CallbackSinkTests.models + """
                litellm_settings:
                  callbacks: ["generic_api"]
                  turn_off_message_logging: \(turnedOff)
                  default_team_settings: [{team_id: research, capture_content: true}]
                spanway_settings: {capture_content: true}
                """
        try await Harness.with(config: config, environment: CallbackSinkTests.env) { h in
            let key = try await CallbackSinkTests().key(h, team: "research", alias: "notebook")
            let reply = try await h.send(
                "/v1/chat/completions",
                json: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\#(Self.prompt)"}]}"#, key: key)
            #expect(reply.status == 200)
            let answer = try #require(reply.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue)
            try await h.eventually("the payload arrived") {
                !h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }.isEmpty
            }
            let everything = h.hooks.everything
            #expect(everything.contains(Self.prompt) == !turnedOff)
            #expect(everything.contains(answer) == !turnedOff)
            let payloads: [JSONValue] = h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }
            let payload = try #require(payloads.first)
            if turnedOff {
                #expect(payload["messages"] == .null && (payload["response"] == nil || payload["response"] == .null))
            }
        }
    }
}
