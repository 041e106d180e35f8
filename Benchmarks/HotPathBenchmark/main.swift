// The gateway's hot spots, timed one by one in a release build: request parse, OTLP span encoding,
// a Prometheus update, relaying one SSE chunk, a price lookup, and a whole in-process request
// through `Gateway` (mock provider, no HTTP). Each figure is the median of 7 runs, in ns per
// operation, and as a ratio to a baseline measured in the same run (parsing the request's JSON).
// Run: swift run -c release hotpath-benchmark
import Foundation
import HTTPTypes
import Logging
import NIOCore
import Proxy
import Sinks
import Store
import Telemetry

let runs = 7
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Median ns per call of `body` over `runs` runs of `iterations` calls.
func nanos(_ iterations: Int, _ body: () throws -> Int) rethrows -> Double {
    var samples: [Double] = []
    var sink = 0
    for _ in 0..<runs {
        let start = ContinuousClock.now
        for _ in 0..<iterations { sink &+= try body() }
        let elapsed = ContinuousClock.now - start
        samples.append(
            (Double(elapsed.components.seconds) * 1e18 + Double(elapsed.components.attoseconds)) / 1e9 / Double(iterations))
    }
    precondition(sink != .min)
    return median(samples)
}

/// The same for async work. Kept apart from `nanos`: awaiting a closure from top-level code hops
/// executors on every call (~18 µs here), which would swamp the synchronous hot spots.
func nanosAsync(_ iterations: Int, _ body: () async -> Int) async -> Double {
    var samples: [Double] = []
    var sink = 0
    for _ in 0..<runs {
        let start = ContinuousClock.now
        for _ in 0..<iterations { sink &+= await body() }
        let elapsed = ContinuousClock.now - start
        samples.append(
            (Double(elapsed.components.seconds) * 1e18 + Double(elapsed.components.attoseconds)) / 1e9 / Double(iterations))
    }
    precondition(sink != .min)
    return median(samples)
}

let body = Array(
    #"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in one short sentence."}],"temperature":0.2,"max_tokens":64}"#
        .utf8)

/// A finished request as the sinks see it: a SERVER span and one CLIENT span with the usual attributes.
func finishedSpan() -> FinishedSpan {
    let server = Span(name: "POST /v1/chat/completions", kind: .server, parent: nil)
    server.setAttributes([
        ("http.request.method", .string("POST")), ("http.route", .string("/v1/chat/completions")),
        ("spanway.model_group", .string("gpt-4o-mini")), ("spanway.key.alias", .string("prod")),
        ("spanway.team.id", .string("research")), ("http.response.status_code", .int(200)),
    ])
    let client = server.child(name: "chat gpt-4o-mini", kind: .client)
    client.setAttributes([
        ("gen_ai.operation.name", .string("chat")), ("gen_ai.provider.name", .string("openai")),
        ("gen_ai.request.model", .string("gpt-4o-mini")), ("gen_ai.response.model", .string("gpt-4o-mini-2024-07-18")),
        ("gen_ai.response.id", .string("chatcmpl-abc")), ("gen_ai.response.finish_reasons", .stringArray(["stop"])),
        ("gen_ai.usage.input_tokens", .int(14)), ("gen_ai.usage.output_tokens", .int(9)), ("gen_ai.usage.cost", .double(7.5e-6)),
        ("server.address", .string("api.openai.com")), ("server.port", .int(443)), ("spanway.deployment.id", .string("d1")),
        ("gen_ai.request.temperature", .double(0.2)), ("gen_ai.request.max_tokens", .int(64)),
    ])
    client.setStatus(.ok)
    var summary = RequestSummary(requestID: "req_1", operation: "chat")
    summary.requestModel = "gpt-4o-mini"
    summary.modelGroup = "gpt-4o-mini"
    summary.provider = "openai"
    summary.deploymentID = "d1"
    summary.caller = Caller(keyHash: "ab", keyAlias: "prod", teamID: "research")
    summary.statusCode = 200
    summary.usage = Usage(inputTokens: 14, outputTokens: 9)
    summary.costUSD = 7.5e-6
    summary.durationSeconds = 0.01
    return FinishedSpan(server: server.end(), attempts: [client.end()], summary: summary)
}

let baseline = try nanos(100_000) { (try JSONParser.parse(body)).objectValue?.keys.count ?? 0 }
var results: [(String, Double)] = []
results.append(
    ("request parse (OpenAIRequest)", try nanos(100_000) { try OpenAIRequest(operation: .chat, bytes: body).body.keys.count }))
let span = finishedSpan()
let encoder = OTLPEncoder(resource: [SpanAttribute("service.name", .string("spanway"))], scopeName: "spanway", scopeVersion: "0")
results.append(("OTLP encoding, one request (2 spans)", nanos(20_000) { encoder.encode([span]).count }))
let batch = Array(repeating: span, count: 512)
results.append(("OTLP encoding, per request in a 512 batch", nanos(20) { encoder.encode(batch).count } / 512))
let prometheus = PrometheusSink()
results.append(
    (
        "Prometheus update, one request",
        nanos(100_000) {
            prometheus.observe(span); return 1
        }
    ))
let frame = ByteBuffer(
    string:
        #"data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" hello"},"finish_reason":null}]}"#
        + "\n\n")
var decoder = OpenAIAdapter().makeStreamDecoder(for: try OpenAIRequest(operation: .chat, bytes: body))
results.append(("SSE chunk decode (OpenAI stream)", try nanos(100_000) { try decoder.feed(frame).count }))
let book = PriceBook.bundled ?? PriceBook()
let usage = Usage(inputTokens: 1200, outputTokens: 300, cacheReadTokens: 1000)
results.append(
    (
        "price lookup and cost",
        nanos(100_000) { book.price(model: "gpt-4o-mini", provider: "openai")?.cost(of: usage) == nil ? 0 : 1 }
    ))

let journal = try SpendJournal(
    directory: FileManager.default.temporaryDirectory.appendingPathComponent("hotpath-\(UUID().uuidString)").path)
let row = SpendRow(
    requestID: "req-0123456789abcdef", traceID: "0af7651916cd43dd8448eb211c80319c", startTime: 1_700_000_000_000,
    endTime: 1_700_000_000_120, keyHash: String(repeating: "ab", count: 32), keyAlias: "team-a-key", teamID: "team-a",
    operation: "chat", model: "gpt-4o-mini", modelGroup: "gpt-4o-mini", deploymentID: "gpt-4o-mini-0",
    provider: "openai", inputTokens: 1200, outputTokens: 300, spend: 0.00036, statusCode: 200)
results.append(
    ("spend journal append, one row (encode and write())", try nanos(20_000) { try journal.append(SpendJournal.line(for: row)) }))
journal.close(drained: true)

let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()
/// A gateway on the in-process mock provider, with no sinks; `ledger` adds the SQLite spend ledger.
func gateway(ledger: Bool) throws -> Gateway {
    let config = try ProviderCatalogue.configLoader(environment: [:]).load(
        yaml: """
            model_list:
              - model_name: gpt-4o-mini
                litellm_params: {model: mock/gpt-4o-mini}
            general_settings: {disable_spend_logs: \(!ledger)}
            """)
    let database = FileManager.default.temporaryDirectory.appendingPathComponent("hotpath-\(UUID().uuidString).db").path
    return try GatewayBootstrap(
        config: config, environment: ["OTEL_SDK_DISABLED": "true", "DATABASE_URL": "sqlite:\(database)"],
        httpClient: .shared, logger: logger
    ).makeGateway()
}
let requestBody = ByteBuffer(bytes: body)
let headers: HTTPFields = [.contentType: "application/json"]
for ledger in [false, true] {
    let inProcess = try gateway(ledger: ledger)
    let ns = await nanosAsync(20_000) {
        await inProcess.proxy(.chat, body: requestBody, headers: headers, route: "/v1/chat/completions").status
    }
    results.append(("whole request in process (mock provider, no HTTP, \(ledger ? "SQLite ledger" : "no ledger"))", ns))
}

print("baseline (JSON parse of the \(body.count)-byte request): \(Int(baseline)) ns")
print("| hot spot | ns per operation | × baseline |")
print("| --- | --- | --- |")
for (name, ns) in results {
    print("| \(name) | \(Int(ns.rounded())) | \(String(format: "%.2f", ns / baseline)) |")
}
