import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Telemetry

/// Three models with known behaviour, and a judge, as an OpenAI-compatible upstream for the
/// evaluation tests. Item `n`'s prompt is "Question n" and its right answer is "answer-n".
///
/// - alpha: always right; answers in 100 + 10·n ms; usage 10 in / 5 out.
/// - beta: right on even items, "wrong" on odd ones; 250 + 10·n ms; usage 12 in / 8 out.
/// - gamma: a 500 on odd items, right on even ones; 40 ms; usage 8 in / 4 out.
/// - judge: grades 1 for an answer equal to the reference, 0.25 otherwise; compares by the same
///   rule (a tie when both or neither match); on item 6 it answers prose, not JSON.
///
/// Latency is simulated on `clock` (the evaluation's), advanced before the answer is written,
/// so a run at concurrency 1 measures exactly these latencies with no real waiting.
final class EvalUpstream: Sendable {
    struct Model: Sendable {
        var inputTokens: Int
        var outputTokens: Int
        var inputPrice: Double
        var outputPrice: Double
        var latency: @Sendable (Int) -> Duration
        var answer: @Sendable (Int) -> String?
    }

    static let models: [String: Model] = [
        "alpha": Model(
            inputTokens: 10, outputTokens: 5, inputPrice: 0.000_001, outputPrice: 0.000_002,
            latency: { .milliseconds(100 + 10 * $0) }, answer: { "answer-\($0)" }),
        "beta": Model(
            inputTokens: 12, outputTokens: 8, inputPrice: 0.000_003, outputPrice: 0.000_004,
            latency: { .milliseconds(250 + 10 * $0) }, answer: { $0 % 2 == 0 ? "answer-\($0)" : "wrong" }),
        "gamma": Model(
            inputTokens: 8, outputTokens: 4, inputPrice: 0.000_000_5, outputPrice: 0.000_001,
            latency: { _ in .milliseconds(40) }, answer: { $0 % 2 == 0 ? "answer-\($0)" : nil }),
    ]

    static let judgePrice = 0.000_01

    let clock: ManualClock
    /// Every request's model, in arrival order.
    let seen = Mutex<[String]>([])
    /// When set, requests after the first `holdAfter` wait for `release` (the Ctrl-C test).
    let hold: Hold?

    final class Hold: Sendable {
        let after: Int
        let (released, release) = AsyncStream<Void>.makeStream()
        init(after: Int) { self.after = after }
    }

    init(clock: ManualClock, hold: Hold? = nil) {
        self.clock = clock
        self.hold = hold
    }

    /// The gateway config for the three models and the judge at `base` (`…/v1`).
    static func config(base: String, settings: String = #"{callbacks: ["otel"]}"#) -> String {
        var yaml = "model_list:\n"
        for (name, model) in models.sorted(by: { $0.key < $1.key }) {
            yaml += """
                  - model_name: \(name)
                    litellm_params: {model: openai/\(name), api_base: "\(base)", api_key: sk-upstream, \
                input_cost_per_token: \(model.inputPrice), output_cost_per_token: \(model.outputPrice)}

                """
        }
        yaml += """
              - model_name: judge
                litellm_params: {model: openai/judge, api_base: "\(base)", api_key: sk-upstream, \
            input_cost_per_token: \(judgePrice), output_cost_per_token: \(judgePrice)}
            router_settings: {num_retries: 0, cooldown_time: 0}
            general_settings: {master_key: "\(Harness.master)"}
            litellm_settings: \(settings)

            """
        return yaml
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/v1/chat/completions") { [self] request, _ -> Response in
            let body = try JSONParser.parse(Array(try await request.body.collect(upTo: 1 << 20).readableBytesView))
            let model = body["model"]?.stringValue ?? ""
            let count = seen.withLock { seen in
                seen.append(model)
                return seen.count
            }
            if let hold, count > hold.after {
                for await _ in hold.released { break }
            }
            let messages = body["messages"]?.arrayValue ?? []
            let text = messages.compactMap { $0["content"]?.stringValue }.joined(separator: "\n")
            if model == "judge" { return Self.completion(judge(text), model: model, input: 50, output: 10, stream: false) }
            guard let behaviour = Self.models[model], let item = Self.itemNumber(in: text) else {
                return Self.error(400, "unknown model or prompt")
            }
            clock.advance(by: behaviour.latency(item))
            guard let answer = behaviour.answer(item) else { return Self.error(500, "The server had an error.") }
            return Self.completion(
                answer, model: model, input: behaviour.inputTokens, output: behaviour.outputTokens,
                stream: body["stream"]?.boolValue == true)
        }
        return router
    }

    /// "Question n" → n.
    static func itemNumber(in text: String) -> Int? {
        guard let range = text.range(of: "Question ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    func judge(_ prompt: String) -> String {
        let reference = Self.tag("reference_answer", in: prompt)
        if Self.itemNumber(in: prompt) == 6 { return "The answer looks fine to me." }
        if let answer = Self.tag("answer", in: prompt) {
            let score = answer == reference ? "1" : "0.25"
            return #"{"score": \#(score), "reason": "compared with the reference"}"#
        }
        let a = Self.tag("answer_a", in: prompt) == reference
        let b = Self.tag("answer_b", in: prompt) == reference
        let winner = a == b ? "tie" : (a ? "A" : "B")
        return #"{"winner": "\#(winner)", "reason": "closer to the reference"}"#
    }

    static func tag(_ name: String, in text: String) -> String? {
        guard let start = text.range(of: "<\(name)>\n"),
            let end = text.range(of: "\n</\(name)>", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    static func completion(_ text: String, model: String, input: Int, output: Int, stream: Bool) -> Response {
        let usage: JSONValue = .object([
            "prompt_tokens": .int(input), "completion_tokens": .int(output), "total_tokens": .int(input + output),
        ])
        guard stream else {
            let body: JSONValue = .object([
                "id": "chatcmpl-eval", "object": "chat.completion", "created": .int(1_800_000_000), "model": .string(model),
                "choices": .array([
                    .object([
                        "index": .int(0), "message": .object(["role": "assistant", "content": .string(text)]),
                        "finish_reason": "stop",
                    ])
                ]),
                "usage": usage,
            ])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body.encoded())))
        }
        func chunk(_ delta: JSONValue, finish: JSONValue = .null, usage: JSONValue? = nil) -> String {
            var object: JSONObject = [
                "id": "chatcmpl-eval", "object": "chat.completion.chunk", "created": .int(1_800_000_000), "model": .string(model),
                "choices": .array(
                    usage == nil ? [.object(["index": .int(0), "delta": delta, "finish_reason": finish])] : []),
            ]
            if let usage { object["usage"] = usage }
            return "data: " + JSONValue.object(object).encodedString() + "\n\n"
        }
        let events =
            chunk(.object(["role": "assistant", "content": .string(text)])) + chunk(.object([:]), finish: "stop")
            + chunk(.object([:]), usage: usage) + "data: [DONE]\n\n"
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"], body: .init(byteBuffer: ByteBuffer(string: events)))
    }

    static func error(_ status: Int, _ message: String) -> Response {
        let body: JSONValue = .object([
            "error": .object(["message": .string(message), "type": "server_error", "param": .null, "code": .null])
        ])
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body.encoded())))
    }
}
