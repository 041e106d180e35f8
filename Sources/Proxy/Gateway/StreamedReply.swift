import NIOCore
import Telemetry

extension AttemptLoop {
    /// Relays a provider stream to the client chunk by chunk as it arrives. Usage is always asked
    /// of the upstream and read here; the client sees the usage chunk only if it asked for it.
    /// `[DONE]` is sent last, after the ledger has the request.
    ///
    /// The request settles exactly once, however the stream ends: completed, failed upstream,
    /// cut off by the client (a reset, or a client that stops reading), out of time, or never
    /// run at all (the client reset before the response head). An interrupted answer is charged
    /// for what was used: the prompt and the output relayed so far.
    func streamReply(
        _ response: UpstreamResponse, request: OpenAIRequest, deployment: Deployment, attempt: Attempt,
        exchange: Exchange, chunkTimeout: Duration? = nil
    ) -> GatewayReply {
        let headers =
            ReplyHeaders.of(exchange, cost: nil) + [
                ("content-type", "text/event-stream"), ("cache-control", "no-cache"),
                ("trailer", "x-spanway-response-cost"),
            ]
        let relay = StreamRelay(
            decoder: deployment.adapter.makeStreamDecoder(for: request), forwardUsage: request.clientWantsStreamUsage,
            captureText: exchange.capturesContent, price: deployment.price)
        // Counted only if the stream ends without the provider's usage: most never need it.
        let prompts = prompts
        let promptTokens: @Sendable () -> Int = { prompts.inputTokens(request, deployment: deployment.config).tokens }
        let limits = config.serverLimits
        let stream = ReplyStream(
            run: { write in
                let watch = StreamWatch(limits: limits, chunkTimeout: chunkTimeout)
                let watchedWrite = watch.watched(write)
                let (relay, ending) = await watch.run {
                    var relay = relay
                    let ending = await relay.run(watch.timed(response.body), attempt: attempt, write: watchedWrite)
                    return (relay, ending)
                }
                let reply = relay.reply
                switch (ending, watch.expired) {
                case (.completed, _):
                    // Nil when the deployment has no price: counted as unpriced, charged 0.
                    let cost = deployment.price?.cost(of: reply.usage, units: reply.units)
                    exchange.captureOutput {
                        relay.capturedText.map { .array([.object(["role": "assistant", "content": .string($0)])]) }
                    }
                    attempt.succeeded(reply, cost: cost)
                    await settlement.settle(exchange, status: 200)
                    // Kept before its terminal event goes out, so the client's next turn finds it
                    // (on this replica at once; on the others once the store write lands).
                    if let response = relay.finalResponse {
                        responses.keep(response, of: request, from: deployment, native: true)
                    }
                    // The last chunk goes out only after the ledger row is committed.
                    await watch.finalWrite(relay.lastFrame, with: write)
                    return .finished(trailers: [("x-spanway-response-cost", ReplyHeaders.formatCost(cost ?? 0))])
                case (_, .maxDuration), (_, .upstreamStalled):
                    // Cut off by the watchdog: whatever the relay saw was the cancellation.
                    let error =
                        watch.expired == .upstreamStalled
                        ? GatewayError.upstreamTimeout(limit: chunkTimeout ?? .zero, taken: chunkTimeout ?? .zero)
                        : GatewayError.timeout("The stream ran longer than the gateway's limit of \(limits.maxStreamDuration).")
                    await watch.finalWrite(relay.errorEvent(error), with: write)
                    let cost = await self.settleInterrupted(
                        relay, by: .timeLimit(error), promptTokens: promptTokens, deployment: deployment, attempt: attempt,
                        exchange: exchange)
                    return .finished(trailers: [("x-spanway-response-cost", ReplyHeaders.formatCost(cost))])
                case (.clientGone, _), (_, .writeStalled):
                    await self.settleInterrupted(
                        relay, by: .clientGone, promptTokens: promptTokens, deployment: deployment, attempt: attempt,
                        exchange: exchange)
                    return .clientGone
                case (.upstreamFailed(let error), nil):
                    let cost = await self.settleInterrupted(
                        relay, by: .upstream(error), promptTokens: promptTokens, deployment: deployment, attempt: attempt,
                        exchange: exchange)
                    // The error event ends the stream: no `[DONE]` after it, as OpenAI's own streams end.
                    return .finished(trailers: [("x-spanway-response-cost", ReplyHeaders.formatCost(cost))])
                }
            },
            abandoned: {
                await self.settleInterrupted(
                    relay, by: .clientGone, promptTokens: promptTokens, deployment: deployment, attempt: attempt,
                    exchange: exchange)
            })
        return GatewayReply(status: 200, headers: headers, body: .stream(stream))
    }

    /// Why a stream ended before its end.
    enum Interruption {
        /// The client reset, closed, or stopped reading (or left before the response head).
        case clientGone
        /// `max_stream_duration` passed.
        case timeLimit(GatewayError)
        /// The upstream broke off or sent an error.
        case upstream(GatewayError)

        var error: GatewayError {
            switch self {
            case .clientGone:
                GatewayError(
                    .clientClosed, "The client closed the connection before the answer ended.", label: "client_disconnected")
            case .timeLimit(let error), .upstream(let error): error
            }
        }
    }

    /// Settles a stream that did not complete, charging what it used: the provider's usage if it
    /// arrived, else the estimated prompt and the output relayed so far (marked estimated). A
    /// stream the upstream broke off before any output is not charged (providers do not bill a
    /// failed call); one the client or a limit cut off is. Returns the cost charged.
    @discardableResult
    func settleInterrupted(
        _ relay: StreamRelay, by interruption: Interruption, promptTokens: () -> Int, deployment: Deployment, attempt: Attempt,
        exchange: Exchange
    ) async -> Double {
        var reply = relay.reply
        var charged = true
        if case .upstream = interruption, relay.relayedTextBytes == 0 { charged = false }
        let estimated = reply.usage == nil && charged
        if estimated {
            reply.usage = Usage(inputTokens: promptTokens(), outputTokens: relay.estimatedOutputTokens)
        }
        let cost = deployment.price?.cost(of: reply.usage, units: reply.units)
        let error = interruption.error
        attempt.interrupted(error, reply: reply, cost: cost, estimated: estimated)
        logger.info(
            "stream interrupted",
            metadata: [
                "request_id": "\(exchange.requestID)", "error_type": "\(error.errorType)", "spend": "\(cost ?? 0)",
                "usage_estimated": "\(estimated)",
            ])
        await settle(exchange, interruptedBy: interruption)
        return cost ?? 0
    }

    /// Settles a streamed answer that did not complete: 499 when the client left; otherwise the
    /// response head (200) is out and the error travelled in the stream.
    func settle(_ exchange: Exchange, interruptedBy interruption: Interruption) async {
        if case .clientGone = interruption {
            await settlement.settle(exchange, status: 499, error: interruption.error, clientDisconnected: true)
        } else {
            await settlement.settle(exchange, status: 200, error: interruption.error)
        }
    }
}

/// The state of one relayed stream: what has been learned from the chunks so far.
struct StreamRelay: Sendable {
    enum Ending {
        case completed
        case upstreamFailed(GatewayError)
        case clientGone
    }

    private struct ClientGone: Error {}

    var decoder: any ChatStreamDecoder
    let forwardUsage: Bool
    /// Prices the usage chunk the client gets: `usage.cost` (USD), as LiteLLM's streams carry it,
    /// since SDKs cannot read the cost trailer.
    let price: ModelPrice?
    private(set) var reply = ProviderReply(body: [], usage: nil, responseID: nil, responseModel: nil, finishReasons: [])
    private var finishReasons: [Int: String] = [:]
    private var midStreamError: GatewayError?
    /// The decoder saw the provider's end of stream; a connection that closes before it was cut off.
    private var sawEnd = false
    /// A Responses stream's terminal event, held back like `[DONE]` until the request is settled.
    private var terminalEvent: [UInt8]?
    /// The `response` that event carries: the answer the gateway keeps of a native Responses stream.
    private(set) var finalResponse: JSONObject?
    /// In a typed stream, the `sequence_number` an event the gateway adds gets (the Responses
    /// API numbers its events); nil in a chat stream.
    private var nextSequence: Int?

    /// What ends the client's stream once the request is settled: `[DONE]`, or the held
    /// terminal event of a Responses stream (which has no `[DONE]`).
    var lastFrame: [UInt8] { terminalEvent ?? Array("data: [DONE]\n\n".utf8) }
    /// The answer's text (first choice), gathered only when content capture is on.
    private(set) var capturedText: String?
    /// Bytes of generated text relayed so far (content, reasoning, tool-call arguments, every
    /// choice): what an interrupted stream is charged for when the provider's usage never came.
    private(set) var relayedTextBytes = 0

    /// Output tokens in the relayed text, at the gateway's usual estimate of four bytes a token.
    var estimatedOutputTokens: Int {
        (relayedTextBytes + PreCallCheck.bytesPerToken - 1) / PreCallCheck.bytesPerToken
    }

    init(decoder: any ChatStreamDecoder, forwardUsage: Bool, captureText: Bool = false, price: ModelPrice? = nil) {
        self.decoder = decoder
        self.forwardUsage = forwardUsage
        self.price = price
        self.capturedText = captureText ? "" : nil
    }

    mutating func run(
        _ body: any AsyncSequence<ByteBuffer, any Error>, attempt: Attempt, write: ReplyStream.Write
    ) async -> Ending {
        do {
            for try await buffer in body {
                let chunks = try decoder.feed(buffer)
                if !chunks.isEmpty {
                    attempt.firstChunk()
                    try await send(chunks, write)
                }
            }
            try await send(try decoder.finish(), write)
        } catch is ClientGone {
            return .clientGone
        } catch let error as GatewayError {
            await sendError(error, write)
            return .upstreamFailed(error)
        } catch is CancellationError {
            return .clientGone
        } catch {
            let failure = GatewayError.upstreamUnavailable(
                "The upstream connection failed mid-stream.", errorType: "stream_interrupted")
            await sendError(failure, write)
            return .upstreamFailed(failure)
        }
        reply.finishReasons = finishReasons.sorted { $0.key < $1.key }.map(\.value)
        if let midStreamError { return .upstreamFailed(midStreamError) }
        guard sawEnd else {
            let cutOff = GatewayError.badUpstreamResponse("The upstream stream ended before it was complete.")
            await sendError(cutOff, write)
            return .upstreamFailed(cutOff)
        }
        return .completed
    }

    private mutating func send(_ chunks: [StreamChunk], _ write: ReplyStream.Write) async throws {
        var out: [UInt8] = []
        for chunk in chunks {
            switch chunk {
            case .done:
                // Held back: the gateway sends `[DONE]` once the request is settled.
                sawEnd = true
            case .chunk(let object, let raw):
                // A typed event (Responses, images, transcripts): named, and read for what a
                // chat chunk says. The terminal one waits for the settlement.
                if let type = object["type"]?.stringValue, object["object"] == nil {
                    let frame = Array("event: \(type)\ndata: ".utf8) + raw + Array("\n\n".utf8)
                    if observeTypedEvent(type, object) {
                        // One image of several is done: the one before it goes out.
                        if let held = terminalEvent { out += held }
                        terminalEvent = frame
                    } else {
                        out += frame
                    }
                    continue
                }
                guard let payload = observe(object, raw: raw) else { continue }
                out += Array("data: ".utf8)
                out += payload
                out += Array("\n\n".utf8)
            }
        }
        if !out.isEmpty { try await Self.write(out, write) }
    }

    /// Reads a chunk for the span; returns what the client should get (nil: nothing).
    private mutating func observe(_ object: JSONObject, raw: [UInt8]) -> [UInt8]? {
        if let error = object["error"], !error.isNull {
            midStreamError = Self.midStreamError(error)
            return raw
        }
        if reply.responseID == nil { reply.responseID = object["id"]?.stringValue }
        if reply.responseModel == nil { reply.responseModel = object["model"]?.stringValue }
        let choices = object["choices"]?.arrayValue ?? []
        for choice in choices {
            if let reason = choice["finish_reason"]?.stringValue {
                finishReasons[choice["index"]?.intValue ?? 0] = reason
            }
            let delta = choice["delta"]
            // A legacy completion's chunk carries `text`, not a delta.
            relayedTextBytes += choice["text"]?.stringValue?.utf8.count ?? 0
            relayedTextBytes += delta?["content"]?.stringValue?.utf8.count ?? 0
            relayedTextBytes += delta?["reasoning_content"]?.stringValue?.utf8.count ?? 0
            for call in delta?["tool_calls"]?.arrayValue ?? [] {
                relayedTextBytes += call["function"]?["arguments"]?.stringValue?.utf8.count ?? 0
            }
            if let length = capturedText?.utf8.count, length < ContentRedactor.maxStringBytes,
                (choice["index"]?.intValue ?? 0) == 0, let delta = choice["delta"]?["content"]?.stringValue
            {
                capturedText?.append(delta)
            }
        }
        guard let usageValue = object["usage"], !usageValue.isNull else { return raw }
        reply.usage = CanonicalUsage.parse(usageValue)
        if forwardUsage {
            // Like LiteLLM, only a cost above zero is added.
            guard let usage = reply.usage, let cost = price?.cost(of: usage), cost > 0, var priced = usageValue.objectValue
            else { return raw }
            priced["cost"] = .double(cost)
            var chunk = object
            chunk["usage"] = .object(priced)
            return JSONValue.object(chunk).encoded()
        }
        // The client did not ask for usage: drop a usage-only chunk, strip usage from any other.
        if choices.isEmpty { return nil }
        var stripped = object
        stripped["usage"] = nil
        return JSONValue.object(stripped).encoded()
    }

    /// Reads one event of a native typed stream (Responses, images, transcripts); true for a
    /// terminal event (`response.completed` or `.incomplete`, `image_generation.completed`,
    /// `transcript.text.done`), which carries the usage and ends the stream (or its image).
    private mutating func observeTypedEvent(_ type: String, _ object: JSONObject) -> Bool {
        nextSequence = (object["sequence_number"]?.intValue).map { $0 + 1 } ?? nextSequence ?? 0
        let response = object["response"]
        if reply.responseID == nil { reply.responseID = response?["id"]?.stringValue }
        if reply.responseModel == nil { reply.responseModel = response?["model"]?.stringValue }
        if type.hasSuffix(".delta"), let delta = object["delta"]?.stringValue {
            relayedTextBytes += delta.utf8.count
            if type == "response.output_text.delta", let length = capturedText?.utf8.count,
                length < ContentRedactor.maxStringBytes
            {
                capturedText?.append(delta)
            }
        }
        switch type {
        case "response.completed", "response.incomplete":
            reply.usage = response?["usage"].flatMap(CanonicalUsage.parse)
            finalResponse = response?.objectValue
            finishReasons[0] = response?["status"]?.stringValue ?? "completed"
            sawEnd = true
            return true
        case "image_generation.completed", "transcript.text.done":
            // Several images each end with their own usage: they add up.
            if let usage = object["usage"].flatMap(CanonicalUsage.parse) {
                reply.usage = reply.usage.map { $0.adding(usage) } ?? usage
            }
            if type == "image_generation.completed" { reply.units = BilledUnits(images: (reply.units?.images ?? 0) + 1) }
            sawEnd = true
            return true
        case "response.failed", "error":
            midStreamError = Self.midStreamError(object["error"] ?? response?["error"] ?? .object(object))
            if type == "response.failed" { sawEnd = true }
            return false
        default:
            return false
        }
    }

    /// An error the upstream sent in its stream, in the gateway's terms (its words scrubbed of keys).
    static func midStreamError(_ error: JSONValue) -> GatewayError {
        let code = error["code"]?.stringValue
        return GatewayError(
            .upstream(.badResponse),
            SecretRedactor.scrub(error["message"]?.stringValue ?? "The upstream failed mid-stream."), status: 502,
            detail: .init(type: error["type"]?.stringValue ?? "api_error", code: code), label: code ?? "stream_error")
    }

    /// The gateway's own error in the stream: OpenAI's chunk-stream error, or in a typed stream
    /// (Responses, images, transcripts) an `error` event, numbered after the last one relayed.
    func errorEvent(_ error: GatewayError) -> [UInt8] {
        guard let nextSequence else { return Array("data: ".utf8) + error.body.encoded() + Array("\n\n".utf8) }
        let event: JSONValue = .object([
            "type": "error", "code": error.code.map(JSONValue.string) ?? .string(error.type),
            "message": .string(error.message), "param": error.param.map(JSONValue.string) ?? .null,
            "sequence_number": .int(nextSequence),
        ])
        return Array("event: error\ndata: ".utf8) + event.encoded() + Array("\n\n".utf8)
    }

    private func sendError(_ error: GatewayError, _ write: ReplyStream.Write) async {
        try? await Self.write(errorEvent(error), write)
    }

    private static func write(_ bytes: [UInt8], _ write: ReplyStream.Write) async throws {
        do {
            try await write(ByteBuffer(bytes: bytes))
        } catch {
            throw ClientGone()
        }
    }
}
