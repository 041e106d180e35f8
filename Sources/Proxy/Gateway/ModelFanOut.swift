import Foundation
import HTTPTypes
import NIOCore
import Telemetry

/// LiteLLM's comma-separated `model` on chat completions (`"model": "gpt-4o,claude-3"`): the
/// request goes to each model at once, each as a request of its own through the whole flow (its
/// caller's checks for that model, limits, routing, span, cost, ledger row), and the answer is
/// the JSON list of their answers in the order named. LiteLLM's proxy (`route_request`) hands
/// such a request to its router's `abatch_completion`, which gathers one completion per model and
/// puts a failed model's error in that model's place; the list is answered with 200.
///
/// A configured model (or key alias) whose name holds a comma is still one model. A stream, or
/// LiteLLM's `fastest_response`, is refused with 400: LiteLLM's proxy has no stream of a list.
struct ModelFanOut: Sendable {
    let flow: RequestFlow

    /// More models than this in one request is a mistake or an attempt to multiply upstream traffic.
    static let maxModels = 16

    /// A chat completion, fanned out when its `model` names several models.
    func proxy(
        headers: HTTPFields, route: String, body readBody: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        // A caller the flow refuses before reading a body is refused there, its body unread: so
        // a spent budget (the proxy's too) refuses the whole request, as LiteLLM's does.
        guard let principal = try? await flow.authenticator.authenticate(headers, route: route),
            (try? flow.budgets.refuseIfSpent(await budgeted(principal))) != nil
        else { return await single(headers: headers, route: route, body: readBody) }
        let bytes: ByteBuffer
        do {
            bytes = try await readBody()
        } catch {
            return await single(headers: headers, route: route) { () throws(GatewayError) in throw error }
        }
        let request: (body: JSONObject, models: [String])
        do {
            guard let several = try several(bytes, principal: principal) else {
                return await single(headers: headers, route: route) { bytes }
            }
            request = several
        } catch {
            // Refused as a request of its own, so the refusal has its span like any other.
            return await single(headers: headers, route: route) { () throws(GatewayError) in throw error }
        }
        // LiteLLM checks every named model at authentication: one the caller may not use refuses
        // the whole request (answered by the flow for that model, which records it).
        for model in request.models where (try? principal.admit(model: model)) == nil {
            return await single(headers: headers, route: route) { Self.body(request.body, model: model) }
        }
        let replies = await withTaskGroup(of: (Int, GatewayReply).self) { group in
            for (index, model) in request.models.enumerated() {
                let body = Self.body(request.body, model: model)
                group.addTask { (index, await single(headers: headers, route: route) { body }) }
            }
            var replies = [GatewayReply?](repeating: nil, count: request.models.count)
            for await (index, reply) in group { replies[index] = reply }
            return replies.compactMap { $0 }
        }
        return Self.combined(replies)
    }

    /// The caller's budgeted subjects, with the proxy's own `max_budget`.
    private func budgeted(_ principal: Principal) async -> [LimitSubject] {
        guard let proxyBudget = flow.budgets.proxyBudget else { return principal.limitSubjects }
        await proxyBudget.loadOnce(from: flow.authenticator.store, logger: flow.settlement.logger)
        return principal.limitSubjects + [proxyBudget.subject(now: flow.clock.nowSeconds())]
    }

    private func single(
        headers: HTTPFields, route: String, body: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        await flow.run(.chat, headers: headers, route: route, body: body) { bytes throws(GatewayError) in
            try OpenAIRequest(operation: .chat, bytes: bytes)
        }
    }

    /// The body and its models when `model` names several, nil when it names one (or the body is
    /// not a request at all: the flow says what is wrong with it).
    private func several(_ bytes: ByteBuffer, principal: Principal) throws(GatewayError) -> (
        body: JSONObject, models: [String]
    )? {
        guard Self.mayNameSeveralModels(bytes.readableBytesView),
            let body = (try? JSONParser.parse(bytes.readableBytesView))?.objectValue,
            let model = body["model"]?.stringValue, model.contains(","),
            flow.router.group(named: model) == nil,
            // An alias (the key's or its team's) with a comma in its name is one model too.
            (try? principal.admit(model: model)).map({ $0 != model }) != true
        else { return nil }
        let models = model.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard !models.contains(where: \.isEmpty), models.count <= Self.maxModels else {
            throw .invalidRequest(
                "'model' must be one model name, or up to \(Self.maxModels) comma-separated model names, none empty.",
                param: "model")
        }
        if body["stream"]?.boolValue == true {
            throw .invalidRequest(
                "Several comma-separated models in 'model' are answered as one JSON list and cannot be streamed; "
                    + "remove 'stream' or name one model.", param: "stream")
        }
        if body["fastest_response"]?.boolValue == true {
            throw .invalidRequest(
                "'fastest_response' is not supported: every model named in 'model' is answered.", param: "fastest_response")
        }
        return (body, models)
    }

    private static func body(_ body: JSONObject, model: String) -> ByteBuffer {
        var body = body
        body["model"] = .string(model)
        body["fastest_response"] = nil
        return ByteBuffer(bytes: JSONValue.object(body).encoded())
    }

    /// `[answer, …]`: each model's completion, or its OpenAI-shaped error, in the order named.
    /// The headers sum the costs and list each answer's trace, model group and deployment.
    static func combined(_ replies: [GatewayReply]) -> GatewayReply {
        var out: [UInt8] = [UInt8(ascii: "[")]
        var cost = 0.0
        var lists: [String: [String]] = [:]
        let listed = ["x-spanway-trace-id", "x-spanway-model-group", "x-spanway-deployment"]
        for (index, reply) in replies.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            switch reply.body {
            case .bytes(let bytes): out += bytes
            // Never happens: streams are refused before the fan-out.
            case .stream: out += GatewayError.internal("A streamed answer cannot be listed.").body.encoded()
            }
            cost += reply.header("x-spanway-response-cost").flatMap(Double.init) ?? 0
            for name in listed { lists[name, default: []].append(reply.header(name) ?? "") }
        }
        out.append(UInt8(ascii: "]"))
        let text = ReplyHeaders.formatCost(cost)
        var headers = [
            ("content-type", "application/json"), ("x-spanway-response-cost", text), ("x-litellm-response-cost", text),
        ]
        for name in listed { headers.append((name, lists[name, default: []].joined(separator: ", "))) }
        return GatewayReply(status: 200, headers: headers, body: .bytes(out))
    }

    /// Whether a `"model"` member with a comma in its string value occurs anywhere in the body: a
    /// scan that spares every ordinary request a second parse. Inside a JSON string a quote is
    /// escaped, so an unescaped `"model"` followed by a colon is always a member name.
    static func mayNameSeveralModels(_ bytes: ByteBufferView) -> Bool {
        bytes.withContiguousStorageIfAvailable(scan) ?? Array(bytes).withUnsafeBufferPointer(scan)
    }

    private static func scan(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let key = Array(#""model""#.utf8)
        var index = 0
        while index + key.count < text.count {
            guard text[index] == key[0], text[index..<index + key.count].elementsEqual(key) else {
                index += 1
                continue
            }
            var cursor = index + key.count
            func skipSpace() {
                while cursor < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[cursor]) { cursor += 1 }
            }
            skipSpace()
            guard cursor < text.count, text[cursor] == UInt8(ascii: ":") else {
                index += 1
                continue
            }
            cursor += 1
            skipSpace()
            guard cursor < text.count, text[cursor] == UInt8(ascii: "\"") else {
                index += 1
                continue
            }
            cursor += 1
            while cursor < text.count, text[cursor] != UInt8(ascii: "\"") {
                if text[cursor] == UInt8(ascii: ",") { return true }
                cursor += text[cursor] == UInt8(ascii: "\\") ? 2 : 1
            }
            index = cursor
        }
        return false
    }
}
