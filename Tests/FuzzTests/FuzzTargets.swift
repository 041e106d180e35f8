import Foundation
import NIOCore
import NIOHTTP1
import Sinks
import Telemetry

@testable import Proxy

/// Every fuzz target and the properties it checks. Iteration counts are set so the whole suite
/// takes about a minute in a debug build on two cores (see FuzzTests).
enum FuzzTargets {
    static let all: [FuzzTarget] =
        [
            json, chatRequest, embeddingsRequest, responsesRequest, completionsRequest, multipartForm, sse, ndjson,
            eventStream, yamlConfig, retryAfter,
        ] + providers.flatMap { [response($0), stream($0), error($0)] }

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    // MARK: JSON

    static let jsonTokens = ["\"k\":", "\\n", "\\\"", "\\/", "1.5e-7", "{\"a\":[1,{\"b\":null}]}", "  ", "\t"]

    /// Tight limits, so the limit paths are fuzzed too without building big trees.
    static let tightLimits = JSONParser.Limits(maxDepth: 8, maxElements: 40, maxStringBytes: 64)

    static let json = FuzzTarget(name: "json", iterations: 40_000, tokens: jsonTokens) { input, rng in
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser.parse(input)
        } catch {
            guard (0...input.count).contains(error.offset) else {
                throw PropertyFailure("error offset \(error.offset) outside the input (\(input.count) bytes)")
            }
            return false
        }
        // Numbers are kept as text; every accessor on outside numbers must not trap.
        touchNumbers(value)
        let encoded = value.encoded()
        guard let again = try? JSONParser.parse(encoded), again == value else {
            throw PropertyFailure("parse(encode(parse(x))) != parse(x); encoded: \(String(decoding: encoded, as: UTF8.self))")
        }
        // Anything that fits under tight limits parses to the same value under them.
        if let tight = try? JSONParser.parse(input, limits: tightLimits), tight != value {
            throw PropertyFailure("parse under tight limits gave a different value")
        }
        return true
    }

    static func touchNumbers(_ value: JSONValue) {
        switch value {
        case .number:
            _ = value.intValue
            _ = value.doubleValue
        case .array(let values): values.forEach(touchNumbers)
        case .object(let object): object.members.forEach { touchNumbers($0.value) }
        default: break
        }
    }

    /// Raw text that must be one JSON object equal to `object` (what the gateway forwards).
    static func expectObject(_ raw: [UInt8], equals object: JSONObject? = nil, _ what: String) throws {
        guard let parsed = try? JSONParser.parse(raw, limits: .upstreamResponse), let parsedObject = parsed.objectValue
        else { throw PropertyFailure("\(what) is not a JSON object: \(String(decoding: raw.prefix(400), as: UTF8.self))") }
        if let object, parsedObject != object {
            throw PropertyFailure("\(what): its raw text does not parse to its object")
        }
    }

    // MARK: OpenAI request validation

    static let requestTokens =
        jsonTokens + [
            "\"model\":", "\"messages\":", "\"role\":\"user\"", "\"content\":", "\"stream\":true", "\"n\":",
            "\"max_tokens\":", "\"temperature\":", "\"tools\":", "\"tool_choice\":", "\"response_format\":",
            "\"input\":", "\"stop\":", "\"image_url\":", "\"fallbacks\":", "\"timeout\":", "\"api_base\":",
            "\"dimensions\":", "\"encoding_format\":", "\"reasoning_effort\":", "\"stream_options\":{\"include_usage\":true}",
            "\"type\":\"function\"", "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}", "\"tool_calls\":",
        ]

    static let chatRequest = FuzzTarget(name: "openai-chat-request", iterations: 20_000, tokens: requestTokens) {
        input, _ in try validateRequest(input, operation: .chat)
    }

    static let embeddingsRequest = FuzzTarget(
        name: "openai-embeddings-request", iterations: 12_000, tokens: requestTokens
    ) { input, _ in try validateRequest(input, operation: .embeddings) }

    /// The request `input` makes, or nil when it is refused with a 400 (any other refusal breaks
    /// the property).
    static func accepted(_ input: [UInt8], operation: OpenAIRequest.Operation) throws -> OpenAIRequest? {
        do throws(GatewayError) {
            return try OpenAIRequest(operation: operation, bytes: input)
        } catch {
            guard error.status == 400 else { throw PropertyFailure("refused with status \(error.status), not 400") }
            return nil
        }
    }

    /// A request is either refused with a 400 or accepted; an accepted one survives a re-encode
    /// and translates for every provider into JSON (or a 400), never a crash.
    static func validateRequest(_ input: [UInt8], operation: OpenAIRequest.Operation) throws -> Bool {
        guard let request = try accepted(input, operation: operation) else { return false }
        guard !request.model.isEmpty else { throw PropertyFailure("accepted an empty model") }
        do {
            _ = try OpenAIRequest(operation: operation, bytes: JSONValue.object(request.body).encoded())
        } catch {
            throw PropertyFailure("the accepted body, re-encoded, is refused: \(error.message)")
        }
        for provider in providers {
            guard let upstream = try? provider.adapter.request(for: request, deployment: provider.deployment) else {
                continue
            }
            try expectObject(upstream.body, "the \(provider.name) request body")
        }
        return true
    }

    // MARK: Endpoints served through chat, and uploads

    static let endpointTokens =
        requestTokens + [
            "\"instructions\":", "\"previous_response_id\":", "\"type\":\"message\"", "\"type\":\"input_text\"",
            "\"type\":\"input_image\"", "\"type\":\"function_call_output\"", "\"call_id\":\"c\"", "\"output\":",
            "\"type\":\"item_reference\"", "\"max_output_tokens\":", "\"reasoning\":{\"effort\":\"low\"}",
            "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"n\",\"schema\":{}}}", "\"store\":false",
            "\"parallel_tool_calls\":false", "\"prompt\":", "\"echo\":true", "\"logprobs\":", "\"suffix\":",
            "\"best_of\":", "[1,2]",
        ]

    static let responsesRequest = FuzzTarget(
        name: "openai-responses-request", iterations: 40_000, tokens: endpointTokens
    ) { input, _ in
        try throughChat(input, operation: .responses) { body throws(GatewayError) in
            try ResponsesInbound.chatRequest(from: body, history: [])
        }
    }

    static let completionsRequest = FuzzTarget(
        name: "openai-completions-request", iterations: 20_000, tokens: endpointTokens
    ) { input, _ in
        try throughChat(input, operation: .textCompletion) { body throws(GatewayError) in
            try CompletionsInbound.chatRequest(from: body)
        }
    }

    /// A request of an endpoint that non-OpenAI providers get as a chat completion: refused with
    /// a 400 or accepted; an accepted one translates (or is refused with a 400) into a chat
    /// request that the chat validation accepts and that passes the chat request's properties.
    static func throughChat(
        _ input: [UInt8], operation: OpenAIRequest.Operation,
        translate: (JSONObject) throws(GatewayError) -> JSONObject
    ) throws -> Bool {
        guard let request = try accepted(input, operation: operation) else { return false }
        let chat: JSONObject
        do {
            chat = try translate(request.body)
        } catch {
            guard error.status == 400 else { throw PropertyFailure("translation refused with \(error.status), not 400") }
            return true
        }
        let encoded = JSONValue.object(chat).encoded()
        guard try validateRequest(encoded, operation: .chat) else {
            throw PropertyFailure("the translated chat request is refused: \(String(decoding: encoded, as: UTF8.self))")
        }
        return true
    }

    static let multipartBoundary = "fuzz-b0undary"
    static let multipartTokens = [
        "--\(multipartBoundary)\r\n", "\r\n--\(multipartBoundary)--\r\n", "\r\n", "\r\n\r\n",
        "Content-Disposition: form-data; name=\"", "\"; filename=\"", "Content-Type: audio/wav\r\n", "model", "file",
        "language", "response_format", "timestamp_granularities[]", "\\\"", "\\\"\u{301}", "\u{301}", "%22", "name*=UTF-8''x",
    ]

    /// An upload body is refused with a 400 or parsed; what the gateway forwards of a parsed one
    /// parses to the same parts (the provider reads what the gateway read, quotes in names aside),
    /// and as an audio
    /// request it is accepted or refused with a 400.
    static let multipartForm = FuzzTarget(name: "multipart-form", iterations: 40_000, tokens: multipartTokens) {
        input, _ in
        let form: MultipartForm
        do throws(GatewayError) {
            form = try MultipartForm(
                body: ByteBuffer(bytes: input), contentType: "multipart/form-data; boundary=\(multipartBoundary)")
        } catch {
            guard error.status == 400 else { throw PropertyFailure("refused with status \(error.status), not 400") }
            return false
        }
        var forwarded = ByteBuffer()
        for piece in form.replacing([:]) { forwarded.writeImmutableBuffer(piece) }
        let again: MultipartForm
        do throws(GatewayError) {
            again = try MultipartForm(body: forwarded, contentType: form.contentType)
        } catch {
            throw PropertyFailure("the forwarded form does not parse: \(error.message)")
        }
        // Quotes in names and filenames are forwarded as browsers send them, `%22` (by scalar: a
        // quote and a combining mark are one Character).
        func browserQuoted(_ text: String) -> String {
            var out = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                if scalar == "\"" { out.append(contentsOf: "%22".unicodeScalars) } else { out.append(scalar) }
            }
            return String(out)
        }
        let sent = form.parts.map { part in
            var part = part
            part.name = browserQuoted(part.name)
            part.filename = part.filename.map(browserQuoted)
            return part
        }
        guard again.parts == sent else { throw PropertyFailure("the forwarded form's parts differ") }
        do throws(GatewayError) {
            _ = try OpenAIRequest(operation: .audioTranscription, form: form)
        } catch {
            guard error.status == 400 else { throw PropertyFailure("as an upload, refused with \(error.status), not 400") }
        }
        return true
    }

    // MARK: stream framing

    static let sseTokens = [
        "data: ", "data:", "event: ", "event:", ": ping\n", "id: 1\n", "retry: 10\n", "data: [DONE]\n\n", "\r",
        "\n", "\r\n\r\n", "data: {\"a\":1}\n\n",
    ]

    static let sse = FuzzTarget(name: "sse", iterations: 20_000, tokens: sseTokens) { input, rng in
        // Small bounds half the time, so the bound checks themselves are fuzzed.
        let small = rng.chance(50)
        func decoder() -> SSEDecoder {
            small ? SSEDecoder(maxLineLength: 64, maxEventSize: 256) : SSEDecoder()
        }
        var whole = decoder()
        var split = decoder()
        let wholeEvents: [SSEEvent]?
        do {
            var events = try whole.feed(input)
            if let last = whole.finish() { events.append(last) }
            wholeEvents = events
        } catch { wholeEvents = nil }
        let splitEvents: [SSEEvent]?
        do {
            var events: [SSEEvent] = []
            for piece in rng.pieces(input) { events += try split.feed(piece) }
            if let last = split.finish() { events.append(last) }
            splitEvents = events
        } catch { splitEvents = nil }
        guard wholeEvents == splitEvents else {
            throw PropertyFailure("events depend on how the bytes were split")
        }
        for event in wholeEvents ?? [] where event.data.count > whole.maxEventSize {
            throw PropertyFailure("an event of \(event.data.count) bytes passed the \(whole.maxEventSize) byte bound")
        }
        return wholeEvents != nil
    }

    static let ndjson = FuzzTarget(name: "ndjson", iterations: 20_000, tokens: ["\n", "\r\n", "{\"done\":true}\n", " \t\n"]) {
        input, rng in
        let small = rng.chance(50)
        var whole = small ? NDJSONDecoder(maxLineLength: 64) : NDJSONDecoder()
        var split = whole
        let wholeLines: [[UInt8]]?
        do {
            var lines = try whole.feed(input)
            if let last = whole.finish() { lines.append(last) }
            wholeLines = lines
        } catch { wholeLines = nil }
        let splitLines: [[UInt8]]?
        do {
            var lines: [[UInt8]] = []
            for piece in rng.pieces(input) { lines += try split.feed(piece) }
            if let last = split.finish() { lines.append(last) }
            splitLines = lines
        } catch { splitLines = nil }
        guard wholeLines == splitLines else { throw PropertyFailure("lines depend on how the bytes were split") }
        for line in wholeLines ?? [] where line.count > whole.maxLineLength || line.contains(0x0A) {
            throw PropertyFailure("a line of \(line.count) bytes passed the bound or kept its newline")
        }
        return wholeLines != nil
    }

    static let eventStreamTokens = [
        ":message-type", ":event-type", "event", "exception", "contentBlockDelta", "messageStop", "metadata",
    ]

    static let eventStream = FuzzTarget(
        name: "aws-eventstream", iterations: 2_000, tokens: eventStreamTokens, maxLength: 16 * 1024,
        fixup: fixEventStreamChecksums
    ) { input, rng in
        var whole = EventStreamDecoder()
        var split = EventStreamDecoder()
        let wholeMessages: [EventStreamMessage]?
        do {
            let messages = try whole.feed(ByteBuffer(bytes: input))
            try whole.finish()
            wholeMessages = messages
        } catch { wholeMessages = nil }
        let splitMessages: [EventStreamMessage]?
        do {
            var messages: [EventStreamMessage] = []
            for piece in rng.pieces(input) { messages += try split.feed(ByteBuffer(bytes: piece)) }
            try split.finish()
            splitMessages = messages
        } catch { splitMessages = nil }
        guard wholeMessages == splitMessages else { throw PropertyFailure("messages depend on how the bytes were split") }
        return wholeMessages != nil
    }

    /// Recomputes the prelude and message CRCs of each frame (most of the time), so mutations
    /// reach the length, header and payload checks instead of all failing at the first checksum.
    @Sendable static func fixEventStreamChecksums(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        guard rng.chance(80) else { return }
        var offset = 0
        while offset + 12 <= bytes.count {
            let total = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            put(CRC32.checksum(bytes[offset..<offset + 8]), into: &bytes, at: offset + 8)
            guard total >= 16, offset + total <= bytes.count else { return }
            put(CRC32.checksum(bytes[offset..<offset + total - 4]), into: &bytes, at: offset + total - 4)
            offset += total
        }
    }

    static func put(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * i)) }
    }

    // MARK: config and headers

    static let yamlTokens = [
        "model_list:\n", "  - model_name: m\n", "    litellm_params:\n", "      model: openai/gpt-4o\n",
        "os.environ/FUZZ_KEY", "os.environ/", ": ", "- ", "&a ", "*a", "<<: *a", "!!binary ", "!!int ", "---\n", "...\n",
        "%YAML 1.1\n", "? ", "|\n", ">\n", "'", "{", "}", "[", "]", "~", ".inf", "-.inf", ".nan", "0x7fffffffffffffff",
        "1e309", "max_request_size_mb: ", "rpm: ", "tpm: ", "timeout: ", "num_retries: ", "weight: ", "order: ",
        "general_settings:\n", "router_settings:\n", "litellm_settings:\n", "spanway_settings:\n", "fallbacks: ",
        "api_base: ", "master_key: ", "stream_timeout: ", "max_budget: ", "budget_duration: 1d", "cooldown_time: ",
    ]

    static let yamlConfig = FuzzTarget(name: "yaml-config", iterations: 10_000, tokens: yamlTokens, maxLength: 8 * 1024) {
        input, _ in
        let text = String(decoding: input, as: UTF8.self)
        let loader = ProviderCatalogue.configLoader(environment: ["FUZZ_KEY": "sk-fuzz-env-0123456789"])
        let (config, issues) = loader.check(yaml: text)
        let hasErrors = issues.contains { $0.severity == .error }
        guard let config, !hasErrors else { return false }
        // `load` is `check` plus the verdict: the same text must load.
        guard (try? loader.load(yaml: text)) != nil else { throw PropertyFailure("check accepted what load refused") }
        guard config.maxRequestBodyBytes > 0 else {
            throw PropertyFailure("a request body limit of \(config.maxRequestBodyBytes)")
        }
        return true
    }

    static let retryAfter = FuzzTarget(
        name: "retry-after", iterations: 20_000,
        tokens: ["Sun, ", "06 Nov ", "1994 ", "08:49:37 ", "GMT", "Feb", "99999999999999999999", "-", "1e300", " ", "\t", ":"],
        maxLength: 256
    ) { input, _ in
        let text = String(decoding: input, as: UTF8.self)
        guard let wait = RetryAfter.parse(text, nowSeconds: 1_700_000_000) else { return false }
        guard wait >= .zero, wait <= OutsideNumber.maximumWait else {
            throw PropertyFailure("Retry-After '\(text)' became \(wait), outside 0...\(OutsideNumber.maximumWait)")
        }
        return true
    }

    // MARK: providers

    struct Provider: Sendable {
        let name: String
        let adapter: any ProviderAdapter
        let deployment: DeploymentConfig
        let responseTokens: [String]
        /// Whether `makeStreamDecoder` reads AWS event-stream frames (checksums fixed up).
        var binaryStream = false
    }

    static let secret = "sk-fuzzsecret-0123456789abcdef"
    static let awsSecret = "fuzzAwsSecretKey/0123456789EXAMPLEKEY"

    static func deployment(_ provider: String, _ model: String, apiBase: String? = nil) -> DeploymentConfig {
        var config = DeploymentConfig(
            modelName: "fuzz", provider: provider, model: model, id: "fuzz-\(provider)", apiBase: apiBase, apiKey: secret)
        if provider == "bedrock" {
            config.providerParams = [
                "aws_access_key_id": "AKIAFUZZ", "aws_secret_access_key": awsSecret, "aws_region_name": "us-east-1",
            ]
        }
        return config
    }

    static let openAITokens = [
        "\"choices\":", "\"delta\":", "\"usage\":", "\"prompt_tokens\":", "\"completion_tokens\":", "\"finish_reason\":",
        "\"tool_calls\":", "\"index\":", "\"data\":", "\"embedding\":", "\"error\":", "\"message\":", "\"code\":",
        "\"content_filter\"", "\"prompt_tokens_details\":{\"cached_tokens\":", "data: [DONE]\n\n",
    ]

    static let providers: [Provider] = [
        Provider(
            name: "openai", adapter: OpenAIAdapter(), deployment: deployment("openai", "gpt-4o-mini"),
            responseTokens: openAITokens),
        Provider(
            name: "azure", adapter: AzureAdapter(),
            deployment: deployment("azure", "gpt-4o", apiBase: "https://fuzz.openai.azure.com"),
            responseTokens: openAITokens + ["\"content_filter_results\":", "\"innererror\":"]),
        Provider(
            name: "anthropic", adapter: AnthropicAdapter(), deployment: deployment("anthropic", "claude-sonnet-4"),
            responseTokens: [
                "event: content_block_delta\n", "event: message_delta\n", "\"type\":\"text_delta\"",
                "\"type\":\"input_json_delta\"", "\"partial_json\":", "\"type\":\"tool_use\"", "\"thinking\":",
                "\"stop_reason\":", "\"input_tokens\":", "\"output_tokens\":", "\"cache_read_input_tokens\":",
                "\"content_block\":", "\"index\":", "\"error\":", "\"overloaded_error\"",
            ]),
        Provider(
            name: "gemini", adapter: GeminiAdapter(platform: .aiStudio, environment: [:]),
            deployment: deployment("gemini", "gemini-2.5-flash"),
            responseTokens: [
                "\"candidates\":", "\"content\":", "\"parts\":", "\"text\":", "\"thought\":true", "\"functionCall\":",
                "\"args\":", "\"finishReason\":", "\"usageMetadata\":", "\"promptTokenCount\":",
                "\"candidatesTokenCount\":", "\"thoughtsTokenCount\":", "\"embeddings\":", "\"values\":",
                "\"promptFeedback\":", "\"blockReason\":", "\"status\":\"RESOURCE_EXHAUSTED\"", "\"retryDelay\":\"",
                "\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\"",
            ]),
        Provider(
            name: "bedrock",
            adapter: BedrockAdapter(environment: [
                "AWS_ACCESS_KEY_ID": "AKIAFUZZ", "AWS_SECRET_ACCESS_KEY": awsSecret, "AWS_REGION": "us-east-1",
            ]),
            deployment: deployment("bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0"),
            responseTokens: eventStreamTokens + [
                "\"output\":", "\"message\":", "\"content\":", "\"toolUse\":", "\"toolUseId\":", "\"input\":",
                "\"stopReason\":", "\"usage\":", "\"inputTokens\":", "\"outputTokens\":", "\"contentBlockIndex\":",
                "\"delta\":", "\"reasoningContent\":", "\"embedding\":", "\"inputTextTokenCount\":",
            ],
            binaryStream: true),
        Provider(
            name: "cohere", adapter: CohereAdapter(), deployment: deployment("cohere", "command-r-plus"),
            responseTokens: [
                "event: content-delta\n", "\"type\":\"content-delta\"", "\"type\":\"tool-call-start\"", "\"delta\":",
                "\"message\":", "\"tool_calls\":", "\"finish_reason\":", "\"usage\":", "\"billed_units\":",
                "\"tokens\":", "\"input_tokens\":", "\"embeddings\":", "\"float\":", "\"thinking\":",
            ]),
        Provider(
            name: "ollama", adapter: OllamaAdapter(), deployment: deployment("ollama", "qwen3:8b"),
            responseTokens: [
                "\"message\":", "\"content\":", "\"thinking\":", "\"tool_calls\":", "\"done\":true", "\"done_reason\":",
                "\"prompt_eval_count\":", "\"eval_count\":", "\"embeddings\":", "\"error\":", "\n",
            ]),
    ]

    /// The requests a reply is parsed for: plain, reasoning shown, JSON mode, and embeddings.
    static let chatRequests: [OpenAIRequest] = {
        let bodies = [
            #"{"model":"fuzz","messages":[{"role":"user","content":"hi"}]}"#,
            #"{"model":"fuzz","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#,
            #"{"model":"fuzz","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}}}"#,
            #"{"model":"fuzz","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#,
        ]
        var requests = bodies.compactMap { try? OpenAIRequest(operation: .chat, bytes: Array($0.utf8)) }
        if var reasoning = requests.first {
            reasoning.includeReasoning = true
            requests.append(reasoning)
        }
        return requests
    }()

    static let embeddingsParseRequest = try? OpenAIRequest(
        operation: .embeddings, bytes: Array(#"{"model":"fuzz","input":["a","b"]}"#.utf8))

    static func response(_ provider: Provider) -> FuzzTarget {
        FuzzTarget(name: "\(provider.name)-response", iterations: 12_000, tokens: jsonTokens + provider.responseTokens) {
            input, rng in
            var accepted = false
            let chat = chatRequests[rng.below(chatRequests.count)]
            for request in [chat, embeddingsParseRequest].compactMap({ $0 }) {
                let reply: ProviderReply
                do throws(GatewayError) {
                    reply = try provider.adapter.parseResponse(input, for: request)
                } catch {
                    guard (400...599).contains(error.status) else {
                        throw PropertyFailure("parseResponse failed with status \(error.status)")
                    }
                    continue
                }
                try expectObject(reply.body, "the \(provider.name) reply body")
                accepted = true
            }
            return accepted
        }
    }

    static func stream(_ provider: Provider) -> FuzzTarget {
        FuzzTarget(
            name: "\(provider.name)-stream", iterations: 1_500, tokens: jsonTokens + sseTokens + provider.responseTokens,
            maxLength: 4 * 1024, fixup: provider.binaryStream ? fixEventStreamChecksums : nil
        ) { input, rng in
            let request = chatRequests[rng.below(chatRequests.count)]
            func decode(_ pieces: [ArraySlice<UInt8>]) throws -> [StreamChunk]? {
                var decoder = provider.adapter.makeStreamDecoder(for: request)
                var chunks: [StreamChunk] = []
                do throws(GatewayError) {
                    for piece in pieces { chunks += try decoder.feed(ByteBuffer(bytes: piece)) }
                    chunks += try decoder.finish()
                } catch {
                    guard (400...599).contains(error.status) else {
                        throw PropertyFailure("the stream decoder failed with status \(error.status)")
                    }
                    return nil
                }
                for case .chunk(let object, let raw) in chunks {
                    try expectObject(raw, equals: object, "a \(provider.name) stream chunk")
                }
                return chunks
            }
            let whole = try decode([input[...]])
            let split = try decode(rng.pieces(input))
            guard (whole == nil) == (split == nil), whole?.count == split?.count else {
                throw PropertyFailure(
                    "the stream decodes differently split: \(whole?.count ?? -1) chunks whole, \(split?.count ?? -1) split")
            }
            return whole != nil
        }
    }

    /// Input: a status line, header lines, a blank line, the body (or just a body).
    static func error(_ provider: Provider) -> FuzzTarget {
        FuzzTarget(
            name: "\(provider.name)-error", iterations: 8_000,
            tokens: jsonTokens + provider.responseTokens + [
                secret, awsSecret, "retry-after: ", "retry-after-ms: ", "x-amzn-errortype: ", "\n\n", "429\n",
            ]
        ) { input, _ in
            let (status, headers, body) = splitErrorInput(input)
            let error = provider.adapter.mapError(status: status, headers: headers, body: body, deployment: provider.deployment)
            guard (400...599).contains(error.status) else {
                throw PropertyFailure("upstream \(status) mapped to status \(error.status)")
            }
            // Only this deployment's own credentials are scrubbed: another provider's key in the
            // body is just text to this one.
            for secret in provider.deployment.secrets where error.message.contains(secret) {
                throw PropertyFailure("a deployment secret reached the error message")
            }
            try expectObject(error.body.encoded(), "the error body")
            if let retryAfter = error.headers["retry-after"], Int(retryAfter) == nil {
                throw PropertyFailure("retry-after '\(retryAfter)' is not whole seconds")
            }
            return true
        }
    }

    static func splitErrorInput(_ input: [UInt8]) -> (Int, HTTPHeaders, [UInt8]) {
        var headers = HTTPHeaders()
        guard let end = input.firstRange(of: [0x0A, 0x0A]) else { return (500, headers, input) }
        let lines = input[..<end.lowerBound].split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let statusText = lines.first ?? ""
        let status = Int(statusText).flatMap { (100...599).contains($0) ? $0 : nil } ?? 500
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...].drop { $0 == " " })
            // Names off the wire are tokens (NIO's parser refuses others, and `HTTPHeaders.add`
            // traps on non-ASCII); values may carry any byte but CR and LF.
            if !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { headers.add(name: name, value: value) }
        }
        return (status, headers, Array(input[end.upperBound...]))
    }
}
