import Logging
import NIOCore
import Sinks
import Telemetry

/// Where a routed request may go: the requested group's plan, and the groups it may fall back to.
struct Route: Sendable {
    /// The model group serving the request.
    var group: String
    /// The group's deployments in the order to try them (retries repeat one).
    var plan: [Deployment]
    /// Set instead of a plan when every deployment of the group is cooling down.
    var unavailable: GatewayError?
    var fallbacks: Fallbacks.Resolved
    /// The request's `num_retries`, in place of the configured one.
    var numRetries: Int?
    /// The request's own timeouts.
    var timeouts = RequestTimeouts()
    /// The request's tags when tag filtering is on (fallback groups are filtered by them too).
    var tags: [String]?
}

/// The attempts of one request: the group's plan, deployment by deployment with retries, then
/// the fallback groups for the kind of failure; each attempt translates the request, calls the
/// upstream, normalises and prices the answer, and settles the request when it is the answer.
struct AttemptLoop: Sendable {
    let config: GatewayConfig
    let router: ModelRouter
    let prometheus: PrometheusSink
    let settlement: Settlement
    let logger: Logger
    let clock: any GatewayClock
    /// Counts prompts for the context-window check and for usage an upstream never reported.
    var prompts = PromptCounter.estimating
    /// Keeps Responses answers for `previous_response_id`, `GET` and `DELETE`.
    let responses: ResponsesKeeper
    /// Wait between retries of one request; short, because a client is waiting.
    let retryBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5), maxRetries: .max)
    /// Largest upstream answer read whole (non-streaming).
    let maxUpstreamBody = 64 * 1024 * 1024

    /// The group's plan, then, if it failed, the fallback groups for that kind of failure, each
    /// once and in order; fallback groups' own fallbacks are not followed, so chains cannot loop.
    func run(_ route: Route, request: OpenAIRequest, exchange: Exchange) async throws(GatewayError) -> GatewayReply {
        var attempts = 0
        let firstError: GatewayError
        if let unavailable = route.unavailable {
            firstError = unavailable
        } else {
            do {
                return try await tryPlan(
                    route.plan, group: route.group, depth: 0, attempts: &attempts, route: route, request, exchange)
            } catch {
                firstError = error
            }
        }
        var lastError = firstError
        var tried: Set<String> = [route.group]
        let override = route.fallbacks.override
        for target in config.fallbacks.targets(after: route.group, failure: firstError.failure, override: override) {
            guard let group = route.fallbacks.groups[target], tried.insert(group).inserted else { continue }
            // Unknown or all cooling down.
            guard
                let plan = try? router.attempts(
                    for: group, now: clock.nowSeconds(), tags: route.tags,
                    matchAnyTag: config.routerBehaviour.tagFilteringMatchAny, requestedModel: target,
                    numRetries: route.numRetries.map { config.retryPolicy.maxRetries(numRetries: $0) },
                    operation: request.operation)
            else {
                continue
            }
            logger.info(
                "falling back", metadata: ["from": "\(route.group)", "to": "\(group)", "error_type": "\(lastError.errorType)"])
            prometheus.countFallback(from: route.group, to: group, reason: Fallbacks.reason(firstError.failure))
            do {
                return try await tryPlan(
                    plan, group: group, depth: tried.count - 1, attempts: &attempts, route: route, request, exchange)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Tries each planned deployment until one answers; a failure moves to the next while the
    /// retry policy allows that kind of failure another try (`num_retries` retries: at most
    /// `num_retries + 1` attempts).
    private func tryPlan(
        _ plan: [Deployment], group: String, depth: Int, attempts: inout Int, route: Route, _ request: OpenAIRequest,
        _ exchange: Exchange
    ) async throws(GatewayError) -> GatewayReply {
        let numRetries = route.numRetries ?? config.numRetries
        let plan = config.enablePreCallChecks ? try PreCallCheck.fitting(plan, request: request, prompts: prompts) : plan
        var lastError = GatewayError.internal("No deployment was tried.")
        var failures: [RetryPolicy.Kind: Int] = [:]
        for (index, deployment) in plan.enumerated() {
            // A deployment that went into cooldown during this request is not tried again.
            if index > 0 && router.cooldowns.isCooling(deployment.config.id, now: clock.nowSeconds()) { continue }
            if index > 0 {
                let sameDeployment = plan[index - 1].config.id == deployment.config.id
                let retryAfter = lastError.headers["retry-after"].flatMap { RetryAfter.parse($0) }
                // `retry_after`: the least wait before any retry.
                let least = config.routerBehaviour.retryAfter ?? .zero
                if sameDeployment || retryAfter != nil {
                    try? await Task.sleep(for: max(least, retryBackoff.delay(beforeRetry: index, retryAfter: retryAfter)))
                } else if least > .zero {
                    try? await Task.sleep(for: least)
                }
            }
            attempts += 1
            let attempt = exchange.beginAttempt(
                deployment, group: group, number: attempts, fallbackDepth: depth, request: request)
            let started = clock.nowSeconds()
            router.load.started(deployment.config.id, now: started)
            let timeout = route.timeouts.choice(
                stream: request.stream, deployment: deployment.config, router: config.routerBehaviour)
            do {
                let reply = try await send(
                    request, to: deployment, timeout: timeout.duration, attempt: attempt, exchange: exchange)
                // Until the answer (non-streaming) or its headers (streaming: about the first token).
                router.load.finished(deployment.config.id, latency: clock.nowSeconds() - started)
                return reply
            } catch {
                router.load.finished(deployment.config.id, latency: nil)
                attempt.failed(error)
                lastError = error
                // Like LiteLLM, every error says the timeout the request ran under.
                if lastError.headers[GatewayError.timeoutHeader] == nil {
                    lastError.headers[GatewayError.timeoutHeader] = RequestTimeouts.seconds(timeout.duration)
                }
                // A timeout the client chose says nothing about the deployment's health.
                let clientsTimeout = timeout.clientChosen && error.failure == .timeout
                recordFailure(error, of: deployment, attempt: index + 1, countsAgainstHealth: !clientsTimeout)
                let kind = RetryPolicy.Kind(error.failure)
                failures[kind, default: 0] += 1
                guard failures[kind, default: 0] <= config.retryPolicy.allowed(after: error, numRetries: numRetries)
                else { break }
            }
        }
        throw lastError
    }

    /// Counts the failure against the deployment's health, and logs it. Upstream messages were
    /// scrubbed of keys by the adapter; the log names no secret.
    private func recordFailure(_ error: GatewayError, of deployment: Deployment, attempt: Int, countsAgainstHealth: Bool) {
        let names: Logger.Metadata = ["model_group": "\(deployment.config.modelName)", "deployment": "\(deployment.config.id)"]
        if countsAgainstHealth && router.cooldowns.recordFailure(deployment.config.id, error: error, now: clock.nowSeconds()) {
            logger.warning(
                "deployment cooling down",
                metadata: names.merging([
                    "seconds": "\(router.cooldowns.settings.cooldownTime)", "error_type": "\(error.errorType)",
                ]) { $1 })
        }
        logger.warning(
            "upstream call failed",
            metadata: names.merging([
                "attempt": "\(attempt)", "status": "\(error.status)", "error_type": "\(error.errorType)",
            ]) { $1 })
    }

    /// One attempt: translate, call, then normalise and price the answer (or relay its stream).
    /// `timeout` bounds the whole call (a stream: until its head, then each wait for a chunk).
    func send(
        _ request: OpenAIRequest, to deployment: Deployment, timeout: Duration, attempt: Attempt, exchange: Exchange
    ) async throws(GatewayError) -> GatewayReply {
        let adapter = deployment.adapter
        switch deployment.serving(request.operation) {
        case .native: break
        case .viaChat:
            return try await sendViaChat(request, to: deployment, timeout: timeout, attempt: attempt, exchange: exchange)
        case .unsupported: throw .notServed(request.operation, model: request.model)
        }
        // The deployment's default parameters, under the client's: the same translation (and
        // `drop_params` rules) apply to both. An upload's fields go as the client sent them.
        var withDefaults = request
        if request.form == nil { withDefaults.body = deployment.config.applyingDefaults(to: request.body) }
        if request.operation == .responses {
            withDefaults.body = responses.continuing(request, body: withDefaults.body, on: deployment)
        }
        var upstreamRequest = try adapter.request(for: withDefaults, deployment: deployment.config)
        deployment.config.addingDefaultHeaders(to: &upstreamRequest)
        upstreamRequest.headers.replaceOrAdd(name: "traceparent", value: attempt.traceParent.header)
        if let state = exchange.server.traceState { upstreamRequest.headers.replaceOrAdd(name: "tracestate", value: state) }
        upstreamRequest = try await adapter.prepare(
            upstreamRequest, deployment: deployment.config, transport: deployment.transport)

        let streaming = (request.stream && request.operation.streams) || request.operation == .audioSpeech
        let response: UpstreamResponse
        let collected: [UInt8]?
        let transport = deployment.transport
        let limit = maxUpstreamBody
        let prepared = upstreamRequest
        let started = ContinuousClock.now
        do {
            (response, collected) = try await UpstreamDeadline.run(within: timeout) {
                let response = try await transport.send(prepared, timeout: timeout)
                guard (200..<300).contains(response.status) else {
                    return (response, (try? await response.collect(upTo: 1024 * 1024)) ?? [])
                }
                return (response, streaming ? nil : try await response.collect(upTo: limit))
            }
        } catch {
            throw Self.transportError(error, deployment: deployment, timeout: timeout, taken: ContinuousClock.now - started)
        }
        guard (200..<300).contains(response.status) else {
            throw adapter.mapError(
                status: response.status, headers: response.headers, body: collected ?? [], deployment: deployment.config)
        }
        guard let body = collected else {
            if request.operation == .audioSpeech {
                return audioReply(
                    response, request: request, deployment: deployment, attempt: attempt, exchange: exchange,
                    chunkTimeout: timeout)
            }
            return streamReply(
                response, request: request, deployment: deployment, attempt: attempt, exchange: exchange, chunkTimeout: timeout)
        }
        let reply = try adapter.parseResponse(body, for: request)
        let cost = deployment.price?.cost(of: reply.usage, units: reply.units)
        exchange.captureOutput { Self.answerMessages(reply.body) }
        attempt.succeeded(reply, cost: cost)
        await settlement.settle(exchange, status: 200)
        if request.operation == .responses { responses.keep(reply.body, of: request, from: deployment, native: true) }
        return GatewayReply(
            status: 200,
            headers: ReplyHeaders.of(exchange, cost: cost ?? 0) + [("content-type", reply.contentType ?? "application/json")],
            body: .bytes(reply.body))
    }

    /// The assistant messages of an OpenAI-shaped answer (a chat completion's choices, a
    /// Responses answer's output), for content capture.
    static func answerMessages(_ body: [UInt8]) -> JSONValue? {
        let answer = try? JSONParser.parse(body)
        let messages =
            answer?["choices"]?.arrayValue?.compactMap { $0["message"] }
            ?? answer?["output"]?.arrayValue.map(ResponsesInbound.chatMessages(fromOutput:)) ?? []
        return messages.isEmpty ? nil : .array(messages)
    }

    static func transportError(
        _ error: any Error, deployment: Deployment, timeout: Duration? = nil, taken: Duration? = nil
    ) -> GatewayError {
        let name = deployment.config.modelName
        switch error {
        case TransportError.timeout:
            let limit = timeout ?? deployment.timeout
            return .upstreamTimeout(limit: limit, taken: taken ?? limit)
        case TransportError.responseTooLarge:
            return .badUpstreamResponse("The upstream for '\(name)' sent a larger answer than the gateway accepts.")
        case TransportError.invalidURL:
            return .upstreamUnavailable("The api_base configured for '\(name)' is not a usable URL.", errorType: "invalid_url")
        case is CancellationError:
            return GatewayError(.clientClosed, "The request was cancelled.")
        default:
            return .upstreamUnavailable("Could not reach the upstream for '\(name)'.", errorType: "connection_error")
        }
    }
}
