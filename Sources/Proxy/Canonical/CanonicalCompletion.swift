import Foundation
import Telemetry

/// A translated answer as OpenAI's `chat.completion` object, built the same way for every
/// provider. https://platform.openai.com/docs/api-reference/chat/object
enum CanonicalCompletion {
    /// An assistant message. `content` is null when the turn is only tool calls, as OpenAI sends
    /// it; reasoning text goes out as `reasoning_content` only when the client opted in (strict
    /// OpenAI clients may reject the unknown field).
    static func message(text: String, toolCalls: [JSONValue], reasoning: String? = nil) -> JSONObject {
        var message: JSONObject = [
            "role": "assistant", "content": text.isEmpty && !toolCalls.isEmpty ? .null : .string(text),
        ]
        if let reasoning, !reasoning.isEmpty { message["reasoning_content"] = .string(reasoning) }
        if !toolCalls.isEmpty { message["tool_calls"] = .array(toolCalls) }
        return message
    }

    static func choice(index: Int = 0, message: JSONObject, finish: String) -> JSONValue {
        .object(["index": .int(index), "message": .object(message), "finish_reason": .string(finish)])
    }

    /// The whole answer as the client receives it, with the facts the span needs.
    /// `responseModel` is the model the upstream named (nil when it named none and `model` only
    /// echoes the request).
    static func reply(
        id: JSONValue, model: JSONValue, responseModel: String?, choices: [JSONValue], usage: Usage?,
        reported: CanonicalUsage.Details, finishReasons: [String], created: Int = Int(Date().timeIntervalSince1970)
    ) -> ProviderReply {
        var completion: JSONObject = [
            "id": id, "object": "chat.completion", "created": .int(created), "model": model, "choices": .array(choices),
        ]
        if let usage { completion["usage"] = CanonicalUsage.json(usage, reported: reported) }
        return ProviderReply(
            body: JSONValue.object(completion).encoded(), usage: usage, responseID: id.stringValue,
            responseModel: responseModel, finishReasons: finishReasons)
    }
}
