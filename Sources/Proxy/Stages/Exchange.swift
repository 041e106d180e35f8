import HTTPTypes
import Synchronization
import Telemetry

/// One request on its way through the stages: the SERVER span, the CLIENT span of each upstream
/// attempt, and the normalised summary. Each fact is recorded once, by the stage that knows it;
/// `finish` freezes everything into a `FinishedSpan` exactly once.
public final class Exchange: Sendable {
    public let server: Span

    private struct State {
        var summary: RequestSummary
        var attempts: [SpanData] = []
        var upstreamTime: Duration = .zero
        var finished = false
        var authenticated = false
        var reservation: BudgetGuard.Reservation?
        var ticket: RateLimiter.Ticket?
        var budgetCharges: [ModelBudgets.Charge] = []
        var principal: Principal?
        var redactor: ContentRedactor?
    }

    private let state: Mutex<State>

    public init(
        method: String, route: String, operation: String, headers: HTTPFields, sampler: Sampler = .parentBasedAlwaysOn
    ) {
        let parent = headers.value("traceparent").flatMap(TraceParent.init(header:))
        // Several tracestate fields combine into one list (RFC 9110).
        let states = headers.filter { $0.name.canonicalName == "tracestate" }.map(\.value)
        let traceState = states.isEmpty ? nil : states.joined(separator: ",")
        server = Span(name: "\(method) \(route)", kind: .server, parent: parent, traceState: traceState, sampler: sampler)
        server.setAttributes([
            (AttributeName.httpRequestMethod, .string(method)), (AttributeName.httpRoute, .string(route)),
        ])
        let requestID = "req_" + server.spanID.hex + String(server.traceID.hex.suffix(8))
        state = Mutex(State(summary: RequestSummary(requestID: requestID, operation: operation)))
    }

    public var traceID: TraceID { server.traceID }
    public var requestID: String { state.withLock { $0.summary.requestID } }

    public func authenticated(_ principal: Principal) {
        let caller = principal.caller
        server.setAttributes(Self.callerAttributes(caller))
        state.withLock {
            $0.summary.caller = caller
            $0.authenticated = true
            $0.principal = principal
        }
    }

    /// Only authenticated requests reach the ledger: an unauthenticated caller must not be able to
    /// write rows.
    public var isAuthenticated: Bool { state.withLock { $0.authenticated } }

    public func requested(_ request: OpenAIRequest, modelGroup: String?) {
        server[attribute: AttributeName.requestModel] = .string(request.model)
        if let modelGroup { server[attribute: AttributeName.modelGroup] = .string(modelGroup) }
        state.withLock {
            $0.summary.requestModel = request.model
            $0.summary.modelGroup = modelGroup
            $0.summary.stream = request.stream
            if $0.summary.endUser == nil { $0.summary.endUser = request.body["user"]?.stringValue }
        }
    }

    /// The end user the request names (`EndUserIdentity`), whose spend its row adds to.
    func identified(endUser id: String) {
        state.withLock { $0.summary.endUser = id }
    }

    /// Facts about the request that only the sinks use: its tags and conversation.
    func described(tags: [String], sessionID: String?, evaluation: EvaluationLabel? = nil) {
        if !tags.isEmpty { server.setAttributes([(AttributeName.requestTags, .stringArray(tags))]) }
        if let evaluation {
            server.setAttributes([
                (AttributeName.evalRunID, .string(evaluation.runID)), (AttributeName.evalItemID, .string(evaluation.itemID)),
            ])
        }
        state.withLock {
            $0.summary.tags = tags
            $0.summary.sessionID = sessionID
            $0.summary.evaluation = evaluation
        }
    }

    /// The client's `metadata` (LiteLLM's request metadata), for the sinks and as span attributes.
    func annotated(metadata: [String: String]) {
        guard !metadata.isEmpty else { return }
        server.setAttributes(
            metadata.sorted { $0.key < $1.key }.map { (AttributeName.requestMetadataPrefix + $0.key, .string($0.value)) })
        state.withLock { $0.summary.requestMetadata = metadata }
    }

    /// How this request's trace travels: only to its team's own destinations, and whether its
    /// content is captured (then redacted by `redactor`).
    func route(teamDestinationsOnly: Bool, redactor: ContentRedactor?) {
        state.withLock {
            $0.summary.teamDestinationsOnly = teamDestinationsOnly
            $0.redactor = redactor
        }
    }

    /// Captures the prompt, when content capture is on for this request. It is redacted after
    /// the request settles, off the request path (`RedactionQueue`), before any sink sees it.
    func captureInput(_ input: JSONValue?) {
        state.withLock { state in
            guard state.redactor != nil, let input else { return }
            state.summary.content = CapturedContent(input: input, output: nil)
        }
    }

    /// Captures the answer's messages, when content capture is on; `make` runs only then.
    func captureOutput(_ make: () -> JSONValue?) {
        state.withLock { state in
            guard state.redactor != nil, let output = make() else { return }
            var content = state.summary.content ?? CapturedContent(input: nil, output: nil)
            content.output = output
            state.summary.content = content
        }
    }

    var capturesContent: Bool { state.withLock { $0.redactor != nil } }

    /// What captured content must be redacted with before it leaves the gateway.
    var redactor: ContentRedactor? { state.withLock { $0.redactor } }

    /// Opens the CLIENT span for one upstream call. `group` is the model group being tried (a
    /// fallback's, after the requested one failed): the request is recorded as served by it.
    func beginAttempt(
        _ deployment: Deployment, group: String, number: Int, fallbackDepth: Int = 0, request: OpenAIRequest
    ) -> Attempt {
        let operation = request.operation.genAIName
        // `gen_ai.request.model` is the model the client asked for, on every span and metric
        // alike; the group that served it and the model its upstream was asked for have their
        // own attributes. A fallback's request names its group, so the client's name comes first.
        let (caller, requested) = state.withLock { ($0.summary.caller, $0.summary.requestModel ?? request.model) }
        let span = server.child(name: "\(operation) \(requested)", kind: .client)
        var attributes: [(String, AttributeValue?)] = [
            (AttributeName.operationName, .string(operation)),
            (AttributeName.providerName, .string(deployment.adapter.genAIProviderName)),
            (AttributeName.requestModel, .string(requested)),
            (AttributeName.upstreamModel, .string(deployment.config.model)),
            (AttributeName.serverAddress, deployment.serverAddress.map(AttributeValue.string)),
            (AttributeName.serverPort, deployment.serverPort.map { .int(Int64($0)) }),
            (AttributeName.modelGroup, .string(group)),
            (AttributeName.deploymentID, .string(deployment.config.id)),
            (AttributeName.attempt, .int(Int64(number))),
            (AttributeName.fallbackDepth, .int(Int64(fallbackDepth))),
        ]
        attributes += request.spanAttributes
        attributes += Self.callerAttributes(caller)
        span.setAttributes(attributes)
        server[attribute: AttributeName.modelGroup] = .string(group)
        state.withLock {
            $0.summary.modelGroup = group
            $0.summary.attempts = number
            $0.summary.fallbackDepth = fallbackDepth
            $0.summary.deploymentID = deployment.config.id
            $0.summary.provider = deployment.adapter.genAIProviderName
            $0.summary.apiBase = deployment.apiBase
        }
        return Attempt(span: span, exchange: self)
    }

    fileprivate func attemptEnded(_ data: SpanData, upstreamTime: Duration, outcome: Attempt.Outcome?) {
        state.withLock { state in
            state.attempts.append(data)
            state.upstreamTime += upstreamTime
            if let outcome {
                state.summary.usage = outcome.usage
                state.summary.usageEstimated = outcome.usageEstimated
                state.summary.costUSD = outcome.cost
                state.summary.responseModel = outcome.responseModel
                state.summary.timeToFirstChunkSeconds = outcome.timeToFirstChunk?.seconds
            }
        }
    }

    /// Holds the budget reservation until the request settles.
    func hold(_ reservation: BudgetGuard.Reservation?) {
        state.withLock { $0.reservation = reservation }
    }

    var reservation: BudgetGuard.Reservation? { state.withLock { $0.reservation } }

    /// Holds the rate-limit ticket (a parallel slot) until the request settles.
    func hold(_ ticket: RateLimiter.Ticket?) {
        state.withLock { $0.ticket = ticket }
    }

    var ticket: RateLimiter.Ticket? { state.withLock { $0.ticket } }

    /// Holds a windowed budget the request's cost is charged to when it settles: the key's
    /// per-model budget, the caller's budget as a member of its team.
    func hold(_ charge: ModelBudgets.Charge?) {
        guard let charge else { return }
        state.withLock { $0.budgetCharges.append(charge) }
    }

    var budgetCharges: [ModelBudgets.Charge] { state.withLock { $0.budgetCharges } }

    var principal: Principal? { state.withLock { $0.principal } }

    /// The answer's cost so far (nil before an attempt succeeded).
    public var cost: Double? { state.withLock { $0.summary.costUSD } }
    public var deploymentID: String? { state.withLock { $0.summary.deploymentID } }
    public var modelGroup: String? { state.withLock { $0.summary.modelGroup } }
    /// Upstream calls made so far (retries and fallbacks included).
    public var attempts: Int { state.withLock { $0.summary.attempts } }
    /// How many fallback groups deep the latest attempt went (0: the requested group).
    public var fallbackDepth: Int { state.withLock { $0.summary.fallbackDepth } }
    /// The model the client asked for.
    public var requestedModel: String? { state.withLock { $0.summary.requestModel } }

    /// The time the gateway itself has spent on the request so far: elapsed minus time waiting on
    /// upstreams.
    public var overheadSoFar: Duration {
        let elapsed = ContinuousClock.now - server.startInstant
        return max(.zero, elapsed - state.withLock { $0.upstreamTime })
    }

    /// Ends the request; the first call returns the finished span, later calls nil.
    public func finish(status: Int, error: GatewayError? = nil, clientDisconnected: Bool = false) -> FinishedSpan? {
        let end = ContinuousClock.now
        let proceed = state.withLock { state -> Bool in
            defer { state.finished = true }
            return !state.finished
        }
        guard proceed else { return nil }
        let errorType = clientDisconnected ? "client_disconnected" : error?.errorType
        // OpenTelemetry's HTTP conventions: a SERVER span answered 4xx is the client's mistake,
        // not a failure of the server, so its status stays unset and it carries no `error.type`
        // (https://opentelemetry.io/docs/specs/semconv/http/http-spans/#status). A client that
        // left mid-answer was never answered: that stays an error. The summary keeps the kind.
        let spanErrorType = clientDisconnected || status >= 500 ? errorType : nil
        var attributes: [(String, AttributeValue?)] = [
            (AttributeName.httpResponseStatusCode, .int(Int64(status))),
            (AttributeName.errorType, spanErrorType.map(AttributeValue.string)),
        ]
        if clientDisconnected { attributes.append((AttributeName.clientDisconnected, .bool(true))) }
        let (summaryAttempts, estimated) = state.withLock { ($0.summary.attempts, $0.summary.usageEstimated) }
        if summaryAttempts > 0 { attributes.append((AttributeName.attempts, .int(Int64(summaryAttempts)))) }
        if estimated { attributes.append((AttributeName.usageEstimated, .bool(true))) }
        server.setAttributes(attributes)
        if let spanErrorType { server.setStatus(.error(message: error?.message ?? spanErrorType)) }
        let serverData = server.end(at: end)
        let duration = end - server.startInstant
        return state.withLock { state -> FinishedSpan in
            state.summary.statusCode = status
            state.summary.errorType = errorType
            state.summary.errorMessage = errorType == nil ? nil : (error?.message ?? errorType)
            state.summary.clientDisconnected = clientDisconnected
            state.summary.durationSeconds = duration.seconds
            state.summary.overheadSeconds = max(0, (duration - state.upstreamTime).seconds)
            state.summary.upstreamSeconds = state.upstreamTime.seconds
            return FinishedSpan(server: serverData, attempts: state.attempts, summary: state.summary)
        }
    }

    static func callerAttributes(_ caller: Caller) -> [(String, AttributeValue?)] {
        [
            (AttributeName.keyHash, caller.keyHash.map(AttributeValue.string)),
            (AttributeName.keyAlias, caller.keyAlias.map(AttributeValue.string)),
            (AttributeName.teamID, caller.teamID.map(AttributeValue.string)),
            (AttributeName.teamAlias, caller.teamAlias.map(AttributeValue.string)),
            (AttributeName.userID, caller.userID.map(AttributeValue.string)),
            (AttributeName.orgID, caller.orgID.map(AttributeValue.string)),
        ].filter { $0.1 != nil }
    }
}

/// One upstream call: a CLIENT span that ends exactly once, with success or failure.
final class Attempt: Sendable {
    struct Outcome: Sendable {
        var usage: Usage?
        var usageEstimated = false
        var cost: Double?
        var responseModel: String?
        var timeToFirstChunk: Duration?
    }

    let span: Span
    private let exchange: Exchange
    private let firstChunkAt = Mutex<ContinuousClock.Instant?>(nil)

    fileprivate init(span: Span, exchange: Exchange) {
        self.span = span
        self.exchange = exchange
    }

    var traceParent: TraceParent { span.traceParent }

    /// Marks the first streamed chunk (later calls are ignored).
    func firstChunk() {
        let now = ContinuousClock.now
        let isFirst = firstChunkAt.withLock { at -> Bool in
            guard at == nil else { return false }
            at = now
            return true
        }
        if isFirst {
            span[attribute: AttributeName.responseTimeToFirstChunk] = .double((now - span.startInstant).seconds)
        }
    }

    func succeeded(_ reply: ProviderReply, cost: Double?) {
        span.setAttributes(Self.replyAttributes(reply, cost: cost))
        span.setStatus(.ok)
        end(
            Outcome(
                usage: reply.usage, cost: cost, responseModel: reply.responseModel,
                timeToFirstChunk: firstChunkAt.withLock { $0 }.map { $0 - span.startInstant }))
    }

    /// An answer cut off part way (the client left, the stream ran out of time): a failure, but
    /// what was used so far is charged. `estimated` says the gateway counted the usage itself.
    func interrupted(_ error: GatewayError, reply: ProviderReply, cost: Double?, estimated: Bool) {
        span.setAttributes(
            Self.replyAttributes(reply, cost: cost) + [(AttributeName.usageEstimated, estimated ? .bool(true) : nil)])
        fail(error)
        end(
            Outcome(
                usage: reply.usage, usageEstimated: estimated, cost: cost, responseModel: reply.responseModel,
                timeToFirstChunk: firstChunkAt.withLock { $0 }.map { $0 - span.startInstant }))
    }

    private static func replyAttributes(_ reply: ProviderReply, cost: Double?) -> [(String, AttributeValue?)] {
        var attributes: [(String, AttributeValue?)] = [
            (AttributeName.responseID, reply.responseID.map(AttributeValue.string)),
            (AttributeName.responseModel, reply.responseModel.map(AttributeValue.string)),
            (AttributeName.responseFinishReasons, reply.finishReasons.isEmpty ? nil : .stringArray(reply.finishReasons)),
            (AttributeName.usageCost, cost.map(AttributeValue.double)),
        ]
        if let usage = reply.usage {
            attributes += [
                (AttributeName.usageInputTokens, .int(Int64(usage.inputTokens))),
                (AttributeName.usageOutputTokens, .int(Int64(usage.outputTokens))),
                (AttributeName.usageCacheReadInputTokens, usage.cacheReadTokens > 0 ? .int(Int64(usage.cacheReadTokens)) : nil),
                (
                    AttributeName.usageCacheCreationInputTokens,
                    usage.cacheCreationTokens > 0 ? .int(Int64(usage.cacheCreationTokens)) : nil
                ),
                (AttributeName.usageReasoningOutputTokens, usage.reasoningTokens > 0 ? .int(Int64(usage.reasoningTokens)) : nil),
            ]
        }
        return attributes
    }

    func failed(_ error: GatewayError) {
        fail(error)
        end(nil)
    }

    private func fail(_ error: GatewayError) {
        span.setAttributes([
            (AttributeName.errorType, .string(error.errorType)),
            (AttributeName.httpResponseStatusCode, .int(Int64(error.status))),
        ])
        span.setStatus(.error(message: error.message))
    }

    private func end(_ outcome: Outcome?) {
        let now = ContinuousClock.now
        let data = span.end(at: now)
        exchange.attemptEnded(data, upstreamTime: now - span.startInstant, outcome: outcome)
    }
}
