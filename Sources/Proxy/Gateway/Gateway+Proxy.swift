import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Sinks
import Telemetry

extension Gateway {
    /// A client opts in to `reasoning_content` per request with this header (`true`), or every
    /// client does with `spanway_settings.reasoning_content: true`.
    static let reasoningContentHeader = HTTPField.Name("x-spanway-reasoning-content")!

    /// Proxies a chat completion or embeddings request. Never throws: every failure is an
    /// OpenAI-shaped reply, and every request, answered or refused, is emitted as one span.
    public func proxy(
        _ operation: OpenAIRequest.Operation, body: ByteBuffer, headers: HTTPFields, route: String
    ) async -> GatewayReply {
        await proxy(operation, headers: headers, route: route, body: { body })
    }

    /// The same, with the body read by `body` only once the caller is known and admitted: an
    /// unknown caller, or one past its limits, never makes the gateway read or parse a body.
    public func proxy(
        _ operation: OpenAIRequest.Operation, headers: HTTPFields, route: String,
        body: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        await proxy(operation, headers: headers, route: route, body: body) { bytes throws(GatewayError) in
            try OpenAIRequest(operation: operation, bytes: bytes)
        }
    }

    /// The pipeline, top to bottom: authenticate (headers only), admit by rate limits and spent
    /// budgets, read and parse the body, check the model (and every fallback) against the
    /// caller's allow-lists, route, reserve the budget at the dearest candidate, call.
    func proxy(
        _ operation: OpenAIRequest.Operation, headers: HTTPFields, route: String,
        body readBody: () async throws(GatewayError) -> ByteBuffer,
        parse: (ByteBufferView) throws(GatewayError) -> OpenAIRequest
    ) async -> GatewayReply {
        let exchange = Exchange(method: "POST", route: route, operation: operation.rawValue, headers: headers, sampler: sampler)
        do throws(GatewayError) {
            let principal = try await authenticator.authenticate(headers)
            exchange.authenticated(principal)
            routeTrace(exchange, principal: principal)
            let subjects = principal.limitSubjects
            if !subjects.isEmpty {
                exchange.hold(try rateLimiter.acquire(subjects, now: WallClock.nowSeconds()))
                try budgets.refuseIfSpent(subjects)
            }
            let body = try await readBody()
            var request = try parse(body.readableBytesView)
            let override = try Self.fallbackOverride(&request)
            let tags = try Self.routingTags(&request, headers: headers)
            exchange.described(tags: tags, sessionID: Self.sessionID(request, headers: headers))
            exchange.captureInput(request.body["messages"] ?? request.body["input"])
            request.timeout = try Self.requestTimeout(&request)
            request.includeReasoning = config.reasoningContent
                || headers[Self.reasoningContentHeader].map { ["true", "1"].contains($0.lowercased()) } ?? false
            let name = try principal.admit(model: request.model)
            let group = router.group(named: name)
            exchange.requested(request, modelGroup: group)
            guard let group else { throw GatewayError.modelNotFound(name) }
            let fallbacks = try fallbackGroups(after: group, override: override, principal: principal)
            // A group whose every deployment is cooling down may still have fallbacks.
            var plan: [Deployment] = []
            var unavailable: GatewayError?
            do throws(GatewayError) {
                plan = try router.attempts(for: group, now: WallClock.nowSeconds(), tags: tags, requestedModel: name) ?? []
            } catch where error.code == ModelRouter.allCoolingDownCode {
                unavailable = error
            }
            if !subjects.isEmpty {
                let prices = (plan + Set(fallbacks.groups.values).flatMap { router.deployments(of: $0) }).compactMap(\.price)
                let estimate = BudgetGuard.estimate(request, bodyBytes: body.readableBytes, prices: prices)
                exchange.hold(try budgets.reserve(subjects, estimate: estimate))
            }
            return try await call(
                plan, unavailable: unavailable, group: group, fallbacks: fallbacks, request: request, exchange: exchange)
        } catch {
            await settle(exchange, status: error.status, error: error)
            return Self.reply(error, headers: responseHeaders(exchange, cost: 0))
        }
    }

    /// The groups this request may fall back to, as `Fallbacks` orders them for each kind of
    /// failure, resolved like the requested model (the key's aliases, group aliases). A group
    /// the caller may not use is refused when the request named it (`fallbacks`) and left out
    /// when the config did: falling back never widens what a key can reach.
    func fallbackGroups(after group: String, override: Fallbacks.Override, principal: Principal)
        throws(GatewayError) -> Fallbacks.Resolved
    {
        var resolved: [String: String] = [:]
        for name in override.groups ?? [] {
            let admitted = try principal.admit(model: name, param: "fallbacks")
            resolved[name] = router.group(named: admitted) ?? admitted
        }
        for name in config.fallbacks.candidates(after: group, override: override) where resolved[name] == nil {
            if let target = router.group(named: name), principal.allows(target, requested: name) { resolved[name] = target }
        }
        return Fallbacks.Resolved(override: override, groups: resolved)
    }

    /// `x-spanway-tags` (comma-separated) and the body's `metadata.tags`, which is taken out of the
    /// body (LiteLLM's routing field, not the provider's).
    static func routingTags(_ request: inout OpenAIRequest, headers: HTTPFields) throws(GatewayError) -> [String] {
        var tags = headers[tagsHeader].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        if var metadata = request.body["metadata"]?.objectValue, let value = metadata["tags"] {
            guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("'metadata.tags' must be an array of strings.", param: "metadata.tags")
            }
            tags += list.compactMap(\.stringValue)
            metadata["tags"] = nil
            request.body["metadata"] = metadata.isEmpty ? nil : .object(metadata)
        }
        return tags.filter { !$0.isEmpty }
    }

    static let tagsHeader = HTTPField.Name("x-spanway-tags")!
    static let sessionHeaders = [HTTPField.Name("x-spanway-session-id")!, HTTPField.Name("x-litellm-session-id")!]

    /// The conversation a request belongs to: a session header, or the body's `metadata.session_id`
    /// / `litellm_session_id` (LiteLLM's spellings).
    static func sessionID(_ request: OpenAIRequest, headers: HTTPFields) -> String? {
        for name in sessionHeaders { if let value = headers[name], !value.isEmpty { return value } }
        return request.body["metadata"]?["session_id"]?.stringValue ?? request.body["litellm_session_id"]?.stringValue
    }

    /// The body's `timeout` in seconds (LiteLLM's per-request field), taken out of the body.
    static func requestTimeout(_ request: inout OpenAIRequest) throws(GatewayError) -> Duration? {
        guard let value = request.body["timeout"], !value.isNull else { return nil }
        guard let seconds = value.doubleValue, seconds > 0, seconds <= 86_400 else {
            throw .invalidRequest("'timeout' must be a number of seconds greater than 0.", param: "timeout")
        }
        request.body["timeout"] = nil
        return .milliseconds(Int64(seconds * 1000))
    }

    /// The request's own `fallbacks` and `disable_fallbacks`, taken out of the body (they are the
    /// gateway's, not the provider's).
    static func fallbackOverride(_ request: inout OpenAIRequest) throws(GatewayError) -> Fallbacks.Override {
        var override = Fallbacks.Override()
        if let value = request.body["fallbacks"], !value.isNull {
            guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("'fallbacks' must be an array of model names.", param: "fallbacks")
            }
            override.groups = list.compactMap(\.stringValue)
        }
        if let value = request.body["disable_fallbacks"], !value.isNull {
            guard let disabled = value.boolValue else {
                throw .invalidRequest("'disable_fallbacks' must be a boolean.", param: "disable_fallbacks")
            }
            override.disabled = disabled
        }
        request.body["fallbacks"] = nil
        request.body["disable_fallbacks"] = nil
        return override
    }

    /// The group's plan, then, if it failed, the fallback groups for that kind of failure, each
    /// once and in order; fallback groups' own fallbacks are not followed, so chains cannot loop.
    private func call(
        _ plan: [Deployment], unavailable: GatewayError?, group: String, fallbacks: Fallbacks.Resolved,
        request: OpenAIRequest, exchange: Exchange
    ) async throws(GatewayError) -> GatewayReply {
        var attempts = 0
        let firstError: GatewayError
        if let unavailable {
            firstError = unavailable
        } else {
            do {
                return try await call(plan, group: group, depth: 0, attempts: &attempts, request: request, exchange: exchange)
            } catch {
                firstError = error
            }
        }
        var lastError = firstError
        var tried: Set<String> = [group]
        for target in config.fallbacks.targets(after: group, error: firstError, override: fallbacks.override) {
            guard let resolved = fallbacks.groups[target], tried.insert(resolved).inserted else { continue }
            let now = WallClock.nowSeconds()
            // Unknown or all cooling down.
            guard let fallback = try? router.attempts(for: resolved, now: now, requestedModel: target) else { continue }
            logger.info(
                "falling back", metadata: ["from": "\(group)", "to": "\(resolved)", "error_type": "\(lastError.errorType)"])
            prometheus.countFallback(from: group, to: resolved, reason: Fallbacks.reason(firstError))
            do {
                return try await call(
                    fallback, group: resolved, depth: tried.count - 1, attempts: &attempts, request: request, exchange: exchange)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Tries each planned deployment until one answers; retryable failures move to the next.
    private func call(
        _ plan: [Deployment], group: String, depth: Int, attempts: inout Int, request: OpenAIRequest, exchange: Exchange
    ) async throws(GatewayError) -> GatewayReply {
        let plan = config.enablePreCallChecks ? try PreCallCheck.fitting(plan, request: request) : plan
        var lastError = GatewayError.internal("No deployment was tried.")
        var failures: [RetryPolicy.Kind?: Int] = [:]
        for (index, deployment) in plan.enumerated() {
            // A deployment that went into cooldown during this request is not tried again.
            if index > 0 && router.cooldowns.isCooling(deployment.config.id, now: WallClock.nowSeconds()) {
                continue
            }
            if index > 0 {
                let sameDeployment = plan[index - 1].config.id == deployment.config.id
                let retryAfter = lastError.headers["retry-after"].flatMap { RetryAfter.parse($0) }
                if sameDeployment || retryAfter != nil {
                    try? await Task.sleep(for: retryBackoff.delay(beforeRetry: index, retryAfter: retryAfter))
                }
            }
            attempts += 1
            let attempt = exchange.beginAttempt(
                deployment, group: group, number: attempts, fallbackDepth: depth, request: request)
            let started = WallClock.nowNanos()
            router.load.started(deployment.config.id, now: Double(started) / 1e9)
            do {
                let reply = try await send(request, to: deployment, attempt: attempt, exchange: exchange)
                // Until the answer (non-streaming) or its headers (streaming: about the first token).
                router.load.finished(deployment.config.id, latency: Double(WallClock.nowNanos() - started) / 1e9)
                return reply
            } catch {
                router.load.finished(deployment.config.id, latency: nil)
                attempt.failed(error)
                lastError = error
                if router.cooldowns.recordFailure(deployment.config.id, error: error, now: WallClock.nowSeconds()) {
                    logger.warning(
                        "deployment cooling down",
                        metadata: [
                            "model_group": "\(deployment.config.modelName)", "deployment": "\(deployment.config.id)",
                            "seconds": "\(router.cooldowns.settings.cooldownTime)", "error_type": "\(error.errorType)",
                        ])
                }
                // Upstream messages were scrubbed of keys by the adapter; the log names no secret.
                logger.warning(
                    "upstream call failed",
                    metadata: [
                        "model_group": "\(deployment.config.modelName)", "deployment": "\(deployment.config.id)",
                        "attempt": "\(index + 1)", "status": "\(error.status)", "error_type": "\(error.errorType)",
                    ])
                let kind = RetryPolicy.Kind(error)
                failures[kind, default: 0] += 1
                guard failures[kind, default: 0] <= config.retryPolicy.allowed(after: error, numRetries: config.numRetries) else {
                    break
                }
            }
        }
        throw lastError
    }

    private func send(_ request: OpenAIRequest, to deployment: Deployment, attempt: Attempt, exchange: Exchange)
        async throws(GatewayError) -> GatewayReply
    {
        var upstreamRequest = try deployment.adapter.request(for: request, deployment: deployment.config)
        upstreamRequest.headers.replaceOrAdd(name: "traceparent", value: attempt.traceParent.header)
        if let state = exchange.server.traceState { upstreamRequest.headers.replaceOrAdd(name: "tracestate", value: state) }
        upstreamRequest = try await deployment.adapter.prepare(
            upstreamRequest, deployment: deployment.config, transport: deployment.transport)

        let response: UpstreamResponse
        do {
            response = try await deployment.transport.send(upstreamRequest, timeout: deployment.timeout(for: request))
        } catch {
            throw Self.transportError(error, deployment: deployment, timeout: deployment.timeout(for: request))
        }
        guard (200..<300).contains(response.status) else {
            let body = (try? await response.collect(upTo: 1024 * 1024)) ?? []
            throw deployment.adapter.mapError(
                status: response.status, headers: response.headers, body: body, deployment: deployment.config)
        }
        if request.stream && request.operation == .chat {
            return streamReply(response, request: request, deployment: deployment, attempt: attempt, exchange: exchange)
        }
        let body: [UInt8]
        do {
            body = try await response.collect(upTo: maxUpstreamBody)
        } catch {
            throw Self.transportError(error, deployment: deployment)
        }
        let reply = try deployment.adapter.parseResponse(body, for: request)
        let cost = reply.usage.flatMap { usage in deployment.price?.cost(of: usage) }
        exchange.captureOutput { Self.answerMessages(reply.body) }
        attempt.succeeded(reply, cost: cost)
        await settle(exchange, status: 200)
        return GatewayReply(
            status: 200, headers: responseHeaders(exchange, cost: cost ?? 0) + [("content-type", "application/json")],
            body: .bytes(reply.body))
    }

    /// The assistant messages of an OpenAI-shaped answer, for content capture.
    static func answerMessages(_ body: [UInt8]) -> JSONValue? {
        guard let choices = (try? JSONParser.parse(body))?["choices"]?.arrayValue else { return nil }
        let messages = choices.compactMap { $0["message"] }
        return messages.isEmpty ? nil : .array(messages)
    }

    static func transportError(_ error: any Error, deployment: Deployment, timeout: Duration? = nil) -> GatewayError {
        let name = deployment.config.modelName
        switch error {
        case TransportError.timeout:
            return .timeout("The upstream for '\(name)' did not answer within \(timeout ?? deployment.timeout).")
        case TransportError.responseTooLarge:
            return .badUpstreamResponse("The upstream for '\(name)' sent a larger answer than the gateway accepts.")
        case TransportError.invalidURL:
            return .upstreamUnavailable("The api_base configured for '\(name)' is not a usable URL.", errorType: "invalid_url")
        case is CancellationError:
            return GatewayError(status: 499, type: "api_error", message: "The request was cancelled.",
                errorType: "cancelled")
        default:
            return .upstreamUnavailable("Could not reach the upstream for '\(name)'.", errorType: "connection_error")
        }
    }

    func responseHeaders(_ exchange: Exchange, cost: Double?) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("x-spanway-trace-id", exchange.traceID.hex), ("x-spanway-request-id", exchange.requestID),
        ]
        if let cost { headers.append(("x-spanway-response-cost", Self.formatCost(cost))) }
        if let group = exchange.modelGroup { headers.append(("x-spanway-model-group", group)) }
        if let deployment = exchange.deploymentID { headers.append(("x-spanway-deployment", deployment)) }
        if exchange.attempts > 0 { headers.append(("x-spanway-attempts", String(exchange.attempts))) }
        return headers + (exchange.ticket?.headers ?? [])
    }

    /// USD with enough significant digits for sub-cent request costs, never in exponent form.
    /// Twelve decimals in integer arithmetic: this runs for every response, and Foundation's
    /// `String(format:)` showed up in the hot-path profile.
    static func formatCost(_ cost: Double) -> String {
        guard cost > 0, cost.isFinite else { return "0" }
        guard cost < 1_000_000 else { return String(UInt64(min(cost, 1e18).rounded())) }
        let scaled = UInt64((cost * 1e12).rounded())
        let whole = scaled / 1_000_000_000_000
        var fraction = String(scaled % 1_000_000_000_000)
        fraction = String(repeating: "0", count: 12 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }
}
