import Telemetry

/// One prompt of a dataset: a line of `items.jsonl`.
///
/// `{"id": "q1", "messages": [...], "expected": "Paris", "parameters": {"temperature": 0},
/// "metadata": {...}}`; `input` (a string) may stand for `messages` as one user turn.
public struct EvalItem: Sendable, Equatable {
    public var id: String
    /// OpenAI chat messages.
    public var messages: [JSONValue]
    /// What a right answer is, for the scorers: a string, a number or any JSON value.
    public var expected: JSONValue?
    /// Request fields for this item only (`temperature`, `max_tokens`, …); they win over the run's.
    public var parameters: JSONObject
    /// Carried to the report and the item's root span, never sent to a model.
    public var metadata: JSONObject

    public init(
        id: String, messages: [JSONValue], expected: JSONValue? = nil, parameters: JSONObject = [:],
        metadata: JSONObject = [:]
    ) {
        self.id = id
        self.messages = messages
        self.expected = expected
        self.parameters = parameters
        self.metadata = metadata
    }

    /// The last user turn's text, as the judge and the report show the question.
    public var prompt: String {
        for message in messages.reversed() where message["role"]?.stringValue == "user" {
            if let text = message["content"]?.stringValue { return text }
            if let parts = message["content"]?.arrayValue {
                return parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
            }
        }
        return ""
    }
}

/// A dataset that could not be read, naming the line and the field.
public struct EvalDatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var field: String?
    public var message: String

    public init(line: Int? = nil, field: String? = nil, _ message: String) {
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var location = ""
        if let line { location += "line \(line)" }
        if let field { location += (location.isEmpty ? "" : ", ") + "field '\(field)'" }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}

/// Reads datasets: JSON Lines (one item per line; blank lines and lines starting with `//` are
/// skipped) or, for the HTTP API, a JSON array of items.
public enum EvalDataset {
    /// Fields a request may not take from an item's `parameters`: the gateway sets them.
    static let reservedParameters: Set<String> = ["model", "messages", "stream", "stream_options"]

    public static func parse(jsonLines bytes: [UInt8], limit: Int? = nil) throws(EvalDatasetError) -> [EvalItem] {
        var items: [EvalItem] = []
        var ids: Set<String> = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if trimmed.isEmpty || trimmed.starts(with: Array("//".utf8)) { continue }
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let value: JSONValue
            do {
                value = try JSONParser.parse(Array(trimmed))
            } catch {
                throw EvalDatasetError(line: lineNumber, "not valid JSON: \(error)")
            }
            let item = try self.item(value, line: lineNumber, index: items.count)
            guard ids.insert(item.id).inserted else {
                throw EvalDatasetError(line: lineNumber, field: "id", "duplicate id '\(item.id)'")
            }
            items.append(item)
            if let limit, items.count >= limit { break }
        }
        guard !items.isEmpty else { throw EvalDatasetError("the dataset has no items") }
        return items
    }

    /// A JSON array of items (the `dataset` of `POST /spanway/evaluations`).
    public static func parse(array: [JSONValue], limit: Int? = nil) throws(EvalDatasetError) -> [EvalItem] {
        var items: [EvalItem] = []
        var ids: Set<String> = []
        for (index, value) in array.enumerated() {
            if let limit, items.count >= limit { break }
            let item = try self.item(value, line: nil, index: index, fieldPrefix: "dataset[\(index)].")
            guard ids.insert(item.id).inserted else {
                throw EvalDatasetError(field: "dataset[\(index)].id", "duplicate id '\(item.id)'")
            }
            items.append(item)
        }
        guard !items.isEmpty else { throw EvalDatasetError(field: "dataset", "the dataset has no items") }
        return items
    }

    static func item(_ value: JSONValue, line: Int?, index: Int, fieldPrefix: String = "") throws(EvalDatasetError)
        -> EvalItem
    {
        func fail(_ field: String, _ message: String) -> EvalDatasetError {
            EvalDatasetError(line: line, field: fieldPrefix + field, message)
        }
        guard let object = value.objectValue else {
            throw EvalDatasetError(
                line: line, field: fieldPrefix.isEmpty ? nil : String(fieldPrefix.dropLast()),
                "an item must be a JSON object, not \(value.typeName)")
        }
        let id: String
        switch object["id"] {
        case nil, .null?: id = "item-\(index + 1)"
        case .string(let text)?:
            guard !text.isEmpty, text.utf8.count <= 128 else { throw fail("id", "must be 1 to 128 bytes") }
            id = text
        case .number(let text)?: id = text
        case let other?: throw fail("id", "must be a string or a number, not \(other.typeName)")
        }
        let messages: [JSONValue]
        switch (object["messages"], object["input"]) {
        case (let list?, nil):
            guard let array = list.arrayValue, !array.isEmpty else { throw fail("messages", "must be a non-empty array") }
            for (position, message) in array.enumerated() {
                guard message["role"]?.stringValue != nil, message["content"] != nil || message["tool_calls"] != nil else {
                    throw fail("messages[\(position)]", "each message needs a 'role' string and 'content'")
                }
            }
            messages = array
        case (nil, let input?):
            guard let text = input.stringValue else { throw fail("input", "must be a string") }
            messages = [.object(["role": "user", "content": .string(text)])]
        case (nil, nil): throw fail("messages", "an item needs 'messages' or 'input'")
        case (_?, _?): throw fail("input", "give 'messages' or 'input', not both")
        }
        var parameters: JSONObject = [:]
        if let given = object["parameters"] {
            guard let given = given.objectValue else { throw fail("parameters", "must be an object") }
            for key in given.keys where reservedParameters.contains(key) {
                throw fail("parameters.\(key)", "is set by the evaluation, not per item")
            }
            parameters = given
        }
        var metadata: JSONObject = [:]
        if let given = object["metadata"] {
            guard let given = given.objectValue else { throw fail("metadata", "must be an object") }
            metadata = given
        }
        return EvalItem(id: id, messages: messages, expected: object["expected"], parameters: parameters, metadata: metadata)
    }
}
