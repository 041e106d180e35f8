import GatewayTesting
import Hummingbird
import NIOCore
import Synchronization
import Telemetry

/// The one OpenAI-compatible upstream every replica of a test calls: it sees all their traffic,
/// so what reaches a deployment is counted here, independently of the gateways. The upstream
/// model picks the behaviour:
/// - `quick`: answers at once with `promptTokens` and `completionTokens` of usage.
/// - `held`: waits for `release()`, then answers as `quick`; counts how many wait at once.
/// - `failing`: answers 500.
final class ReplicaUpstream: Sendable {
    static let promptTokens = 10
    static let completionTokens = 5

    private struct State {
        var received: [String: Int] = [:]
        var holding = 0
        var mostHeld = 0
    }

    private let state = Mutex(State())
    private let held = Gate()
    /// Yields once for each `held` request, when it arrives (before it waits).
    let heldArrivals: AsyncStream<Void>
    private let heldArrived: AsyncStream<Void>.Continuation

    init() {
        (heldArrivals, heldArrived) = AsyncStream.makeStream()
    }

    /// How many requests for `model` arrived, from every replica.
    func received(_ model: String) -> Int { state.withLock { $0.received[model, default: 0] } }
    /// `held` requests waiting now.
    var holding: Int { state.withLock { $0.holding } }
    /// The most `held` requests that ever waited at once.
    var mostHeld: Int { state.withLock { $0.mostHeld } }

    /// Lets every waiting and later `held` request answer.
    func release() { held.open() }

    /// Serves this upstream on a loopback port for `body`. The gate is opened before the server
    /// stops, however `body` ends: a held request would otherwise keep the server from stopping.
    func serve(_ body: (Int) async throws -> Void) async throws {
        try await withTestServer(router()) { port in
            do {
                try await body(port)
            } catch {
                release()
                throw error
            }
            release()
        }
    }

    private func hold() async {
        state.withLock { state in
            state.holding += 1
            state.mostHeld = max(state.mostHeld, state.holding)
        }
        heldArrived.yield()
        await held.wait()
        state.withLock { $0.holding -= 1 }
    }

    static func answer(model: String) -> ByteBuffer {
        let body: JSONValue = .object([
            "id": "chatcmpl-replica", "object": "chat.completion", "created": .int(1_700_000_000), "model": .string(model),
            "choices": .array([
                .object([
                    "index": .int(0), "message": .object(["role": "assistant", "content": "hello"]),
                    "finish_reason": "stop",
                ])
            ]),
            "usage": .object([
                "prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
                "total_tokens": .int(promptTokens + completionTokens),
            ]),
        ])
        return ByteBuffer(bytes: body.encoded())
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let model = (try? JSONParser.parse(Array(body.readableBytesView)))?["model"]?.stringValue ?? ""
            self.state.withLock { $0.received[model, default: 0] += 1 }
            let headers: HTTPFields = [.contentType: "application/json"]
            switch model {
            case "failing":
                let error = #"{"error":{"message":"upstream failure","type":"server_error","param":null,"code":null}}"#
                return Response(
                    status: .internalServerError, headers: headers, body: .init(byteBuffer: ByteBuffer(string: error)))
            case "held":
                await self.hold()
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: Self.answer(model: model)))
            default:
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: Self.answer(model: model)))
            }
        }
        return router
    }
}
