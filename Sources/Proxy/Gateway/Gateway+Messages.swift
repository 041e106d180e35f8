import HTTPTypes
import NIOCore
import Synchronization
import Telemetry

extension Gateway {
    /// `POST /v1/messages`: an Anthropic Messages request to any configured model. It runs
    /// through the same pipeline as a chat completion (auth, limits, routing, spans, spend) and
    /// the answer, streamed or not, errors included, is turned back into Anthropic's format.
    public func proxyMessages(body: ByteBuffer, headers: HTTPFields, route: String) async -> GatewayReply {
        await proxyMessages(headers: headers, route: route, body: { body })
    }

    /// The same, with the body read only once the caller is authenticated and admitted.
    public func proxyMessages(
        headers: HTTPFields, route: String, body: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        let reply = await flow.run(.chat, headers: headers, route: route, body: body) { bytes throws(GatewayError) in
            let translated = try AnthropicInbound.chatRequest(from: bytes)
            return try OpenAIRequest(operation: .chat, body: translated)
        }
        return Self.anthropicReply(reply)
    }

    static func anthropicReply(_ reply: GatewayReply) -> GatewayReply {
        var out = reply
        switch reply.body {
        case .bytes(let bytes):
            let json = try? JSONParser.parse(bytes)
            let converted =
                reply.status == 200
                ? AnthropicInbound.message(fromCompletion: json ?? .null)
                : AnthropicInbound.error(fromOpenAI: json, status: reply.status)
            out.body = .bytes(converted.encoded())
        case .stream(let stream):
            // The inner stream settles the request if this one is dropped unrun: it is released with it.
            out.body = .stream(
                ReplyStream { write in
                    let encoder = Mutex(AnthropicEventEncoder())
                    return await stream.run { buffer in
                        let events = encoder.withLock { $0.encode(buffer) }
                        if !events.isEmpty { try await write(ByteBuffer(bytes: events)) }
                    }
                })
        }
        return out
    }
}
