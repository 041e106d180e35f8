import NIOCore
import Synchronization
import Telemetry

extension AttemptLoop {
    /// An operation the deployment's provider serves only through chat (Responses, legacy
    /// completions): the request is sent as a chat completion and the answer, streamed or not,
    /// made the operation's again. Errors keep OpenAI's shape, which both APIs share.
    func sendViaChat(
        _ request: OpenAIRequest, to deployment: Deployment, timeout: Duration, attempt: Attempt, exchange: Exchange
    ) async throws(GatewayError) -> GatewayReply {
        var chat = request
        chat.operation = .chat
        switch request.operation {
        case .textCompletion:
            chat.body = try CompletionsInbound.chatRequest(from: request.body)
        case .responses:
            if let previousID = request.body["previous_response_id"]?.stringValue, request.responses?.previous == nil {
                throw .invalidRequest(
                    "Previous response with id '\(previousID)' not found.", param: "previous_response_id",
                    code: "previous_response_not_found")
            }
            chat.body = try ResponsesInbound.chatRequest(from: request.body, history: request.responses?.history ?? [])
        default:
            throw .notServed(request.operation, model: request.model)
        }
        let reply = try await send(chat, to: deployment, timeout: timeout, attempt: attempt, exchange: exchange)
        if request.operation == .responses { return responses.translated(reply, of: request, from: deployment) }
        return Self.completionsReply(reply, of: request)
    }

    /// A chat answer as the legacy completions answer (`text_completion`), streamed or not.
    static func completionsReply(_ reply: GatewayReply, of request: OpenAIRequest) -> GatewayReply {
        let echo = request.body["echo"]?.boolValue == true ? request.body["prompt"].flatMap(Self.promptText) : nil
        var out = reply
        switch reply.body {
        case .bytes(let bytes):
            out.body = .bytes(
                CompletionsInbound.completion(fromChat: (try? JSONParser.parse(bytes)) ?? .null, echo: echo).encoded())
        case .stream(let stream):
            let wantsUsage = request.clientWantsStreamUsage
            out.body = .stream(
                ReplyStream { write in
                    let encoder = Mutex(CompletionsChunkEncoder(echo: echo, clientWantsUsage: wantsUsage))
                    return await stream.run { buffer in
                        let chunks = encoder.withLock { $0.encode(buffer) }
                        if !chunks.isEmpty { try await write(ByteBuffer(bytes: chunks)) }
                    }
                })
        }
        return out
    }

    /// The one prompt string of a completions request (a string, or an array holding one).
    static func promptText(_ prompt: JSONValue) -> String? {
        prompt.stringValue ?? prompt.arrayValue.flatMap { $0.count == 1 ? $0[0].stringValue : nil }
    }

    /// Speech: the upstream's audio relayed as it arrives, with its content type; priced by the
    /// characters of `input`. Settles once, however the relay ends.
    func audioReply(
        _ response: UpstreamResponse, request: OpenAIRequest, deployment: Deployment, attempt: Attempt, exchange: Exchange
    ) -> GatewayReply {
        let characters = request.body["input"]?.stringValue?.count ?? 0
        let reply = ProviderReply(
            body: [], usage: nil, responseID: nil, responseModel: nil, finishReasons: [],
            units: BilledUnits(characters: characters))
        let cost = deployment.price?.cost(of: nil, units: reply.units)
        let contentType = response.headers.first(name: "content-type") ?? "application/octet-stream"
        let settled = Mutex(false)
        @Sendable func settle(_ error: GatewayError?, status: Int) async {
            guard
                settled.withLock({ was in
                    defer { was = true }; return !was
                })
            else { return }
            if let error {
                attempt.interrupted(error, reply: reply, cost: cost, estimated: false)
                await settlement.settle(exchange, status: status, error: error, clientDisconnected: status == 499)
            } else {
                attempt.succeeded(reply, cost: cost)
                await settlement.settle(exchange, status: 200)
            }
        }
        let clientGone = GatewayError(
            .clientClosed, "The client closed the connection before the answer ended.", label: "client_disconnected")
        let stream = ReplyStream(
            run: { write in
                var first = true
                do {
                    for try await buffer in response.body {
                        if first {
                            attempt.firstChunk()
                            first = false
                        }
                        do { try await write(buffer) } catch {
                            await settle(clientGone, status: 499)
                            return .clientGone
                        }
                    }
                } catch {
                    // The head is out: the audio ends short, and the span says why.
                    await settle(
                        .upstreamUnavailable("The upstream connection failed mid-stream.", errorType: "stream_interrupted"),
                        status: 200)
                    return .finished(trailers: [])
                }
                await settle(nil, status: 200)
                return .finished(trailers: [])
            },
            abandoned: { await settle(clientGone, status: 499) })
        return GatewayReply(
            status: 200, headers: ReplyHeaders.of(exchange, cost: cost ?? 0) + [("content-type", contentType)],
            body: .stream(stream))
    }
}
