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
            chat.body = try ResponsesInbound.chatRequest(from: request.body, history: request.responses?.history ?? [])
            // The gateway keeps `parallel_tool_calls: false` itself; a provider that takes it is told too.
            if ResponsesInbound.singleCall(request.body), chat.body["tools"] != nil,
                deployment.adapter.takesParallelToolCallsOff
            {
                chat.body["parallel_tool_calls"] = false
            }
        default:
            throw .notServed(request.operation, model: request.model)
        }
        let reply = try await send(chat, to: deployment, timeout: timeout, attempt: attempt, exchange: exchange)
        if request.operation == .responses { return responses.translated(reply, of: request, from: deployment) }
        return Self.completionsReply(reply, of: request)
    }

    /// A chat answer as the legacy completions answer (`text_completion`), streamed or not.
    static func completionsReply(_ reply: GatewayReply, of request: OpenAIRequest) -> GatewayReply {
        let echo = CompletionsInbound.echoPrefix(of: request.body)
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

    /// Speech: the upstream's audio relayed as it arrives, with its content type, under the same
    /// watchdog as a chat stream (a stalled upstream, a client that stops reading, the stream's
    /// time limit); priced by the characters of `input`, or by its estimated tokens for a model
    /// priced per token. Settles once, however the relay ends.
    func audioReply(
        _ response: UpstreamResponse, request: OpenAIRequest, deployment: Deployment, attempt: Attempt, exchange: Exchange,
        chunkTimeout: Duration
    ) -> GatewayReply {
        let text = request.body["input"]?.stringValue ?? ""
        let perCharacter = deployment.price?.inputCostPerCharacter != nil
        let reply = ProviderReply(
            body: [],
            usage: perCharacter
                ? nil : Usage(inputTokens: prompts.inputTokens(request, deployment: deployment.config).tokens, outputTokens: 0),
            responseID: nil, responseModel: nil, finishReasons: [], units: BilledUnits(characters: text.count))
        let cost = deployment.price?.cost(of: reply.usage, units: reply.units)
        let contentType = response.headers.first(name: "content-type") ?? "application/octet-stream"
        let limits = config.serverLimits
        @Sendable func settle(_ interruption: Interruption?) async {
            guard let interruption else {
                attempt.succeeded(reply, cost: cost)
                await settlement.settle(exchange, status: 200)
                return
            }
            attempt.interrupted(interruption.error, reply: reply, cost: cost, estimated: !perCharacter)
            await self.settle(exchange, interruptedBy: interruption)
        }
        let stream = ReplyStream(
            run: { write in
                let watch = StreamWatch(limits: limits, chunkTimeout: chunkTimeout)
                let watchedWrite = watch.watched(write)
                let outcome: Interruption?? = await watch.run {
                    var first = true
                    do {
                        for try await buffer in watch.timed(response.body) {
                            if first {
                                attempt.firstChunk()
                                first = false
                            }
                            do { try await watchedWrite(buffer) } catch { return .some(.clientGone) }
                        }
                        return .some(nil)
                    } catch is CancellationError {
                        return nil  // the watchdog's, or the client's: told apart below
                    } catch {
                        return .some(
                            .upstream(
                                .upstreamUnavailable(
                                    "The upstream connection failed mid-stream.", errorType: "stream_interrupted")))
                    }
                }
                let interruption: Interruption? =
                    switch (outcome, watch.expired) {
                    case (_, .maxDuration):
                        .timeLimit(.timeout("The stream ran longer than the gateway's limit of \(limits.maxStreamDuration)."))
                    case (_, .upstreamStalled): .upstream(.upstreamTimeout(limit: chunkTimeout, taken: chunkTimeout))
                    case (_, .writeStalled), (nil, nil): .clientGone
                    case (.some(let ending), nil): ending
                    }
                await settle(interruption)
                if case .clientGone = interruption { return .clientGone }
                return .finished(trailers: [])
            },
            abandoned: { await settle(.clientGone) })
        return GatewayReply(
            status: 200, headers: ReplyHeaders.of(exchange, cost: cost ?? 0) + [("content-type", contentType)],
            body: .stream(stream))
    }
}
