import Evaluations
import Synchronization
import Telemetry

/// An `EvalTarget` for runner tests: answers each request with what `respond` says (usually
/// looked up by model), records every request, counts those in flight, and — while `holding` —
/// keeps each request waiting until the test lets it go, so a test can see what the runner does
/// with requests outstanding without sleeping.
final class FakeEvalTarget: EvalTarget {
    /// One request as the fake received it.
    struct Sent: Sendable {
        var body: JSONObject
        var headers: [(String, String)]
        var stream: Bool
        /// 0-based, in the order requests arrived.
        var number: Int

        var model: String { body["model"]?.stringValue ?? "" }

        func header(_ name: String) -> String? { headers.last { $0.0.lowercased() == name }?.1 }

        /// Every message's text, for answers that depend on the prompt (a judge).
        var promptText: String {
            (body["messages"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue }.joined(separator: "\n")
        }
    }

    /// Answers one request; `firstChunk` stands for the first bytes of the body arriving.
    typealias Responder = @Sendable (_ request: Sent, _ firstChunk: @Sendable () -> Void) -> EvalResponse

    private struct State {
        var sent: [Sent] = []
        var inFlight = 0
        var mostInFlight = 0
        var holding: Bool
        var held: [CheckedContinuation<Void, Never>] = []
        /// Releases asked for before the request they free had started waiting.
        var credits = 0
    }

    private let respond: Responder
    private let state: Mutex<State>
    /// Every request, as it arrives (before it is held).
    let arrivals: AsyncStream<Sent>
    private let arrived: AsyncStream<Sent>.Continuation

    init(holding: Bool = false, respond: @escaping Responder) {
        self.respond = respond
        self.state = Mutex(State(holding: holding))
        (arrivals, arrived) = AsyncStream<Sent>.makeStream()
    }

    /// A fake whose every model answers `text` (per model), with usage and a cost header.
    convenience init(holding: Bool = false, answers: [String: String]) {
        self.init(holding: holding) { request, _ in
            .completion(answers[request.model] ?? "", stream: request.stream)
        }
    }

    func send(_ request: EvalRequest, firstChunk: @escaping @Sendable () -> Void) async -> EvalResponse {
        let body = (try? JSONParser.parse(request.body))?.objectValue ?? [:]
        let sent = state.withLock { state in
            let sent = Sent(body: body, headers: request.headers, stream: request.stream, number: state.sent.count)
            state.sent.append(sent)
            state.inFlight += 1
            state.mostInFlight = max(state.mostInFlight, state.inFlight)
            return sent
        }
        arrived.yield(sent)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let go = state.withLock { state -> Bool in
                guard state.holding else { return true }
                if state.credits > 0 {
                    state.credits -= 1
                    return true
                }
                state.held.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
        let response = respond(sent, firstChunk)
        state.withLock { $0.inFlight -= 1 }
        return response
    }

    /// Lets the oldest held request go (or the next one to arrive, when none is held yet).
    func releaseOne() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.held.isEmpty else {
                state.credits += 1
                return nil
            }
            return state.held.removeFirst()
        }
        next?.resume()
    }

    /// Stops holding: every held request goes, and later ones are not held.
    func releaseAll() {
        let held = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    var sent: [Sent] { state.withLock { $0.sent } }
    var inFlight: Int { state.withLock { $0.inFlight } }
    var mostInFlight: Int { state.withLock { $0.mostInFlight } }
}

extension EvalResponse {
    /// A 200 answer with `text`, usage 10 in and 2 out, and a cost of `price`: a completion, or a
    /// stream of one chunk per character, the usage chunk and `[DONE]`.
    static func completion(_ text: String, stream: Bool, price: String = "0.001") -> EvalResponse {
        let usage: JSONValue = .object(["prompt_tokens": .int(10), "completion_tokens": .int(2)])
        var body: [UInt8]
        if stream {
            body = []
            for character in text {
                let chunk: JSONValue = .object([
                    "choices": .array([.object(["index": .int(0), "delta": .object(["content": .string(String(character))])])])
                ])
                body += Array("data: ".utf8) + chunk.encoded() + Array("\n\n".utf8)
            }
            let last: JSONValue = .object(["choices": .array([]), "usage": usage])
            body += Array("data: ".utf8) + last.encoded() + Array("\n\ndata: [DONE]\n\n".utf8)
        } else {
            let object: JSONValue = .object([
                "choices": .array([
                    .object(["index": .int(0), "message": .object(["role": "assistant", "content": .string(text)])])
                ]),
                "usage": usage,
            ])
            body = object.encoded()
        }
        // A stream's cost comes after its body, as a trailer; a completion's is a header.
        let cost = [("x-spanway-response-cost", price)]
        return EvalResponse(
            status: 200, headers: [("content-type", stream ? "text/event-stream" : "application/json")] + (stream ? [] : cost),
            body: body, trailers: stream ? cost : [])
    }

    /// An OpenAI-shaped error.
    static func error(status: Int, type: String, code: String?, message: String = "refused") -> EvalResponse {
        let error: JSONValue = .object([
            "error": .object([
                "message": .string(message), "type": .string(type), "param": .null,
                "code": code.map(JSONValue.string) ?? .null,
            ])
        ])
        return EvalResponse(status: status, headers: [("content-type", "application/json")], body: error.encoded())
    }
}
