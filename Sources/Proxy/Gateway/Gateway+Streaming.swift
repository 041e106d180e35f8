import NIOCore
import Telemetry

extension Gateway {
    /// Relays a provider stream to the client chunk by chunk as it arrives. Usage is always asked
    /// of the upstream and read here; the client sees the usage chunk only if it asked for it.
    /// `[DONE]` is sent last, after the ledger has the request.
    /// A client that goes away cancels the upstream request, and the span says so.
    func streamReply(
        _ response: UpstreamResponse, request: OpenAIRequest, deployment: Deployment, attempt: Attempt,
        exchange: Exchange
    ) -> GatewayReply {
        let headers =
            responseHeaders(exchange, cost: nil) + [
                ("content-type", "text/event-stream"), ("cache-control", "no-cache"),
                ("trailer", "x-spanway-response-cost"),
            ]
        let stream = ReplyStream { write in
            var relay = StreamRelay(
                decoder: deployment.adapter.makeStreamDecoder(for: request), forwardUsage: request.clientWantsStreamUsage,
                captureText: exchange.capturesContent)
            let ending = await relay.run(response.body, attempt: attempt, write: write)
            let reply = relay.reply
            var cost = 0.0
            switch ending {
            case .completed:
                cost = reply.usage.flatMap { deployment.price?.cost(of: $0) } ?? 0
                exchange.captureOutput {
                    relay.capturedText.map { .array([.object(["role": "assistant", "content": .string($0)])]) }
                }
                attempt.succeeded(reply, cost: cost)
                await self.settle(exchange, status: 200)
            case .upstreamFailed(let error):
                attempt.failed(error)
                await self.settle(exchange, status: 200, error: error)
                // The error event ends the stream: no `[DONE]` after it (providers.md §9.4).
                return [("x-spanway-response-cost", Self.formatCost(0))]
            case .clientGone:
                attempt.failed(GatewayError(
                    status: 499, type: "api_error", message: "The client closed the connection mid-stream.",
                    errorType: "client_disconnected"))
                await self.settle(exchange, status: 499, clientDisconnected: true)
                return []
            }
            // The last chunk goes out only after the ledger row is committed.
            try? await write(ByteBuffer(bytes: Array("data: [DONE]\n\n".utf8)))
            return [("x-spanway-response-cost", Self.formatCost(cost))]
        }
        return GatewayReply(status: 200, headers: headers, body: .stream(stream))
    }
}

/// The state of one relayed stream: what has been learned from the chunks so far.
struct StreamRelay {
    enum Ending {
        case completed
        case upstreamFailed(GatewayError)
        case clientGone
    }

    private struct ClientGone: Error {}

    var decoder: any ChatStreamDecoder
    let forwardUsage: Bool
    private(set) var reply = ProviderReply(body: [], usage: nil, responseID: nil, responseModel: nil, finishReasons: [])
    private var finishReasons: [Int: String] = [:]
    private var midStreamError: GatewayError?
    /// The decoder saw the provider's end of stream; a connection that closes before it was cut off.
    private var sawEnd = false
    /// The answer's text (first choice), gathered only when content capture is on.
    private(set) var capturedText: String?

    init(decoder: any ChatStreamDecoder, forwardUsage: Bool, captureText: Bool = false) {
        self.decoder = decoder
        self.forwardUsage = forwardUsage
        self.capturedText = captureText ? "" : nil
    }

    mutating func run(
        _ body: any AsyncSequence<ByteBuffer, any Error>, attempt: Attempt, write: (ByteBuffer) async throws -> Void
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

    private mutating func send(_ chunks: [StreamChunk], _ write: (ByteBuffer) async throws -> Void) async throws {
        var out: [UInt8] = []
        for chunk in chunks {
            switch chunk {
            case .done:
                // Held back: the gateway sends `[DONE]` once the request is settled.
                sawEnd = true
            case .chunk(let object, let raw):
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
            midStreamError = GatewayError(
                status: 502, type: error["type"]?.stringValue ?? "api_error",
                message: SecretRedactor.scrub(error["message"]?.stringValue ?? "The upstream failed mid-stream."),
                code: error["code"]?.stringValue, errorType: error["code"]?.stringValue ?? "stream_error")
            return raw
        }
        if reply.responseID == nil { reply.responseID = object["id"]?.stringValue }
        if reply.responseModel == nil { reply.responseModel = object["model"]?.stringValue }
        let choices = object["choices"]?.arrayValue ?? []
        for choice in choices {
            if let reason = choice["finish_reason"]?.stringValue {
                finishReasons[choice["index"]?.intValue ?? 0] = reason
            }
            if let length = capturedText?.utf8.count, length < ContentRedactor.maxStringBytes,
                (choice["index"]?.intValue ?? 0) == 0, let delta = choice["delta"]?["content"]?.stringValue
            {
                capturedText?.append(delta)
            }
        }
        guard let usageValue = object["usage"], !usageValue.isNull else { return raw }
        reply.usage = OpenAIAdapter.usage(usageValue)
        if forwardUsage { return raw }
        // The client did not ask for usage: drop a usage-only chunk, strip usage from any other.
        if choices.isEmpty { return nil }
        var stripped = object
        stripped["usage"] = nil
        return JSONValue.object(stripped).encoded()
    }

    private func sendError(_ error: GatewayError, _ write: (ByteBuffer) async throws -> Void) async {
        let frame = Array("data: ".utf8) + error.body.encoded() + Array("\n\n".utf8)
        try? await Self.write(frame, write)
    }

    private static func write(_ bytes: [UInt8], _ write: (ByteBuffer) async throws -> Void) async throws {
        do {
            try await write(ByteBuffer(bytes: bytes))
        } catch {
            throw ClientGone()
        }
    }
}
