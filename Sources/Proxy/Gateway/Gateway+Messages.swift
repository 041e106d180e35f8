import HTTPTypes
import NIOCore
import Telemetry

extension Gateway {
    /// `POST /v1/messages`: an Anthropic Messages request to any configured model. It runs
    /// through the same pipeline as a chat completion (auth, limits, routing, spans, spend) and
    /// the answer, streamed or not, errors included, is turned back into Anthropic's format.
    public func proxyMessages(body: ByteBuffer, headers: HTTPFields, route: String) async -> GatewayReply {
        let reply = await proxy(.chat, body: body, headers: headers, route: route) { bytes throws(GatewayError) in
            let translated = try AnthropicInbound.chatRequest(from: bytes)
            return try OpenAIRequest(operation: .chat, bytes: JSONValue.object(translated).encoded())
        }
        return Self.anthropicReply(reply)
    }

    static func anthropicReply(_ reply: GatewayReply) -> GatewayReply {
        var out = reply
        switch reply.body {
        case .bytes(let bytes):
            let json = try? JSONParser.parse(bytes)
            let converted = reply.status == 200
                ? AnthropicInbound.message(fromCompletion: json ?? .null)
                : AnthropicInbound.error(fromOpenAI: json, status: reply.status)
            out.body = .bytes(converted.encoded())
        case .stream(let stream):
            out.body = .stream(ReplyStream { write in
                var encoder = AnthropicEventEncoder()
                return await stream.run { buffer in
                    let events = encoder.encode(buffer)
                    if !events.isEmpty { try await write(ByteBuffer(bytes: events)) }
                }
            })
        }
        return out
    }
}
