import Telemetry

/// The input items of a kept response (`GET /v1/responses/{id}/input_items`): every item that
/// made it, oldest first — the earlier turns' inputs and outputs, then its own input — listed a
/// page at a time as OpenAI lists them (`order` desc by default, `after` an item id, `limit` 1–100).
enum ResponseInputItems {
    /// A request's `input` as the items kept for it: a string is one user message, a message's
    /// string content one text part, and every item has an id (OpenAI's listed items always do).
    static func items(ofInput input: JSONValue?, responseID: String) -> [JSONValue] {
        let suffix = ResponsesInbound.idSuffix(responseID)
        return given(input).enumerated().compactMap { index, item -> JSONValue? in
            guard var object = item.objectValue else { return nil }
            let isMessage = object["type"] == nil ? object["role"] != nil : object["type"] == "message"
            if isMessage {
                object["type"] = "message"
                if let text = object["content"]?.stringValue {
                    let part = object["role"] == "assistant" ? "output_text" : "input_text"
                    object["content"] = .array([.object(["type": .string(part), "text": .string(text)])])
                }
                if object["status"] == nil { object["status"] = "completed" }
            }
            if object["id"]?.stringValue == nil {
                object["id"] = .string("\(isMessage ? "msg" : "item")_\(suffix)_in\(index)")
            }
            return .object(object)
        }
    }

    /// `input` as items as the client gave them: a string is one user message.
    static func given(_ input: JSONValue?) -> [JSONValue] {
        switch input {
        case .string(let text)?: [.object(["role": "user", "content": .string(text)])]
        case .array(let items)?: items
        default: []
        }
    }

    /// One page of `items` (oldest first) for the query of `GET …/input_items`. Ids are made
    /// unique first (a client may send two items with one id), so that `after` names one place.
    static func page(_ items: [JSONValue], query: [String: String]) throws(GatewayError) -> JSONValue {
        let order = query["order"] ?? "desc"
        guard order == "asc" || order == "desc" else {
            throw .invalidRequest("'order' must be 'asc' or 'desc'.", param: "order")
        }
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(text), (1...100).contains(value) else {
                throw .invalidRequest("'limit' must be an integer from 1 to 100.", param: "limit")
            }
            limit = value
        }
        let items = uniquelyIdentified(items)
        var ordered = order == "asc" ? items : items.reversed()
        if let after = query["after"] {
            guard let position = ordered.firstIndex(where: { $0["id"]?.stringValue == after }) else {
                throw .invalidRequest("No input item with id '\(after)' in this response.", param: "after")
            }
            ordered = Array(ordered[(position + 1)...])
        }
        let data = Array(ordered.prefix(limit))
        return .object([
            "object": "list", "data": .array(data), "first_id": data.first?["id"] ?? .null,
            "last_id": data.last?["id"] ?? .null, "has_more": .bool(ordered.count > limit),
        ])
    }

    /// Items whose id an earlier item already has get `<id>_<n>`, oldest keeping theirs.
    static func uniquelyIdentified(_ items: [JSONValue]) -> [JSONValue] {
        var seen: Set<String> = []
        return items.map { item in
            guard case .object(var object) = item, let id = object["id"]?.stringValue else { return item }
            var unique = id
            var n = 1
            while !seen.insert(unique).inserted {
                unique = "\(id)_\(n)"
                n += 1
            }
            object["id"] = .string(unique)
            return .object(object)
        }
    }
}
