import NIOCore
import NIOHTTP1
import Telemetry

/// The mock upstream's answers beyond chat and embeddings: OpenAI's Responses API
/// (`/responses`), legacy completions (`/completions`), images, speech, transcriptions and
/// translations (multipart uploads), moderations, and Cohere's rerank (`/rerank`, `/v1/rerank`,
/// `/v2/rerank`). Deterministic like `chat`: the same words, usage counted the same way, ids
/// from the request's fingerprint, and the model-name behaviours (`error-500`, `slow-<ms>`,
/// `drip-<ms>`, `cutoff`, `garbage`, `long`) where they make sense.
extension MockUpstream {
    /// `created` / `created_at` of every answer.
    static let createdAt = 1_700_000_000

    // MARK: - Responses

    /// A `Response` object with one message item holding the mock words; with `stream: true`, the
    /// SSE events in the order OpenAI sends them for a plain text answer (`event:` lines,
    /// `sequence_number` from 0, no `[DONE]`, a final `response.completed` with usage).
    func responses(_ body: JSONObject, model: String) -> UpstreamResponse {
        let words = Self.words(for: model)
        let text = words.joined(separator: " ")
        let fingerprint = Self.fingerprint(body)
        let id = "resp_mock_\(fingerprint)"
        let itemID = "msg_mock_\(fingerprint)"
        let input = Self.countTokens(.array(Self.responsesMessages(body)))
        let output = words.count + 2
        let usage: JSONValue = .object([
            "input_tokens": .int(input), "input_tokens_details": .object(["cached_tokens": .int(0)]),
            "output_tokens": .int(output), "output_tokens_details": .object(["reasoning_tokens": .int(0)]),
            "total_tokens": .int(input + output),
        ])
        let part: JSONValue = .object(["type": "output_text", "text": .string(text), "annotations": .array([])])
        let item: JSONValue = .object([
            "id": .string(itemID), "type": "message", "status": "completed", "role": "assistant",
            "content": .array([part]),
        ])
        let completed = Self.responseObject(body, id: id, model: model, status: "completed", output: [item], usage: usage)
        guard body["stream"]?.boolValue == true else { return Self.json(200, .object(completed)) }

        var frames: [[UInt8]] = []
        var sequence = 0
        func event(_ type: String, _ fields: JSONObject) {
            var data: JSONObject = ["type": .string(type), "sequence_number": .int(sequence)]
            for member in fields.members { data[member.key] = member.value }
            frames.append(Array("event: \(type)\ndata: ".utf8) + JSONValue.object(data).encoded() + Array("\n\n".utf8))
            sequence += 1
        }
        let started = Self.responseObject(body, id: id, model: model, status: "in_progress", output: [], usage: .null)
        let position: JSONObject = ["item_id": .string(itemID), "output_index": .int(0), "content_index": .int(0)]
        func at(_ fields: JSONObject) -> JSONObject {
            var all = position
            for member in fields.members { all[member.key] = member.value }
            return all
        }
        event("response.created", ["response": .object(started)])
        event("response.in_progress", ["response": .object(started)])
        event(
            "response.output_item.added",
            [
                "output_index": .int(0),
                "item": .object([
                    "id": .string(itemID), "type": "message", "status": "in_progress", "role": "assistant",
                    "content": .array([]),
                ]),
            ])
        event(
            "response.content_part.added",
            at(["part": .object(["type": "output_text", "text": "", "annotations": .array([])])]))
        for (i, word) in words.enumerated() {
            event(
                "response.output_text.delta", at(["delta": .string(i == 0 ? word : " " + word), "logprobs": .array([])]))
        }
        event("response.output_text.done", at(["text": .string(text), "logprobs": .array([])]))
        event("response.content_part.done", at(["part": part]))
        event("response.output_item.done", ["output_index": .int(0), "item": item])
        event("response.completed", ["response": .object(completed)])
        // `cutoff`: the connection closes after two words, with no terminal event.
        if model.contains("cutoff") { frames = Array(frames.prefix(6)) }
        return sse(frames, model: model)
    }

    /// The `Response` object's fields, the request's settings echoed as OpenAI does.
    static func responseObject(
        _ body: JSONObject, id: String, model: String, status: String, output: [JSONValue], usage: JSONValue
    ) -> JSONObject {
        var object: JSONObject = [
            "id": .string(id), "object": "response", "created_at": .int(createdAt), "status": .string(status),
        ]
        object["completed_at"] = status == "completed" ? JSONValue.int(createdAt + 1) : JSONValue.null
        object["error"] = JSONValue.null
        object["incomplete_details"] = JSONValue.null
        object["model"] = .string(model)
        object["output"] = .array(output)
        object["usage"] = usage
        let echoed: [(String, JSONValue)] = [
            ("instructions", .null), ("max_output_tokens", .null), ("parallel_tool_calls", .bool(true)),
            ("previous_response_id", .null), ("store", .bool(true)), ("temperature", .int(1)),
            ("text", .object(["format": .object(["type": "text"])])), ("tool_choice", .string("auto")),
            ("tools", .array([])), ("top_p", .int(1)), ("truncation", .string("disabled")),
            ("metadata", .object(JSONObject())),
        ]
        for (key, fallback) in echoed { object[key] = body[key] ?? fallback }
        object["reasoning"] = .object(["effort": .null, "summary": .null])
        return object
    }

    /// `POST /responses/input_tokens`: the input tokens a `responses` call would report.
    func responsesInputTokens(_ body: JSONObject) -> UpstreamResponse {
        Self.json(
            200,
            .object([
                "object": "response.input_tokens", "input_tokens": .int(Self.countTokens(.array(Self.responsesMessages(body)))),
            ]))
    }

    /// A Responses request's instructions and input as messages, to count like chat's.
    static func responsesMessages(_ body: JSONObject) -> [JSONValue] {
        var messages: [JSONValue] = []
        if let instructions = body["instructions"]?.stringValue {
            messages.append(.object(["role": "system", "content": .string(instructions)]))
        }
        switch body["input"] {
        case .string(let text)?: messages.append(.object(["role": "user", "content": .string(text)]))
        case .array(let items)?: messages += items
        default: break
        }
        return messages
    }

    // MARK: - Legacy completions

    /// A `text_completion` with the mock words; streamed as one chunk a word, `finish_reason`
    /// on the last, a usage chunk with `choices: []` when `stream_options.include_usage`, then
    /// `[DONE]`.
    func completions(_ body: JSONObject, model: String) -> UpstreamResponse {
        let words = Self.words(for: model)
        let input = Self.promptTokens(body["prompt"])
        let output = words.count + 2
        let usage: JSONValue = .object([
            "prompt_tokens": .int(input), "completion_tokens": .int(output), "total_tokens": .int(input + output),
        ])
        let id = "cmpl-mock-\(Self.fingerprint(body))"
        func completion(_ choices: [JSONValue], usage: JSONValue?) -> JSONValue {
            var object: JSONObject = [
                "id": .string(id), "object": "text_completion", "created": .int(Self.createdAt), "model": .string(model),
                "choices": .array(choices),
            ]
            if let usage { object["usage"] = usage }
            return .object(object)
        }
        func choice(_ text: String, finish: String?) -> JSONValue {
            .object([
                "text": .string(text), "index": .int(0), "logprobs": .null,
                "finish_reason": finish.map(JSONValue.string) ?? .null,
            ])
        }
        guard body["stream"]?.boolValue == true else {
            return Self.json(200, completion([choice(words.joined(separator: " "), finish: "stop")], usage: usage))
        }
        let includeUsage = body["stream_options"]?["include_usage"]?.boolValue == true
        var chunks: [JSONValue] = []
        for (i, word) in words.enumerated() {
            chunks.append(
                completion(
                    [choice(i == 0 ? word : " " + word, finish: i == words.count - 1 ? "stop" : nil)],
                    usage: includeUsage ? JSONValue.null : nil))
        }
        if includeUsage { chunks.append(completion([], usage: usage)) }
        var frames = chunks.map { Array("data: ".utf8) + $0.encoded() + Array("\n\n".utf8) }
        frames.append(Array("data: [DONE]\n\n".utf8))
        // `cutoff`: two words, then the connection closes.
        if model.contains("cutoff") { frames = Array(frames.prefix(2)) }
        return sse(frames, model: model)
    }

    /// A completions prompt's tokens: about four characters a token for text, one a token id.
    static func promptTokens(_ prompt: JSONValue?) -> Int {
        guard let prompt else { return 0 }
        if let text = prompt.stringValue { return max(1, text.count / 4) }
        var count = 0
        for item in prompt.arrayValue ?? [] {
            if let text = item.stringValue {
                count += max(1, text.count / 4)
            } else if let tokens = item.arrayValue {
                count += tokens.count
            } else {
                count += 1
            }
        }
        return count
    }

    // MARK: - Images

    /// The eight bytes of a PNG signature and the image's index: `n` tiny "images".
    static func imageBytes(index: Int) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, UInt8(truncatingIfNeeded: index)]
    }

    /// Output tokens an image costs (gpt-image-1's figure for a low-quality square).
    static let imageOutputTokens = 272

    /// `n` images as base64 (`imageBytes`), with GPT image models' token usage: the prompt at
    /// about four characters a token, `imageOutputTokens` an image.
    func imageGeneration(_ body: JSONObject, model: String) -> UpstreamResponse {
        let n = max(1, body["n"]?.intValue ?? 1)
        let input = max(1, (body["prompt"]?.stringValue ?? "").count / 4)
        let output = Self.imageOutputTokens * n
        let data = (0..<n).map { index in
            JSONValue.object(["b64_json": .string(Self.base64(Self.imageBytes(index: index)))])
        }
        var answer: JSONObject = ["created": .int(Self.createdAt), "data": .array(data)]
        answer["background"] = .string("opaque")
        answer["output_format"] = .string("png")
        answer["quality"] = body["quality"] ?? .string("low")
        answer["size"] = body["size"] ?? .string("1024x1024")
        answer["usage"] = .object([
            "input_tokens": .int(input),
            "input_tokens_details": .object(["text_tokens": .int(input), "image_tokens": .int(0)]),
            "output_tokens": .int(output), "total_tokens": .int(input + output),
        ])
        guard body["stream"]?.boolValue == true else { return Self.json(200, .object(answer)) }
        // Streamed (gpt-image models): one partial image when asked for, then each image
        // completed with its own usage.
        let each: JSONValue = .object([
            "input_tokens": .int(input), "output_tokens": .int(Self.imageOutputTokens),
            "total_tokens": .int(input + Self.imageOutputTokens),
        ])
        var frames: [[UInt8]] = []
        for image in data {
            var fields: JSONObject = [
                "b64_json": image["b64_json"] ?? .null, "created_at": .int(Self.createdAt), "output_format": "png",
                "size": answer["size"] ?? .null, "quality": answer["quality"] ?? .null, "background": "opaque",
            ]
            if (body["partial_images"]?.intValue ?? 0) > 0 {
                var partial = fields
                partial["partial_image_index"] = .int(0)
                frames.append(Self.typedEvent("image_generation.partial_image", partial))
            }
            fields["usage"] = each
            frames.append(Self.typedEvent("image_generation.completed", fields))
        }
        return sse(frames, model: model)
    }

    /// An SSE frame named by its type, as OpenAI's typed streams send them.
    static func typedEvent(_ type: String, _ fields: JSONObject) -> [UInt8] {
        var data: JSONObject = ["type": .string(type)]
        for member in fields.members { data[member.key] = member.value }
        return Array("event: \(type)\ndata: ".utf8) + JSONValue.object(data).encoded() + Array("\n\n".utf8)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1: UInt8 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2: UInt8 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int(((b0 & 0x03) << 4) | (b1 >> 4))])
            out.append(i + 1 < bytes.count ? alphabet[Int(((b1 & 0x0F) << 2) | (b2 >> 6))] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Moderations

    /// The category keys of a moderation result, as they are on the wire.
    static let moderationCategories = [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent", "self-harm",
        "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ]

    /// Nothing flagged: one result an input string (an array of text and image parts is one input).
    func moderations(_ body: JSONObject, model: String) -> UpstreamResponse {
        var count = 1
        if let items = body["input"]?.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) {
            count = items.count
        }
        var categories = JSONObject()
        var scores = JSONObject()
        var applied = JSONObject()
        for name in Self.moderationCategories {
            categories[name] = .bool(false)
            scores[name] = .number("0.0")
            applied[name] = JSONValue.array(["text"])
        }
        let result: JSONValue = .object([
            "flagged": .bool(false), "categories": .object(categories), "category_scores": .object(scores),
            "category_applied_input_types": .object(applied),
        ])
        return Self.json(
            200,
            .object([
                "id": .string("modr-mock-\(Self.fingerprint(body))"),
                "model": .string(body["model"]?.stringValue ?? "omni-moderation-latest"),
                "results": .array(Array(repeating: result, count: count)),
            ]))
    }

    // MARK: - Speech

    /// "ID3" and then the input's UTF-8 bytes four times, each its own buffer; the content type
    /// follows `response_format` (mp3, `audio/mpeg`, by default).
    func speech(_ body: JSONObject, model: String) -> UpstreamResponse {
        let input = Array((body["input"]?.stringValue ?? "").utf8)
        let frames = [Array("ID3".utf8)] + Array(repeating: input, count: 4)
        let types = [
            "mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav",
            "pcm": "audio/pcm",
        ]
        let contentType = types[body["response_format"]?.stringValue ?? "mp3"] ?? "audio/mpeg"
        let drip = Self.number(after: "drip-", in: model)
        return UpstreamResponse(
            status: 200, headers: ["content-type": contentType],
            body: drip.map { stream(frames, delay: .milliseconds($0)) } ?? Self.bytes(frames))
    }

    // MARK: - Transcriptions and translations (multipart)

    /// The answer to a `multipart/form-data` request, or nil when the request is not one (then
    /// `respond` reads it as JSON). Transcriptions and translations say the uploaded file's
    /// name and size and the model they were asked of, so a test can check what arrived; the
    /// duration is a second for every 16,000 bytes (at least one).
    func multipartAnswer(_ request: UpstreamRequest, path: String) async throws -> UpstreamResponse? {
        guard request.method == .POST, let contentType = request.headers.first(name: "content-type"),
            contentType.lowercased().hasPrefix("multipart/form-data")
        else { return nil }
        guard let boundary = Self.boundary(in: contentType), let fields = Self.formFields(request.bodyBytes, boundary: boundary)
        else {
            return Self.error(400, "body is not a valid multipart/form-data form", type: "invalid_request_error")
        }
        func field(_ name: String) -> String? {
            fields.first(where: { $0.name == name }).map { String(decoding: $0.value, as: UTF8.self) }
        }
        let model = field("model") ?? "mock"
        if let scripted = try await Self.scripted(model) { return scripted }
        let translating = path.hasSuffix("/audio/translations")
        guard translating || path.hasSuffix("/audio/transcriptions") else {
            return Self.error(404, "no route \(path)", type: "invalid_request_error")
        }
        guard let file = fields.first(where: { $0.name == "file" }) else {
            return Self.error(400, "'file' is required", type: "invalid_request_error", param: "file")
        }
        let size = file.value.count
        let seconds = max(1, size / 16_000)
        let text = "\(translating ? "Translated" : "Transcribed") \(file.filename ?? "file") (\(size) bytes) with \(model)."
        func plain(_ body: String, _ type: String) -> UpstreamResponse {
            UpstreamResponse(status: 200, headers: ["content-type": type], body: Self.bytes([Array(body.utf8)]))
        }
        // Streamed (gpt-4o-transcribe): the words as deltas, then the whole text with token usage.
        if field("stream") == "true" && !translating {
            let words = text.split(separator: " ")
            var frames = words.enumerated().map { index, word in
                Self.typedEvent("transcript.text.delta", ["delta": .string((index == 0 ? "" : " ") + word)])
            }
            frames.append(
                Self.typedEvent(
                    "transcript.text.done",
                    [
                        "text": .string(text),
                        "usage": .object([
                            "type": "tokens", "input_tokens": .int(seconds * 10), "output_tokens": .int(words.count),
                            "total_tokens": .int(seconds * 10 + words.count),
                        ]),
                    ]))
            return sse(frames, model: model)
        }
        switch field("response_format") ?? "json" {
        case "json":
            return Self.json(
                200,
                .object([
                    "text": .string(text), "usage": .object(["type": "duration", "seconds": .int(seconds)]),
                ]))
        case "verbose_json":
            return Self.json(
                200,
                .object([
                    "task": .string(translating ? "translate" : "transcribe"), "language": "english",
                    "duration": .int(seconds), "text": .string(text), "segments": .array([]),
                ]))
        case "text":
            return plain(text + "\n", "text/plain; charset=utf-8")
        case "srt":
            return plain("1\n00:00:00,000 --> \(Self.timestamp(seconds, ","))\n\(text)\n\n", "application/x-subrip")
        case "vtt":
            return plain("WEBVTT\n\n00:00:00.000 --> \(Self.timestamp(seconds, "."))\n\(text)\n\n", "text/vtt")
        case let other:
            return Self.error(
                400, "response_format '\(other)' is not supported", type: "invalid_request_error", param: "response_format")
        }
    }

    /// `hh:mm:ss<separator>000`.
    static func timestamp(_ seconds: Int, _ separator: String) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))\(separator)000"
    }

    /// The `boundary` parameter of a `multipart/form-data` content type, unquoted.
    static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].drop(while: { $0 == " " }).lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// A form's parts, minimally: each part's name, file name and bytes. Nil when it is malformed.
    static func formFields(_ body: [UInt8], boundary: String) -> [MockFormField]? {
        let delimiter = Array("--\(boundary)".utf8)
        let crlf = Array("\r\n".utf8)
        guard var start = firstIndex(of: delimiter, in: body, from: 0) else { return nil }
        var fields: [MockFormField] = []
        while true {
            var cursor = start + delimiter.count
            // `--` after a delimiter closes the form.
            if cursor + 1 < body.count, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") {
                return fields
            }
            guard let lineEnd = firstIndex(of: crlf, in: body, from: cursor) else { return nil }
            cursor = lineEnd + 2
            guard let headersEnd = firstIndex(of: crlf + crlf, in: body, from: cursor) else { return nil }
            let headers = String(decoding: body[cursor..<headersEnd], as: UTF8.self)
            let contentStart = headersEnd + 4
            guard let next = firstIndex(of: crlf + delimiter, in: body, from: contentStart) else { return nil }
            var name: String?
            var filename: String?
            for line in headers.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" })
            where line.lowercased().hasPrefix("content-disposition:") {
                name = dispositionParameter("name", in: line)
                filename = dispositionParameter("filename", in: line)
            }
            guard let name else { return nil }
            fields.append(MockFormField(name: name, filename: filename, value: Array(body[contentStart..<next])))
            start = next + 2
        }
    }

    /// `name="value"` in a `Content-Disposition` line.
    static func dispositionParameter(_ name: String, in line: Substring) -> String? {
        for piece in line.split(separator: ";") {
            let trimmed = piece.drop(while: { $0 == " " })
            guard trimmed.lowercased().hasPrefix(name + "=") else { continue }
            var value = trimmed.dropFirst(name.count + 1)
            if value.hasPrefix("\"") {
                value = value.dropFirst()
                if value.hasSuffix("\"") { value = value.dropLast() }
            }
            return String(value)
        }
        return nil
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, start >= 0, haystack.count >= needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    // MARK: - Rerank (Cohere)

    /// Cohere's rerank: each document scored by the share of the query's words it contains,
    /// best first (ties by index), `top_n` of them; v1 (any path but `/v2/rerank`) also takes
    /// document objects (their `text`) and returns `document: {text}` with `return_documents`.
    /// v2 takes strings only, as Cohere's does.
    func rerank(_ body: JSONObject, model: String, path: String) -> UpstreamResponse {
        let v2 = path.hasSuffix("/v2/rerank")
        guard let query = body["query"]?.stringValue, let documents = body["documents"]?.arrayValue else {
            return Self.error(400, "'query' and 'documents' are required", type: "invalid_request_error")
        }
        if v2, documents.contains(where: { $0.stringValue == nil }) {
            return Self.error(400, "v2 rerank takes documents as strings", type: "invalid_request_error", param: "documents")
        }
        let texts = documents.map { $0.stringValue ?? $0["text"]?.stringValue ?? "" }
        let queryWords = Set(Self.rerankWords(query))
        var scored: [(index: Int, score: Double)] = []
        for (index, text) in texts.enumerated() {
            let words = Set(Self.rerankWords(text))
            let found = queryWords.filter { words.contains($0) }.count
            scored.append((index: index, score: Double(found) / Double(max(1, queryWords.count))))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        if let topN = body["top_n"]?.intValue { scored = Array(scored.prefix(max(0, topN))) }
        let withDocuments = !v2 && body["return_documents"]?.boolValue == true
        let results = scored.map { entry -> JSONValue in
            var result: JSONObject = ["index": .int(entry.index), "relevance_score": .double(entry.score)]
            if withDocuments { result["document"] = .object(["text": .string(texts[entry.index])]) }
            return .object(result)
        }
        return Self.json(
            200,
            .object([
                "id": .string("rerank-mock-\(Self.fingerprint(body))"), "results": .array(results),
                "meta": .object([
                    "api_version": .object(["version": "2"]), "billed_units": .object(["search_units": .int(1)]),
                ]),
            ]))
    }

    /// Lowercased runs of letters and digits.
    static func rerankWords(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }

    // MARK: - Shared

    /// An event stream, its frames dripped with `drip-<ms>` in the model name.
    func sse(_ frames: [[UInt8]], model: String) -> UpstreamResponse {
        let drip = Self.number(after: "drip-", in: model)
        return UpstreamResponse(
            status: 200, headers: ["content-type": "text/event-stream"],
            body: drip.map { stream(frames, delay: .milliseconds($0)) } ?? Self.bytes(frames))
    }
}

/// One part of a multipart form, as the mock upstream reads it.
struct MockFormField: Sendable {
    var name: String
    var filename: String?
    var value: [UInt8]
}
