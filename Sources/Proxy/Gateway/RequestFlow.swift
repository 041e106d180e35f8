import HTTPTypes
import NIOCore
import Telemetry

/// One request from the route to the sinks, top to bottom: authenticate, admit, read, route,
/// reserve, then the attempts (translate, call, normalise, price), then settle. Never throws:
/// every failure is an OpenAI-shaped reply, and every request, answered or refused, settles as
/// one span.
struct RequestFlow: Sendable {
    let config: GatewayConfig
    let authenticator: Authenticator
    let traces: TraceRouting
    let rateLimiter: RateLimiter
    let budgets: BudgetGuard
    let router: ModelRouter
    let attempts: AttemptLoop
    let settlement: Settlement
    let clock: any GatewayClock

    /// `body` is read only once the caller is known and admitted: an unknown caller, or one past
    /// its limits, never makes the gateway read or parse a body. `parse` turns it into the
    /// canonical request (an Anthropic Messages body is translated there).
    func run(
        _ operation: OpenAIRequest.Operation, headers: HTTPFields, route path: String,
        body readBody: () async throws(GatewayError) -> ByteBuffer,
        parse: (ByteBufferView) throws(GatewayError) -> OpenAIRequest
    ) async -> GatewayReply {
        let exchange = Exchange(
            method: "POST", route: path, operation: operation.genAIName, headers: headers, sampler: traces.sampler)
        settlement.inFlight.begin()
        // What an error reports as its timeout (`x-litellm-timeout`) when no attempt said one.
        var timeouts = RequestTimeouts()
        var stream = false
        do throws(GatewayError) {
            // 1. Authenticate, from the headers alone.
            var principal = try await authenticator.authenticate(headers, route: path)
            exchange.authenticated(principal)
            traces.route(exchange, principal: principal)
            // 2. Admit: rate limits and spent budgets (the proxy's own `max_budget` binds everyone).
            var subjects = principal.limitSubjects
            // LiteLLM's limits on each member of the key's team (`team_member_*`).
            let member = TeamMemberLimits(principal)
            if let subject = member?.subject { subjects.append(subject) }
            if let proxyBudget = budgets.proxyBudget {
                await proxyBudget.loadOnce(from: authenticator.store, logger: settlement.logger)
                subjects.append(proxyBudget.subject(now: clock.nowSeconds()))
            }
            if !subjects.isEmpty {
                exchange.hold(try await rateLimiter.acquire(subjects, now: clock.nowSeconds(), lease: exchange.requestID))
                try budgets.refuseIfSpent(subjects)
            }
            if let member {
                exchange.hold(
                    try await budgets.modelBudgets.admit(
                        member, store: authenticator.store, now: clock.nowSeconds(), refusalStatus: budgets.refusalStatus))
            }
            // 3. Read the request, and take the gateway's own fields out of it.
            let body = try await readBody()
            var request = try parse(body.readableBytesView)
            if request.operation == .responses {
                request.responses = try await attempts.responses.turn(
                    for: request, owner: principal.responseOwner, requestID: exchange.requestID, now: clock.nowSeconds())
            }
            // The end user it names (`user`): refused when blocked, past its limits or its budget.
            if let id = EndUserIdentity.id(headers: headers, body: request.body) {
                let tier = Authenticator.defaultEndUserTier(key: principal.key, configured: config.maxEndUserBudgetID)
                principal.endUser = try await authenticator.endUser(id, defaultTier: tier, now: clock.nowSeconds())
                exchange.identified(endUser: id)
                if let subject = principal.endUser?.limitSubject {
                    if let ticket = try await rateLimiter.acquire([subject], now: clock.nowSeconds(), lease: exchange.requestID) {
                        exchange.hold(exchange.ticket.map { $0.adding(ticket) } ?? ticket)
                    }
                    if subject.maxBudget != nil {
                        try budgets.refuseIfSpent([subject])
                        subjects.append(subject)
                    }
                }
            }
            var options = try RequestOptions(taking: &request, headers: headers, reasoningByDefault: config.reasoningContent)
            // The key's own tags join the request's, as LiteLLM adds a key's `tags` to its requests.
            options.tags += principal.key?.tags.filter { !options.tags.contains($0) } ?? []
            (timeouts, stream) = (options.timeouts, request.stream)
            request.includeReasoning = options.includeReasoning
            exchange.described(tags: options.tags, sessionID: options.sessionID, evaluation: options.evaluation)
            exchange.captureInput(request.body["messages"] ?? request.body["input"] ?? request.body["prompt"])
            // 4. Route: the model the caller may use, its deployments, and where to fall back.
            var route = try self.route(request, options: options, principal: principal, exchange: exchange)
            exchange.annotated(metadata: options.client.metadata)
            if let answer = options.client.mockResponse, request.operation == .chat, principal.allowsClientMockResponse {
                route = route.mocked(answering: answer, router: router) ?? route
            }
            // 4b. Per-model limits, known once the group is: LiteLLM's `model_max_budget`,
            // `model_rpm_limit` and `model_tpm_limit`.
            try await admitPerModel(principal, requested: request.model, group: route.group, exchange: exchange)
            // 5. Reserve the budget at the dearest deployment the request might reach.
            if !subjects.isEmpty {
                let candidates = route.plan + Set(route.fallbacks.groups.values).flatMap { router.deployments(of: $0) }
                let estimate = BudgetGuard.estimate(
                    request, bodyBytes: body.readableBytes, prices: candidates.compactMap(\.price))
                exchange.hold(try await budgets.reserve(subjects, estimate: estimate, hold: exchange.requestID))
            }
            // 6. Translate, call, normalise, price, settle: attempt by attempt until one answers.
            return try await attempts.run(route, request: request, exchange: exchange)
        } catch {
            await settlement.settle(exchange, status: error.status, error: error)
            var error = error
            // Like LiteLLM, every error says the timeout the request ran under.
            if error.headers[GatewayError.timeoutHeader] == nil {
                let timeout = timeouts.choice(stream: stream, deployment: nil, router: config.routerBehaviour)
                error.headers[GatewayError.timeoutHeader] = RequestTimeouts.seconds(timeout.duration)
            }
            return GatewayReply(error, headers: ReplyHeaders.of(exchange, cost: 0))
        }
    }

    /// Refuses a request past its key's budget for the model, then admits it against the
    /// per-model rate limits, whose ticket joins the request's so settling releases it.
    private func admitPerModel(_ principal: Principal, requested: String, group: String, exchange: Exchange)
        async throws(GatewayError)
    {
        guard let key = principal.key else { return }
        let limits = ModelLimits(principal)
        let now = clock.nowSeconds()
        if let budgets = limits.keyBudgets,
            let budget = ModelBudgets.budget(in: budgets, requested: requested, group: group)
        {
            exchange.hold(
                try await self.budgets.modelBudgets.admit(
                    key, budget, requested: requested, now: now, refusalStatus: self.budgets.refusalStatus))
        }
        let subjects = limits.subjects(principal, requested: requested, group: group)
        guard !subjects.isEmpty,
            let ticket = try await rateLimiter.acquire(subjects, now: now, lease: exchange.requestID)
        else { return }
        exchange.hold(exchange.ticket.map { $0.adding(ticket) } ?? ticket)
    }

    /// The group for the requested model (after the key's aliases), its plan, and its fallback
    /// groups. A group whose every deployment is cooling down may still have fallbacks.
    private func route(_ request: OpenAIRequest, options: RequestOptions, principal: Principal, exchange: Exchange)
        throws(GatewayError) -> Route
    {
        let name = try principal.admit(model: request.model)
        let group = router.group(named: name)
        exchange.requested(request, modelGroup: group)
        guard let group else { throw GatewayError.modelNotFound(name) }
        let fallbacks = try fallbackGroups(
            after: group, override: options.fallbacks.applying(to: group, requested: request.model), principal: principal)
        // Tags are always recorded; they choose deployments only with `enable_tag_filtering`.
        let tags = config.routerBehaviour.enableTagFiltering ? options.tags : nil
        // A plan long enough for the request's own `num_retries`.
        let planRetries = options.numRetries.map { config.retryPolicy.maxRetries(numRetries: $0) }
        do throws(GatewayError) {
            let plan = try router.attempts(
                for: group, now: clock.nowSeconds(), tags: tags, matchAnyTag: config.routerBehaviour.tagFilteringMatchAny,
                requestedModel: name, numRetries: planRetries, operation: request.operation)
            return Route(
                group: group, plan: plan ?? [], fallbacks: fallbacks, numRetries: options.numRetries,
                timeouts: options.timeouts, tags: tags)
        } catch  where error.failure == .noHealthyDeployment {
            return Route(
                group: group, plan: [], unavailable: error, fallbacks: fallbacks, numRetries: options.numRetries,
                timeouts: options.timeouts, tags: tags)
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
}

/// Where a caller's trace may go, and whether its content is captured.
struct TraceRouting: Sendable {
    let config: GatewayConfig
    /// Which traces the trace sinks receive (`OTEL_TRACES_SAMPLER`).
    let sampler: Sampler
    /// Teams' own destinations, built from their metadata; nil without a store.
    let teamDestinations: TeamDestinations?
    /// What captured content must never contain: the master key, the metrics token, provider
    /// keys (the stored models' too, as they change), sink credentials.
    let contentSecrets: ContentSecrets

    func route(_ exchange: Exchange, principal: Principal) {
        var team = principal.caller.teamID.flatMap { config.teamTraceSettings[$0] }
        if let record = principal.team, let teamDestinations { team = teamDestinations.settings(for: record) }
        // `turn_off_message_logging` overrules every team's choice.
        let capture = !config.turnOffMessageLogging && (team?.captureContent ?? config.captureContent)
        let redactor =
            capture ? ContentRedactor(secrets: contentSecrets.all, redactEmails: team?.redactEmails ?? config.redactEmails) : nil
        exchange.route(teamDestinationsOnly: team?.defaultSinks == false, redactor: redactor)
    }
}
