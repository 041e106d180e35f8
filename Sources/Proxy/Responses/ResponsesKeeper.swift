import NIOCore
import Synchronization
import Telemetry

/// The gateway's side of the Responses API's state: each answer it gives is kept (unless the
/// request said `store: false`) so a later request can continue it with `previous_response_id`
/// on any deployment, and its owner can read or delete it.
struct ResponsesKeeper: Sendable {
    let store: ResponseStore

    /// The turn a Responses request starts: its id and, when it continues one the gateway keeps
    /// for this caller, that conversation.
    func turn(for request: OpenAIRequest, owner: String, requestID: String, now: Double) -> ResponsesTurn {
        var turn = ResponsesTurn(
            id: "resp_" + requestID.dropFirst("req_".count), createdAt: Int(now), history: [], previous: nil, owner: owner)
        if let previousID = request.body["previous_response_id"]?.stringValue,
            let previous = store.get(previousID, owner: owner)
        {
            turn.previous = previous
            turn.history = previous.history
        }
        return turn
    }

    /// A native request's body for `deployment`: `previous_response_id` goes through when that
    /// response is the deployment's own (or the gateway does not know it: the provider may);
    /// otherwise the conversation the gateway kept is sent as input items before the new input.
    func continuing(_ request: OpenAIRequest, on deployment: Deployment) -> JSONObject {
        var body = request.body
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
        keep(response, bytes: body.count, of: request, from: deployment, native: native)
    }

    func keep(_ response: JSONObject, bytes: Int, of request: OpenAIRequest, from deployment: Deployment, native: Bool) {
        guard request.body["store"]?.boolValue != false, let turn = request.responses,
            let id = response["id"]?.stringValue
        else { return }
        let input = (try? ResponsesInbound.inputMessages(request.body)) ?? []
        let output = ResponsesInbound.chatMessages(fromOutput: response["output"]?.arrayValue ?? [])
        let history = turn.history + input + output
        store.put(
            StoredResponse(
                id: id, owner: turn.owner, response: response, history: history, deploymentID: deployment.config.id,
                native: native, expiresAt: 0, bytes: bytes + JSONValue.array(history).encoded().count))
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
                if let (response, bytes) = watcher.withLock({ $0.response }) {
                    keep(response, bytes: bytes, of: request, from: deployment, native: true)
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
            let encoded = JSONValue.object(response).encoded()
            keep(response, bytes: encoded.count, of: request, from: deployment, native: false)
            out.body = .bytes(encoded)
        case .stream(let stream):
            out.body = .stream(
                ReplyStream { write in
                    let encoder = Mutex(ResponsesEventEncoder(id: turn.id, request: request.body, createdAt: turn.createdAt))
                    let ending = await stream.run { buffer in
                        let events = encoder.withLock { $0.encode(buffer) }
                        if !events.isEmpty { try await write(ByteBuffer(bytes: events)) }
                    }
                    if let response = encoder.withLock({ $0.finalResponse }) {
                        keep(response, bytes: 0, of: request, from: deployment, native: false)
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
                        "output": .string(message["content"]?.stringValue ?? ""),
                    ]))
                continue
            }
            if let content = message["content"], !content.isNull {
                let text = content.stringValue ?? content.arrayValue?.compactMap { $0["text"]?.stringValue }.joined() ?? ""
                items.append(.object(["role": .string(role), "content": .string(text)]))
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

/// Watches a Responses event stream for its terminal event's `response`.
struct TerminalEventWatcher {
    private var sse = SSEDecoder()
    private(set) var response: (JSONObject, Int)?

    mutating func feed(_ buffer: ByteBuffer) {
        for event in (try? sse.feed(buffer.readableBytesView)) ?? [] {
            guard let object = (try? JSONParser.parse(event.data))?.objectValue,
                let type = object["type"]?.stringValue,
                ["response.completed", "response.incomplete"].contains(type),
                let response = object["response"]?.objectValue
            else { continue }
            self.response = (response, event.data.count)
        }
    }
}
