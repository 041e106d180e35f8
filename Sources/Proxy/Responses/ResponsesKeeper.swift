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
                throw Gateway.previousResponseNotFound(previousID)
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
        body["input"] = .array(Self.inputItems(fromChat: previous.history) + ResponseInputItems.given(body["input"]))
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
        let items = ResponseInputItems.items(ofInput: request.body["input"], responseID: id)
        let bytes =
            JSONValue.object(response).encoded().count + JSONValue.array(history).encoded().count
            + JSONValue.array(items).encoded().count
        store.put(
            StoredResponse(
                id: id, owner: turn.owner, response: response, history: history, input: items,
                previousID: turn.previous?.id, deploymentID: deployment.config.id, native: native, expiresAt: 0,
                bytes: bytes))
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
                    return await stream.run { buffer in
                        let (events, finished) = encoder.withLock { encoder in
                            let ended = encoder.finalResponse != nil
                            let events = encoder.encode(buffer)
                            return (events, ended ? nil : encoder.finalResponse)
                        }
                        // Kept before its terminal event goes out, so the client's next turn finds
                        // it (on this replica at once; on the others once the store write lands).
                        if let finished { keep(finished, of: request, from: deployment, native: false) }
                        if !events.isEmpty { try await write(ByteBuffer(bytes: events)) }
                    }
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
                        "output": .string(ResponsesInbound.chatText(message["content"]) ?? ""),
                    ]))
                continue
            }
            if let content = message["content"], !content.isNull {
                items.append(.object(["role": .string(role), "content": .string(ResponsesInbound.chatText(content) ?? "")]))
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
