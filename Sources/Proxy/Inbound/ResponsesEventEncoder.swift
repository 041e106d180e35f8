import NIOCore
import Telemetry

/// Turns the gateway's OpenAI chat stream (`data: {chunk}` … usage chunk … `data: [DONE]`) into
/// Responses events (`event: <type>` / `data: <json>`, `sequence_number` from 0):
/// `response.created`, `response.in_progress`, an `output_item.added` … `output_item.done` run per
/// message or function call, and a terminal `response.completed` or `response.incomplete` when
/// `[DONE]` arrives (after the usage chunk). An in-stream error becomes `error` and
/// `response.failed`. A stream cut off without either ends with no more events.
struct ResponsesEventEncoder {
    private let id: String
    private let request: JSONObject
    private let createdAt: Int
    private var sse = SSEDecoder()
    private var sequenceNumber = 0
    private var started = false
    private var finished = false
    private var model: JSONValue?
    private var serviceTier: JSONValue?
    private var finishReason: String?
    private var usage: JSONValue?
    /// The items already closed, in output order.
    private var output: [JSONValue] = []
    private var message: OpenMessage?
    private var call: OpenCall?
    /// Where each closed call sits in `output`, by its chat `index`.
    private var closedCalls: [Int: Int] = [:]
    private var messageCount = 0
    private var callCount = 0
    /// `parallel_tool_calls: false`: calls after the first are left out, by their chat `index`.
    private let singleCall: Bool
    private var droppedCalls: Set<Int> = []
    /// The terminal event's response, for the caller to keep.
    private(set) var finalResponse: JSONObject?

    private enum PartKind {
        case text
        case refusal
    }

    private struct OpenMessage {
        var itemID: String
        var outputIndex: Int
        var parts: [JSONValue] = []
        /// The part being streamed, if any, and what it holds so far.
        var kind: PartKind?
        var text = ""
        var annotations: [JSONValue] = []
    }

    private struct OpenCall {
        var itemID: String
        var outputIndex: Int
        var chatIndex: Int
        var callID: JSONValue
        var name: JSONValue
        var arguments = ""
    }

    init(id: String, request: JSONObject, createdAt: Int) {
        self.id = id
        self.request = request
        self.createdAt = createdAt
        self.singleCall = ResponsesInbound.singleCall(request)
    }

    /// Responses events for the next piece of the chat stream.
    mutating func encode(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        for event in (try? sse.feed(buffer.readableBytesView)) ?? [] { translate(event.data, into: &out) }
        return out
    }

    private mutating func translate(_ data: [UInt8], into out: inout [UInt8]) {
        guard !finished else { return }
        if data == Array("[DONE]".utf8) {
            complete(into: &out)
            return
        }
        guard let chunk = try? JSONParser.parse(data), chunk.objectValue != nil else { return }
        start(model: chunk["model"], into: &out)
        if let error = chunk["error"], !error.isNull {
            fail(error, into: &out)
            return
        }
        if let tier = ResponsesInbound.present(chunk["service_tier"]) { serviceTier = tier }
        if let usage = ResponsesInbound.present(chunk["usage"]) { self.usage = usage }
        guard let choice = chunk["choices"]?.arrayValue?.first(where: { ($0["index"]?.intValue ?? 0) == 0 }) else {
            return
        }
        let delta = choice["delta"]
        if let text = delta?["content"]?.stringValue, !text.isEmpty { appendText(text, kind: .text, into: &out) }
        if let refusal = delta?["refusal"]?.stringValue, !refusal.isEmpty {
            appendText(refusal, kind: .refusal, into: &out)
        }
        for annotation in delta?["annotations"]?.arrayValue ?? [] { addAnnotation(annotation, into: &out) }
        for (position, fragment) in (delta?["tool_calls"]?.arrayValue ?? []).enumerated() {
            toolCallFragment(fragment, position: position, into: &out)
        }
        if let finish = choice["finish_reason"]?.stringValue {
            finishReason = finish
            closeItem(status: itemStatus, into: &out)
        }
    }

    /// What the item still open at the end becomes: a cut-off answer leaves it incomplete.
    private var itemStatus: String {
        ResponsesInbound.outcome(finishReason: finishReason).status == "completed" ? "completed" : "incomplete"
    }

    private mutating func start(model: JSONValue?, into out: inout [UInt8]) {
        guard !started else { return }
        started = true
        self.model = ResponsesInbound.present(model)
        let response = JSONValue.object(snapshot(status: "in_progress", usage: .null))
        emit("response.created", ["response": response], into: &out)
        emit("response.in_progress", ["response": response], into: &out)
    }

    // MARK: Message items

    private mutating func appendText(_ text: String, kind: PartKind, into out: inout [UInt8]) {
        openPart(kind, into: &out)
        guard message != nil else { return }
        message?.text += text
        guard let state = message else { return }
        let type = kind == .text ? "response.output_text.delta" : "response.refusal.delta"
        var fields: JSONObject = [
            "item_id": .string(state.itemID), "output_index": .int(state.outputIndex),
            "content_index": .int(state.parts.count), "delta": .string(text),
        ]
        if kind == .text { fields["logprobs"] = .array([]) }
        emit(type, fields, into: &out)
    }

    private mutating func addAnnotation(_ annotation: JSONValue, into out: inout [UInt8]) {
        openPart(.text, into: &out)
        guard var state = message else { return }
        let flat = ResponsesInbound.annotation(annotation)
        emit(
            "response.output_text.annotation.added",
            [
                "item_id": .string(state.itemID), "output_index": .int(state.outputIndex),
                "content_index": .int(state.parts.count), "annotation_index": .int(state.annotations.count),
                "annotation": flat,
            ], into: &out)
        state.annotations.append(flat)
        message = state
    }

    /// Makes sure a message item is open with a part of `kind` streaming, opening what is missing.
    private mutating func openPart(_ kind: PartKind, into out: inout [UInt8]) {
        if message == nil {
            closeCall(status: "completed", into: &out)
            let state = OpenMessage(
                itemID: ResponsesInbound.messageID(id, ordinal: messageCount), outputIndex: output.count)
            messageCount += 1
            emit(
                "response.output_item.added",
                [
                    "output_index": .int(state.outputIndex),
                    "item": ResponsesInbound.messageItem(id: state.itemID, status: "in_progress", content: []),
                ], into: &out)
            message = state
        }
        guard var state = message, state.kind != kind else { return }
        closePart(&state, into: &out)
        state.kind = kind
        emit(
            "response.content_part.added",
            [
                "item_id": .string(state.itemID), "output_index": .int(state.outputIndex),
                "content_index": .int(state.parts.count), "part": part(kind, text: "", annotations: []),
            ], into: &out)
        message = state
    }

    private mutating func closePart(_ state: inout OpenMessage, into out: inout [UInt8]) {
        guard let kind = state.kind else { return }
        let full = part(kind, text: state.text, annotations: state.annotations)
        let location: JSONObject = [
            "item_id": .string(state.itemID), "output_index": .int(state.outputIndex),
            "content_index": .int(state.parts.count),
        ]
        var done = location
        switch kind {
        case .text:
            done["text"] = .string(state.text)
            done["logprobs"] = .array([])
            emit("response.output_text.done", done, into: &out)
        case .refusal:
            done["refusal"] = .string(state.text)
            emit("response.refusal.done", done, into: &out)
        }
        var partDone = location
        partDone["part"] = full
        emit("response.content_part.done", partDone, into: &out)
        state.parts.append(full)
        state.kind = nil
        state.text = ""
        state.annotations = []
    }

    private func part(_ kind: PartKind, text: String, annotations: [JSONValue]) -> JSONValue {
        switch kind {
        case .text: ResponsesInbound.outputTextPart(text, annotations: annotations)
        case .refusal: ResponsesInbound.refusalPart(text)
        }
    }

    private mutating func closeMessage(status: String, into out: inout [UInt8]) {
        guard var state = message else { return }
        message = nil
        closePart(&state, into: &out)
        let item = ResponsesInbound.messageItem(id: state.itemID, status: status, content: state.parts)
        emit("response.output_item.done", ["output_index": .int(state.outputIndex), "item": item], into: &out)
        output.append(item)
    }

    // MARK: Function call items

    /// One `delta.tool_calls[j]`: a new `index` (or a new id) opens a call, closing whatever was
    /// open; later fragments stream as argument deltas.
    private mutating func toolCallFragment(_ fragment: JSONValue, position: Int, into out: inout [UInt8]) {
        let chatIndex = fragment["index"]?.intValue ?? position
        let newID = fragment["id"]?.stringValue.flatMap { id in id.isEmpty ? nil : id }
        let arguments = fragment["function"]?["arguments"]?.stringValue ?? ""
        if let open = call, open.chatIndex == chatIndex, newID == nil || newID == open.callID.stringValue {
            if open.name.isNull, let name = fragment["function"]?["name"]?.stringValue { call?.name = .string(name) }
            // In place: the arguments so far are not copied for each fragment.
            call?.arguments += arguments
            if !arguments.isEmpty, let state = call { emitArgumentsDelta(arguments, of: state, into: &out) }
            return
        }
        if droppedCalls.contains(chatIndex) && newID == nil { return }
        if newID == nil, let slot = closedCalls[chatIndex] {
            // Fragments of a call already closed (an upstream interleaving indices): too late for
            // events, but the final output gets them.
            if output.indices.contains(slot), case .object(var item) = output[slot] {
                item["arguments"] = .string((item["arguments"]?.stringValue ?? "") + arguments)
                output[slot] = .object(item)
            }
            return
        }
        closeItem(status: "completed", into: &out)
        if singleCall && callCount > 0 {
            // Closed first: the dropped call's later fragments may reuse the open call's index.
            droppedCalls.insert(chatIndex)
            return
        }
        let ordinal = callCount
        callCount += 1
        let name: JSONValue = fragment["function"]?["name"]?.stringValue.map(JSONValue.string) ?? .null
        let state = OpenCall(
            itemID: ResponsesInbound.functionCallID(id, ordinal: ordinal), outputIndex: output.count,
            chatIndex: chatIndex, callID: newID.map(JSONValue.string) ?? .null, name: name, arguments: arguments)
        emit(
            "response.output_item.added",
            [
                "output_index": .int(state.outputIndex),
                "item": ResponsesInbound.functionCallItem(
                    id: state.itemID, callID: state.callID, name: state.name, arguments: "", status: "in_progress"),
            ], into: &out)
        call = state
        if !arguments.isEmpty { emitArgumentsDelta(arguments, of: state, into: &out) }
    }

    private mutating func emitArgumentsDelta(_ delta: String, of state: OpenCall, into out: inout [UInt8]) {
        emit(
            "response.function_call_arguments.delta",
            ["item_id": .string(state.itemID), "output_index": .int(state.outputIndex), "delta": .string(delta)],
            into: &out)
    }

    private mutating func closeCall(status: String, into out: inout [UInt8]) {
        guard let state = call else { return }
        call = nil
        emit(
            "response.function_call_arguments.done",
            [
                "item_id": .string(state.itemID), "output_index": .int(state.outputIndex),
                "arguments": .string(state.arguments),
            ], into: &out)
        let item = ResponsesInbound.functionCallItem(
            id: state.itemID, callID: state.callID, name: state.name, arguments: state.arguments, status: status)
        emit("response.output_item.done", ["output_index": .int(state.outputIndex), "item": item], into: &out)
        closedCalls[state.chatIndex] = output.count
        output.append(item)
    }

    /// Closes the open item, whichever it is (at most one is open).
    private mutating func closeItem(status: String, into out: inout [UInt8]) {
        closeMessage(status: status, into: &out)
        closeCall(status: status, into: &out)
    }

    // MARK: The end

    private mutating func complete(into out: inout [UInt8]) {
        start(model: nil, into: &out)
        closeItem(status: itemStatus, into: &out)
        let (status, reason) = ResponsesInbound.outcome(finishReason: finishReason)
        let response = snapshot(
            status: status, output: output, usage: ResponsesInbound.usage(fromChat: usage), incompleteReason: reason)
        finished = true
        finalResponse = response
        emit(
            status == "completed" ? "response.completed" : "response.incomplete", ["response": .object(response)],
            into: &out)
    }

    /// An in-stream error (`{"error":{message,type,param,code}}`): `error`, then `response.failed`
    /// with the items finished so far.
    private mutating func fail(_ error: JSONValue, into out: inout [UInt8]) {
        let message = error["message"]?.stringValue ?? "The upstream stream failed."
        let code = ResponsesInbound.present(error["code"]) ?? ResponsesInbound.present(error["type"])
        emit(
            "error", ["code": code ?? .null, "message": .string(message), "param": error["param"] ?? .null],
            into: &out)
        let rateLimited = code?.stringValue == "rate_limit_exceeded" || error["type"]?.stringValue == "rate_limit_exceeded"
        let response = snapshot(
            status: "failed", output: output, usage: ResponsesInbound.usage(fromChat: usage),
            error: .object([
                "code": .string(rateLimited ? "rate_limit_exceeded" : "server_error"), "message": .string(message),
            ]))
        finished = true
        finalResponse = response
        emit("response.failed", ["response": .object(response)], into: &out)
    }

    private func snapshot(
        status: String, output: [JSONValue] = [], usage: JSONValue, incompleteReason: String? = nil,
        error: JSONValue = .null
    ) -> JSONObject {
        ResponsesInbound.response(
            id: id, request: request, createdAt: createdAt, status: status, model: model, output: output, usage: usage,
            incompleteReason: incompleteReason, error: error, serviceTier: serviceTier)
    }

    private mutating func emit(_ type: String, _ fields: JSONObject, into out: inout [UInt8]) {
        var event: JSONObject = ["type": .string(type), "sequence_number": .int(sequenceNumber)]
        for member in fields.members { event[member.key] = member.value }
        sequenceNumber += 1
        out += Array("event: \(type)\ndata: ".utf8)
        out += JSONValue.object(event).encoded()
        out += Array("\n\n".utf8)
    }
}
