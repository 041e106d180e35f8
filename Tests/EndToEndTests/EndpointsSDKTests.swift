import Foundation
import GatewayTesting
import Store
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy

/// Issue 19's endpoints through the official OpenAI Python SDK: the Responses API (OpenAI's own,
/// and translated through chat to Anthropic and Gemini, with the gateway keeping the responses),
/// legacy completions, images, speech, transcriptions, moderations and Cohere's rerank; then the
/// same through virtual keys, rate limits, fallbacks (to OpenAI natively and to Anthropic through
/// chat) and the sinks (spans, ledger, metrics).
/// Expected values come from the mock upstream's definition (`MockUpstream+Endpoints.swift`),
/// the Gemini fixture and the price table.
@Suite(.serialized, .timeLimit(.minutes(3))) struct EndpointsSDKTests {
    static let config = """
        general_settings: {master_key: \(Harness.master)}
        litellm_settings:
          callbacks: [otel, prometheus]
          fallbacks: [{broken: [gpt-4o-mini]}, {unreachable: [claude]}]
        router_settings: {num_retries: 0}
        model_list:
          - model_name: gpt-4o-mini
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: claude
            litellm_params: {model: anthropic/claude-mock, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: gemini
            litellm_params: {model: gemini/gemini-2.5-flash, api_base: "{upstream_root}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: instruct
            litellm_params: {model: openai/gpt-3.5-turbo-instruct, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: image
            litellm_params: {model: openai/gpt-image-1-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
            model_info: {mode: image_generation}
          - model_name: tts
            litellm_params: {model: openai/tts-1, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
            model_info: {mode: audio_speech}
          - model_name: whisper
            litellm_params: {model: openai/whisper-1, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: transcriber
            litellm_params: {model: openai/gpt-4o-mini-transcribe, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
            model_info: {mode: audio_transcription}
          - model_name: moderation
            litellm_params: {model: openai/omni-moderation-latest, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
            model_info: {mode: moderation}
          - model_name: reranker
            litellm_params: {model: cohere/rerank-v3.5, api_base: "{upstream_root}", api_key: os.environ/E2E_UPSTREAM_KEY}
            model_info: {mode: rerank}
          - model_name: embedder
            litellm_params: {model: openai/text-embedding-3-small, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: unreachable
            litellm_params: {model: openai/error-503, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: broken
            litellm_params: {model: openai/error-500, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
        """

    // MARK: - a. Responses

    /// `responses.create` plain and streamed on OpenAI (native), Anthropic and Gemini (through
    /// chat); `previous_response_id`, `retrieve`, `input_items`, `input_tokens` and `delete`
    /// against the responses the gateway keeps; a function tool round trip on Gemini (its fixture stream ends in a `get_weather`
    /// call, its plain answer is the capital of France).
    static let responsesScript = #"""
        import json, sys, openai
        base, key, mock_text = sys.argv[1], sys.argv[2], sys.argv[3]
        client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
        paris = "The capital of France is Paris."
        weather = "Let me check the current weather in Paris."
        opening = ["response.created", "response.in_progress"]
        message_run = ["response.output_item.added", "response.content_part.added", "response.output_text.delta",
                       "response.output_text.done", "response.content_part.done", "response.output_item.done"]
        call_run = ["response.output_item.added", "response.function_call_arguments.delta",
                    "response.function_call_arguments.done", "response.output_item.done"]
        tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object",
                  "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}}}]

        def streamed(**params):
            events = list(client.responses.create(stream=True, **params))
            numbers = [e.sequence_number for e in events]
            assert numbers == list(range(len(events))), numbers
            types = []  # runs of deltas collapsed: their number depends on the upstream's chunks
            for e in events:
                if not (types and types[-1] == e.type and e.type.endswith(".delta")):
                    types.append(e.type)
            final = events[-1]
            assert final.type == "response.completed" and final.response.status == "completed", types
            text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
            assert [e.text for e in events if e.type == "response.output_text.done"] == [text], types
            return types, final.response, text

        for model, expected in (("gpt-4o-mini", mock_text), ("claude", mock_text), ("gemini", paris)):
            reply = client.responses.create(model=model, input="Say hello")
            assert reply.object == "response" and reply.status == "completed" and reply.id.startswith("resp_"), reply
            assert reply.output_text == expected, reply.output_text
            messages = [item for item in reply.output if item.type == "message"]
            assert len(messages) == 1 and messages[0].role == "assistant" and messages[0].status == "completed", reply.output
            assert messages[0].content[0].type == "output_text", messages
            usage = reply.usage
            assert usage.total_tokens == usage.input_tokens + usage.output_tokens, usage
            if model == "gpt-4o-mini":
                # The mock: "Say hello" is 2 tokens, plus 3 for its message; 8 words, plus 2.
                assert reply.id.startswith("resp_mock_") and reply.model == "gpt-4o-mini", reply
                assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (5, 10, 15), usage
                assert usage.input_tokens_details.cached_tokens == 0, usage
                assert usage.output_tokens_details.reasoning_tokens == 0, usage
            elif model == "claude":
                # The mock's Anthropic answer: 8 words plus 2, and 5 cache-read tokens.
                assert usage.output_tokens == 10 and usage.input_tokens_details.cached_tokens == 5, usage
            else:
                assert (usage.input_tokens, usage.output_tokens) == (1250, 73), usage
                assert usage.input_tokens_details.cached_tokens == 1024, usage
                assert usage.output_tokens_details.reasoning_tokens == 64, usage
            kept = client.responses.retrieve(reply.id)
            assert kept.id == reply.id and kept.output_text == expected, kept
            assert kept.usage.output_tokens == usage.output_tokens, kept.usage

            if model == "gemini":
                types, final, text = streamed(model=model, input="What's the weather in Paris right now?", tools=tools)
                assert types == opening + message_run + call_run + ["response.completed"], types
                assert text == weather and final.output_text == weather, (text, final.output_text)
                calls = [item for item in final.output if item.type == "function_call"]
                assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].call_id, final.output
                assert json.loads(calls[0].arguments) == {"city": "Paris", "unit": "celsius"}, calls
                assert (final.usage.input_tokens, final.usage.output_tokens) == (312, 41), final.usage
                turn = client.responses.create(model="gemini", previous_response_id=final.id, tools=tools, input=[
                    {"type": "function_call_output", "call_id": calls[0].call_id, "output": json.dumps({"celsius": 18})}])
                assert turn.output_text == paris and turn.previous_response_id == final.id, turn
                print("ok tool round trip")
            else:
                types, final, text = streamed(model=model, input="Say hello")
                assert types == opening + message_run + ["response.completed"], types
                assert text == expected and final.output_text == expected, (text, final.output_text)
                assert final.usage.output_tokens == 10 and final.usage.input_tokens > 0, final.usage
            assert client.responses.retrieve(final.id).output_text == final.output_text
            print("ok responses", model)

        first = client.responses.create(model="claude", input="My name is Ada.")
        second = client.responses.create(model="claude", input="What is my name?", previous_response_id=first.id)
        assert second.output_text == mock_text and second.id != first.id, second
        assert second.previous_response_id == first.id, second.previous_response_id
        print("ok previous")

        # The items that made the second response, newest first; page by page oldest first.
        items = client.responses.input_items.list(second.id)
        assert [(i.type, i.role) for i in items.data] == [("message", "user"), ("message", "assistant"),
                                                          ("message", "user")], items.data
        assert [i.content[0].text for i in items.data] == ["What is my name?", mock_text, "My name is Ada."], items.data
        assert not items.has_more and items.first_id == items.data[0].id and items.last_id == items.data[-1].id, items
        paged = [i.id for i in client.responses.input_items.list(second.id, order="asc", limit=1)]
        assert paged == [i.id for i in reversed(items.data)], paged
        print("ok input items")

        counted = client.responses.input_tokens.count(model="claude", input="What is my name?")
        assert counted.object == "response.input_tokens" and counted.input_tokens > 0, counted
        longer = client.responses.input_tokens.count(model="claude", input="What is my name?",
                                                     previous_response_id=first.id)
        assert longer.input_tokens > counted.input_tokens, (longer, counted)
        print("ok input tokens")

        assert client.responses.delete(first.id) is None
        try:
            client.responses.retrieve(first.id)
            sys.exit("a deleted response could still be read")
        except openai.NotFoundError as error:
            assert first.id in str(error), str(error)
        try:
            client.responses.create(model="claude", input="And now?", previous_response_id=first.id)
            sys.exit("a deleted response could still be continued")
        except openai.BadRequestError as error:
            assert error.code == "previous_response_not_found", error
        print("ok delete")
        """#

    @Test(.enabled(if: PythonSDKTests.hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func responsesNativeAndThroughChat() async throws {
        try await Harness.with(config: Self.config) { h in
            let (status, output) = try await PythonSDKTests.runPython(
                Self.responsesScript, [h.gatewayURL, Harness.master, MockUpstream.text])
            #expect(status == 0, "\(output)")
            for line in [
                "ok responses gpt-4o-mini", "ok responses claude", "ok responses gemini", "ok tool round trip", "ok previous",
                "ok input items", "ok input tokens", "ok delete",
            ] {
                #expect(output.contains(line), "\(output)")
            }
            let requests = h.upstream.requests.withLock { $0 }
            // OpenAI got its own API, twice (plain and streamed); the others got their chat APIs.
            #expect(requests.filter { $0.url == "/v1/responses" }.count == 2)
            #expect(!requests.contains { $0.url == "/v1/chat/completions" })

            // The continued conversation reached Anthropic whole: the kept turn, then the new one.
            let anthropic = requests.filter { $0.url.hasSuffix("/messages") }.compactMap { try? JSONParser.parse($0.bodyBytes) }
            let continued = try #require(anthropic.first { Self.texts($0["messages"]).last == "What is my name?" })
            #expect(Self.texts(continued["messages"]) == ["My name is Ada.", MockUpstream.text, "What is my name?"])
            #expect(continued["messages"]?.arrayValue?.compactMap { $0["role"]?.stringValue } == ["user", "assistant", "user"])

            // The tool round trip: Gemini got its own call back, and the result.
            let lastTurn = try #require(requests.last { $0.url.hasSuffix(":generateContent") })
            let contents = try JSONParser.parse(lastTurn.bodyBytes)["contents"]?.arrayValue ?? []
            #expect(
                contents.contains { $0["parts"]?.arrayValue?.contains { $0["functionCall"]?["name"] == "get_weather" } == true })
            #expect(contents.contains { $0["parts"]?.arrayValue?.contains { $0["functionResponse"] != nil } == true })

            // A Responses call is a chat to the GenAI conventions: spans and ledger say so.
            try await h.eventually("client spans of the Responses calls") {
                let operations = Self.operations(h.receiver.spans)
                return ["gpt-4o-mini", "claude", "gemini"].allSatisfy { operations[$0] == ["chat"] }
            }
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
            let answered = rows.filter { $0.statusCode == 200 }
            #expect(Set(answered.compactMap(\.modelGroup)) == ["gpt-4o-mini", "claude", "gemini"])
            #expect(answered.allSatisfy { $0.operation == "chat" }, "\(answered.map(\.operation))")
            #expect(answered.contains { $0.modelGroup == "gemini" && $0.inputTokens == 1250 && $0.outputTokens == 73 })
            #expect(answered.contains { $0.modelGroup == "gpt-4o-mini" && $0.inputTokens == 5 && $0.outputTokens == 10 })
        }
    }

    // MARK: - b. Legacy completions

    /// `completions.create` plain and streamed, on a native completions model and on Anthropic
    /// (through chat): the same mock words either way.
    static let completionsScript = #"""
        import sys, openai
        base, key, mock_text = sys.argv[1], sys.argv[2], sys.argv[3]
        client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
        for model in ("instruct", "claude"):
            reply = client.completions.create(model=model, prompt="Say hello", max_tokens=20)
            assert reply.object == "text_completion" and len(reply.choices) == 1, reply
            choice = reply.choices[0]
            assert choice.text == mock_text and choice.finish_reason == "stop" and choice.index == 0, choice
            # The mock: 8 words plus 2.
            assert reply.usage.completion_tokens == 10, reply.usage
            assert reply.usage.total_tokens == reply.usage.prompt_tokens + 10, reply.usage
            if model == "instruct":
                # The mock: "Say hello" at four characters a token.
                assert reply.id.startswith("cmpl-mock-") and reply.usage.prompt_tokens == 2, reply

            text, finishes, usage = "", [], None
            for chunk in client.completions.create(model=model, prompt="Say hello", stream=True,
                                                   stream_options={"include_usage": True}):
                assert chunk.object == "text_completion", chunk
                if chunk.usage is not None:
                    usage = chunk.usage
                    assert chunk.choices == [], chunk
                for c in chunk.choices:
                    text += c.text
                    if c.finish_reason:
                        finishes.append(c.finish_reason)
            assert text == mock_text and finishes == ["stop"], (text, finishes)
            assert usage is not None and usage.completion_tokens == 10, usage

            chunks = list(client.completions.create(model=model, prompt="Say hello", stream=True))
            assert all(chunk.usage is None for chunk in chunks), "usage reached a client that did not ask for it"
            assert "".join(c.text for chunk in chunks for c in chunk.choices) == mock_text, chunks
            print("ok completions", model)
        """#

    @Test(.enabled(if: PythonSDKTests.hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func legacyCompletionsNativeAndThroughChat() async throws {
        try await Harness.with(config: Self.config) { h in
            let (status, output) = try await PythonSDKTests.runPython(
                Self.completionsScript, [h.gatewayURL, Harness.master, MockUpstream.text])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok completions instruct") && output.contains("ok completions claude"), "\(output)")

            let requests = h.upstream.requests.withLock { $0 }
            let native = requests.filter { $0.url == "/v1/completions" }.compactMap { try? JSONParser.parse($0.bodyBytes) }
            #expect(native.count == 3 && native.allSatisfy { $0["model"] == "gpt-3.5-turbo-instruct" })
            // Every stream asks its upstream for usage, whether the client did or not.
            let streams = native.filter { $0["stream"] == true }
            #expect(streams.count == 2 && streams.allSatisfy { $0["stream_options"]?["include_usage"] == true })
            #expect(requests.filter { $0.url.hasSuffix("/messages") }.count == 3)
            #expect(!requests.contains { $0.url.hasSuffix("/chat/completions") })

            try await h.eventually("text_completion spans and metrics") {
                let operations = Self.operations(h.receiver.spans)
                let calls = try await h.exposition().samples(
                    "gen_ai_client_operation_duration_seconds_count", matching: ["gen_ai_operation_name": "text_completion"])
                return operations["instruct"] == ["text_completion"] && operations["claude"] == ["text_completion"]
                    && calls.reduce(0.0) { $0 + $1.value } == 6
            }
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
            #expect(rows.count == 6 && rows.allSatisfy { $0.operation == "text_completion" && $0.outputTokens == 10 })
            // gpt-3.5-turbo-instruct: $1.5 per million prompt tokens, $2 per million completion tokens.
            for row in rows where row.modelGroup == "instruct" {
                #expect(row.inputTokens == 2 && abs(row.spend - (2 * 1.5e-6 + 10 * 2e-6)) < 1e-12, "\(row)")
            }
        }
    }

    // MARK: - c. Images, audio, moderations, rerank

    static let mediaScript = #"""
        import base64, sys, openai
        base, key = sys.argv[1], sys.argv[2]
        client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
        png = b"\x89PNG\r\n\x1a\n"

        images = client.images.generate(model="image", prompt="a red fox in the snow", n=2)
        assert [base64.b64decode(d.b64_json) for d in images.data] == [png + b"\x00", png + b"\x01"], images.data
        # The mock: the prompt's 21 characters at four a token; 272 output tokens an image.
        assert (images.usage.input_tokens, images.usage.output_tokens, images.usage.total_tokens) == (5, 544, 549), images.usage
        assert images.usage.input_tokens_details.text_tokens == 5, images.usage
        # Streamed: a partial image, then the image with its usage, as typed events.
        events = list(client.images.generate(model="image", prompt="a red fox in the snow", stream=True, partial_images=1))
        assert [e.type for e in events] == ["image_generation.partial_image", "image_generation.completed"], events
        assert base64.b64decode(events[-1].b64_json) == png + b"\x00" and events[-1].usage.output_tokens == 272, events[-1]
        print("ok images")

        moderation = client.moderations.create(model="moderation", input=["hello there", "goodbye"])
        assert len(moderation.results) == 2 and not any(r.flagged for r in moderation.results), moderation
        first = moderation.results[0]
        assert first.categories.self_harm_intent is False and first.categories.harassment_threatening is False, first
        assert first.category_scores.violence_graphic == 0.0, first.category_scores
        print("ok moderations")

        spoken = "Hello from Spanway."
        speech = client.audio.speech.create(model="tts", voice="alloy", input=spoken)
        assert speech.response.headers["content-type"] == "audio/mpeg", speech.response.headers
        assert speech.read() == b"ID3" + spoken.encode() * 4, speech.read()[:64]
        print("ok speech")

        # Bytes a naive multipart reader could trip on: CRLFs and dashes inside the file.
        audio = (b"RIFF" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n") * 120
        size = len(audio)  # 33,600 bytes: two seconds at the mock's 16,000 bytes a second
        said = f"Transcribed a.wav ({size} bytes) with whisper-1."
        transcript = client.audio.transcriptions.create(file=("a.wav", audio), model="whisper")
        assert transcript.text == said, transcript
        assert transcript.usage.type == "duration" and transcript.usage.seconds == 2, transcript.usage
        plain = client.audio.transcriptions.create(file=("a.wav", audio), model="whisper", response_format="text")
        assert isinstance(plain, str) and plain.strip() == said, repr(plain)
        verbose = client.audio.transcriptions.create(file=("a.wav", audio), model="whisper",
                                                     response_format="verbose_json")
        assert verbose.text == said and verbose.duration == 2 and verbose.language == "english", verbose
        streamed = list(client.audio.transcriptions.create(file=("a.wav", audio), model="transcriber", stream=True))
        spoken_by = f"Transcribed a.wav ({size} bytes) with gpt-4o-mini-transcribe."
        assert [e.type for e in streamed[:-1]] == ["transcript.text.delta"] * len(spoken_by.split(" ")), streamed
        assert "".join(e.delta for e in streamed[:-1]) == spoken_by, streamed
        assert streamed[-1].type == "transcript.text.done" and streamed[-1].text == spoken_by, streamed[-1]
        assert streamed[-1].usage.input_tokens == 20, streamed[-1].usage
        translation = client.audio.translations.create(file=("b.mp3", audio[:1000]), model="whisper")
        assert translation.text == "Translated b.mp3 (1000 bytes) with whisper-1.", translation
        print("ok audio")

        documents = ["Paris is the capital of France.", "Berlin is in Germany.", "France has wine."]
        body = {"model": "reranker", "query": "capital of France", "documents": documents, "top_n": 2,
                "return_documents": True}
        # The mock scores a document by the share of the query's words it holds.
        for path in ("/rerank", base + "/v2/rerank"):
            ranked = client.post(path, body=body, cast_to=object)
            results = ranked["results"]
            assert [r["index"] for r in results] == [0, 2], ranked
            assert abs(results[0]["relevance_score"] - 1.0) < 1e-9, ranked
            assert abs(results[1]["relevance_score"] - 1 / 3) < 1e-9, ranked
            assert [r["document"]["text"] for r in results] == [documents[0], documents[2]], ranked
            assert ranked["meta"]["billed_units"]["search_units"] == 1, ranked
        objects = dict(body, documents=[{"text": d} for d in documents], top_n=3, return_documents=False)
        ranked = client.post("/rerank", body=objects, cast_to=object)
        assert [r["index"] for r in ranked["results"]] == [0, 2, 1], ranked
        assert all("document" not in r for r in ranked["results"]), ranked
        print("ok rerank")
        """#

    @Test(.enabled(if: PythonSDKTests.hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func imagesAudioModerationsAndRerank() async throws {
        try await Harness.with(config: Self.config) { h in
            let (status, output) = try await PythonSDKTests.runPython(Self.mediaScript, [h.gatewayURL, Harness.master])
            #expect(status == 0, "\(output)")
            for line in ["ok images", "ok moderations", "ok speech", "ok audio", "ok rerank"] {
                #expect(output.contains(line), "\(output)")
            }
            let requests = h.upstream.requests.withLock { $0 }
            func sent(_ url: String) -> [UpstreamRequest] { requests.filter { $0.url == url } }
            #expect(sent("/v1/images/generations").count == 2 && sent("/v1/moderations").count == 1)
            #expect(sent("/v1/audio/speech").count == 1)
            let uploads = sent("/v1/audio/transcriptions") + sent("/v1/audio/translations")
            #expect(uploads.count == 5)
            for upload in uploads {
                let contentType = upload.headers.first(name: "content-type") ?? ""
                #expect(contentType.hasPrefix("multipart/form-data; boundary="), "\(contentType)")
                #expect(upload.headers.first(name: "authorization") == "Bearer \(Harness.upstreamKey)")
            }
            // Cohere's v2 API whatever the client's path: strings only, the deployment's model.
            let reranks = sent("/v2/rerank").compactMap { try? JSONParser.parse($0.bodyBytes) }
            #expect(reranks.count == 3)
            #expect(reranks.allSatisfy { $0["model"] == "rerank-v3.5" })
            #expect(reranks.allSatisfy { $0["documents"]?.arrayValue?.allSatisfy { $0.stringValue != nil } == true })

            try await h.eventually("client spans of every endpoint") {
                let operations = Self.operations(h.receiver.spans)
                return operations["image"] == ["generate_content"] && operations["tts"] == ["audio_speech"]
                    && operations["whisper"] == ["audio_transcription", "audio_translation"]
                    && operations["transcriber"] == ["audio_transcription"] && operations["moderation"] == ["moderation"]
                    && operations["reranker"] == ["rerank"]
            }
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
            #expect(rows.count == 12 && rows.allSatisfy { $0.statusCode == 200 })
            func recorded(_ group: String) -> Set<String> { Set(rows.filter { $0.modelGroup == group }.map(\.operation)) }
            #expect(recorded("image") == ["generate_content"] && recorded("tts") == ["audio_speech"])
            #expect(recorded("whisper") == ["audio_transcription", "audio_translation"])
            #expect(recorded("moderation") == ["moderation"] && recorded("reranker") == ["rerank"])
            // tts-1: $15 per million characters of input.
            let speech = try #require(rows.first { $0.modelGroup == "tts" })
            #expect(abs(speech.spend - 19 * 1.5e-5) < 1e-12, "\(speech.spend)")
            // whisper-1 is priced by the second, gpt-4o-mini-transcribe by the token (its stream's
            // usage: 20 in at $1.25/M, 6 out at $5/M), rerank-v3.5 by the search, streamed images by their tokens.
            let streamedTranscript = try #require(rows.first { $0.modelGroup == "transcriber" })
            #expect(abs(streamedTranscript.spend - (20 * 1.25e-6 + 6 * 5e-6)) < 1e-12, "\(streamedTranscript.spend)")
            #expect(
                rows.filter { ["whisper", "reranker", "image"].contains($0.modelGroup) }.allSatisfy { $0.spend > 0 },
                "\(rows.map { ($0.modelGroup ?? "", $0.operation, $0.spend) })")
        }
    }

    // MARK: - d. Keys, limits, a fallback and the sinks

    static let keysScript = #"""
        import sys, openai
        base, key, limited_key, other_key, mock_text = sys.argv[1:6]
        def client_for(k):
            return openai.OpenAI(base_url=base + "/v1", api_key=k, max_retries=0)
        client = client_for(key)

        raw = client.responses.with_raw_response.create(model="broken", input="Say hello")
        reply = raw.parse()
        assert reply.output_text == mock_text and reply.status == "completed", reply
        assert raw.headers.get("x-spanway-model-group") == "gpt-4o-mini", dict(raw.headers)
        types = [e.type for e in client.responses.create(model="broken", input="Say hello", stream=True)]
        assert types[0] == "response.created" and types[-1] == "response.completed", types
        # Translated: a group that fails falls back to Anthropic's, through chat, JSON and streamed.
        raw = client.responses.with_raw_response.create(model="unreachable", input="Say hello")
        assert raw.parse().output_text == mock_text and raw.headers.get("x-spanway-model-group") == "claude"
        events = list(client.responses.create(model="unreachable", input="Say hello", stream=True))
        assert events[-1].type == "response.completed" and events[-1].response.output_text == mock_text, events[-1]
        print("ok fallback")

        assert client.responses.create(model="gemini", input="Say hello").output_text.startswith("The capital")
        print("ok translated")

        assert client.responses.retrieve(reply.id).output_text == mock_text
        try:
            client_for(other_key).responses.retrieve(reply.id)
            sys.exit("another key read this key's response")
        except openai.NotFoundError:
            print("ok owner")

        try:
            client.images.generate(model="gpt-4o-mini", prompt="a red fox")
            sys.exit("a chat model generated an image")
        except openai.BadRequestError as error:
            assert "gpt-4o-mini" in str(error) and "/v1/images/generations" in str(error), str(error)
            assert error.code == "unsupported_endpoint", error.code
            print("ok not served")

        completion = client.completions.create(model="instruct", prompt="Say hello")
        assert completion.choices[0].text == mock_text, completion
        embedding = client.embeddings.create(model="embedder", input="Say hello", encoding_format="float")
        assert embedding.data[0].embedding == [0.01, -0.02, 0.03, 0.5], embedding.data
        image = client.images.generate(model="image", prompt="a red fox")
        assert len(image.data) == 1 and image.data[0].b64_json, image
        print("ok key")

        limited = client_for(limited_key)
        limited.responses.create(model="claude", input="Say hello")
        limited.completions.create(model="instruct", prompt="Say hello")
        limited.moderations.create(model="moderation", input="hello")
        try:
            limited.audio.transcriptions.create(file=("a.wav", b"RIFF" * 4000), model="whisper")
            sys.exit("a fourth request passed an rpm_limit of 3")
        except openai.RateLimitError as error:
            print("ok limit", error.status_code)
        """#

    @Test(.enabled(if: PythonSDKTests.hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func keysLimitsFallbacksAndSinks() async throws {
        // A stopped clock: the rate limiter's minute cannot roll over between the requests.
        try await Harness.with(config: Self.config, clock: TestTime.clock(secondsIntoMinute: 15)) { h in
            let key = try await h.newKey(#"{"rpm_limit": 100}"#)
            let limited = try await h.newKey(#"{"rpm_limit": 3}"#)
            let other = try await h.newKey()
            let (status, output) = try await PythonSDKTests.runPython(
                Self.keysScript, [h.gatewayURL, key, limited, other, MockUpstream.text])
            #expect(status == 0, "\(output)")
            for line in ["ok fallback", "ok translated", "ok owner", "ok not served", "ok key", "ok limit 429"] {
                #expect(output.contains(line), "\(output)")
            }
            let requests = h.upstream.requests.withLock { $0 }
            // Neither the refused image nor the rate-limited upload reached an upstream.
            #expect(requests.filter { $0.url == "/v1/images/generations" }.count == 1)
            #expect(!requests.contains { $0.url == "/v1/audio/transcriptions" })

            try await h.eventually("client spans name each operation") {
                let operations = Self.operations(h.receiver.spans)
                return operations["broken"] == ["chat"] && operations["instruct"] == ["text_completion"]
                    && operations["unreachable"] == ["chat"] && operations["claude"] == ["chat"]
                    && operations["gemini"] == ["chat"]
                    && operations["image"] == ["generate_content"] && operations["embedder"] == ["embeddings"]
                    && operations["moderation"] == ["moderation"]
            }
            let exposition = try await h.exposition()
            for operation in ["chat", "text_completion", "generate_content", "embeddings", "moderation"] {
                let calls = exposition.samples(
                    "gen_ai_client_operation_duration_seconds_count", matching: ["gen_ai_operation_name": operation])
                #expect(calls.reduce(0.0) { $0 + $1.value } > 0, "no \(operation) calls in /metrics")
            }

            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
            #expect(!rows.isEmpty && rows.allSatisfy { $0.keyHash != nil && $0.keyHash != "master" })
            // The fallback's rows: asked of `broken`, answered by gpt-4o-mini, a chat.
            let fallbacks = rows.filter { $0.model == "broken" && $0.statusCode == 200 }
            #expect(fallbacks.count == 2, "\(rows.map { ($0.model, $0.modelGroup, $0.statusCode) })")
            #expect(
                fallbacks.allSatisfy { $0.modelGroup == "gpt-4o-mini" && $0.operation == "chat" && $0.fallbackDepth == 1 })
            #expect(
                rows.contains { $0.model == "gpt-4o-mini" && $0.operation == "generate_content" && $0.statusCode == 400 })
            // The translated fallback's rows, and the translated calls (providers by their GenAI names), each
            // charged to its key.
            let translatedFallbacks = rows.filter { $0.model == "unreachable" && $0.statusCode == 200 }
            #expect(translatedFallbacks.count == 2)
            #expect(
                translatedFallbacks.allSatisfy {
                    $0.modelGroup == "claude" && $0.provider == "anthropic" && $0.fallbackDepth == 1
                })
            let translated = rows.filter { ($0.model == "claude" || $0.model == "gemini") && $0.statusCode == 200 }
            #expect(translated.compactMap(\.provider).sorted() == ["anthropic", "gcp.gemini"], "\(translated.map(\.provider))")
            #expect(Set(translated.compactMap(\.keyHash)).count == 2 && translated.allSatisfy { $0.operation == "chat" })
            #expect(translated.allSatisfy { $0.inputTokens > 0 && $0.outputTokens > 0 })
            let answered = rows.filter { $0.statusCode == 200 }
            #expect(answered.contains { $0.modelGroup == "image" && $0.operation == "generate_content" })
            #expect(answered.contains { $0.modelGroup == "embedder" && $0.operation == "embeddings" })
            #expect(answered.contains { $0.modelGroup == "moderation" && $0.operation == "moderation" })
            // Each key's requests are its own.
            let completions = answered.filter { $0.operation == "text_completion" }
            #expect(completions.count == 2 && Set(completions.compactMap(\.keyHash)).count == 2)
            for span in h.receiver.spans {
                #expect(!"\(span)".contains(key) && !"\(span)".contains(Harness.upstreamKey), "a secret reached a span")
            }
        }
    }

    // MARK: - Helpers

    /// `gen_ai.operation.name` of the client spans, by the model the client asked for.
    static func operations(_ spans: [Opentelemetry_Proto_Trace_V1_Span]) -> [String: Set<String>] {
        var operations: [String: Set<String>] = [:]
        for span in spans where span.kind == .client {
            guard let model = span[attribute: "gen_ai.request.model"]?.stringValue,
                let operation = span[attribute: "gen_ai.operation.name"]?.stringValue
            else { continue }
            operations[model, default: []].insert(operation)
        }
        return operations
    }

    /// Each message's text: its string content, or its text blocks joined.
    static func texts(_ messages: JSONValue?) -> [String] {
        (messages?.arrayValue ?? []).map { message in
            message["content"]?.stringValue
                ?? (message["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
        }
    }
}
