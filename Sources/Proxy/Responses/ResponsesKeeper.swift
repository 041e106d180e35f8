import NIOCore
import Synchronization
import Telemetry

/// The gateway's side of the Responses API's state: each answer it gives is kept (unless the
/// request said `store: false`) so a later request can continue it with `previous_response_id`
/// on any deployment, and its owner can read or delete it.
struct ResponsesKeeper: Sendable {
    let store: ResponseStore

    /// The turn a Responses request starts: its id and, when it continues one, that
    /// conversation. Only a response the gateway keeps for this caller can be continued: one it
    /// does not know (another caller's, expired, never kept) is OpenAI's 400
    /// `previous_response_not_found`, never passed to a provider whose key is shared by all.
    func turn(for request: OpenAIRequest, owner: String, requestID: String, now: Double) async throws(GatewayError)
        -> ResponsesTurn
    {
        var turn = ResponsesTurn(
            id: "resp_" + requestID.dropFirst("req_".count), createdAt: Int(now), history: [], previous: nil, owner: owner)
        if let previousID = request.body["previous_response_id"]?.stringValue {
            guard let previous = await store.get(previousID, owner: owner) else {
                throw .invalidRequest(
                    "Previous response with id '\(previousID)' not found.", param: "previous_response_id",
                    code: "previous_response_not_found")
            }
            turn.previous = previous
            turn.history = previous.history
        }
        return turn
    }

    /// A native request's body for `deployment` (`body`: the request's, with the deployment's
    /// defaults): `previous_response_id` goes through when that response is the deployment's
    /// own; otherwise the conversation the gateway kept is sent as input items before the new input.
    func continuing(_ request: OpenAIRequest, body: JSONObject, on deployment: Deployment) -> JSONObject {
        var body = body
        guard let previous = request.responses?.previous,
            !(previous.native && previous.deploymentID == deployment.config.id)
        else { return body }
        body["previous_response_id"] = nil
        let input: [JSONValue] =
            switch body["input"] {
            case .string(let text)?: [.object(["role": "user", "content": .string(text)])]
            case .array(let items)?: items
            default: []
            }
        body["input"] = .array(Self.inputItems(fromChat: previous.history) + input)
        return body
    }

    /// Keeps a Response object the client got.
    func keep(_ body: [UInt8], of request: OpenAIRequest, from deployment: Deployment, native: Bool) {
        guard let response = (try? JSONParser.parse(body))?.objectValue else { return }
        keep(response, of: request, from: deployment, native: native)
    }

    func keep(_ response: JSONObject, of request: OpenAIRequest, from deployment: Deployment, native: Bool) {
        guard request.body["store"]?.boolValue != false, let turn = request.responses,
            let id = response["id"]?.stringValue
        else { return }
        let input = (try? ResponsesInbound.inputMessages(request.body, skippingUnsupported: true)) ?? []
        let output = ResponsesInbound.chatMessages(fromOutput: response["output"]?.arrayValue ?? [])
        let history = turn.history + input + output
        let bytes = JSONValue.object(response).encoded().count + JSONValue.array(history).encoded().count
        store.put(
            StoredResponse(
                id: id, owner: turn.owner, response: response, history: history, deploymentID: deployment.config.id,
                native: native, expiresAt: 0, bytes: bytes))
    }

    /// A native Responses stream, relayed as is, its final response kept when it ends.
    func keeping(_ reply: GatewayReply, of request: OpenAIRequest, from deployment: Deployment) -> GatewayReply {
        guard case .stream(let stream) = reply.body, request.body["store"]?.boolValue != false else { return reply }
        var out = reply
        out.body = .stream(
            ReplyStream { write in
                let watcher = Mutex(TerminalEventWatcher())
                let ending = await stream.run { buffer in
                    watcher.withLock { $0.feed(buffer) }
                    try await write(buffer)
                }
                if let response = watcher.withLock({ $0.response }) {
                    keep(response, of: request, from: deployment, native: true)
                }
                return ending
            })
        return out
    }

    /// A chat answer as the Responses answer the client asked for (streamed or not), kept.
    func translated(_ reply: GatewayReply, of request: OpenAIRequest, from deployment: Deployment) -> GatewayReply {
        guard let turn = request.responses else { return reply }
        var out = reply
        switch reply.body {
        case .bytes(let bytes):
            let completion = (try? JSONParser.parse(bytes)) ?? .null
            let response = ResponsesInbound.response(
                fromCompletion: completion, request: request.body, id: turn.id, createdAt: turn.createdAt)
            keep(response, of: request, from: deployment, native: false)
            out.body = .bytes(JSONValue.object(response).encoded())
        case .stream(let stream):
            out.body = .stream(
                ReplyStream { write in
                    let encoder = Mutex(ResponsesEventEncoder(id: turn.id, request: request.body, createdAt: turn.createdAt))
                    let ending = await stream.run { buffer in
                        let events = encoder.withLock { $0.encode(buffer) }
                        if !events.isEmpty { try await write(ByteBuffer(bytes: events)) }
                    }
                    if let response = encoder.withLock({ $0.finalResponse }) {
                        keep(response, of: request, from: deployment, native: false)
                    }
                    return ending
                })
        }
        return out
    }

    /// Chat messages as Responses input items: messages with text stay messages, an assistant's
    /// tool calls become `function_call` items and tool results `function_call_output` items.
    static func inputItems(fromChat messages: [JSONValue]) -> [JSONValue] {
        var items: [JSONValue] = []
        for message in messages {
            let role = message["role"]?.stringValue ?? "user"
            if role == "tool" {
                items.append(
                    .object([
                        "type": "function_call_output", "call_id": message["tool_call_id"] ?? .null,
                        "output": .string(Self.text(message["content"])),
                    ]))
                continue
            }
            if let content = message["content"], !content.isNull {
                items.append(.object(["role": .string(role), "content": .string(Self.text(content))]))
            }
            for call in message["tool_calls"]?.arrayValue ?? [] {
                items.append(
                    .object([
                        "type": "function_call", "call_id": call["id"] ?? .null, "name": call["function"]?["name"] ?? .null,
                        "arguments": call["function"]?["arguments"] ?? .string(""),
                    ]))
            }
        }
        return items
    }
}

extension ResponsesKeeper {
    /// A chat message's content as text: a string, or its text parts joined.
    static func text(_ content: JSONValue?) -> String {
        content?.stringValue ?? content?.arrayValue?.compactMap { $0["text"]?.stringValue }.joined() ?? ""
    }
}

/// Watches a Responses event stream for its terminal event's `response`.
struct TerminalEventWatcher {
    private var sse = SSEDecoder()
    private(set) var response: JSONObject?

    mutating func feed(_ buffer: ByteBuffer) {
        for event in (try? sse.feed(buffer.readableBytesView)) ?? [] {
            // Only the terminal events are parsed (the relay names every event).
            guard event.event == "response.completed" || event.event == "response.incomplete",
                let object = (try? JSONParser.parse(event.data))?.objectValue,
                let type = object["type"]?.stringValue,
                ["response.completed", "response.incomplete"].contains(type),
                let response = object["response"]?.objectValue
            else { continue }
            self.response = response
        }
    }
}
