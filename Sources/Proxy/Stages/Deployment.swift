import Telemetry

/// A configured deployment made ready to call: its adapter, transport and price.
public struct Deployment: Sendable {
    public let config: DeploymentConfig
    public let adapter: any ProviderAdapter
    public let transport: any Transport
    public let price: ModelPrice?
    /// `server.address` and `server.port` of the upstream, for spans.
    public let serverAddress: String?
    public let serverPort: Int?
    /// `scheme://host[:port]` of the upstream for the sinks: no path, query or credentials.
    public let apiBase: String?
    /// Added through the admin API (`/model/new`) and kept in the store, not in the config.
    public var isStored = false

    public init(config: DeploymentConfig, adapter: any ProviderAdapter, transport: any Transport, price: ModelPrice?) {
        self.config = config
        self.adapter = adapter
        self.transport = transport
        self.price = price
        let base = adapter.apiBase(for: config)
        let (host, port) = Self.hostAndPort(base)
        self.serverAddress = host
        self.serverPort = port
        let scheme = base.range(of: "://").map { base[..<$0.lowerBound].lowercased() }
        self.apiBase = host.flatMap { host in
            scheme.map { scheme in
                let shownHost = host.contains(":") ? "[\(host)]" : host
                let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
                return port.map { $0 == defaultPort ? "\(scheme)://\(shownHost)" : "\(scheme)://\(shownHost):\($0)" }
                    ?? "\(scheme)://\(shownHost)"
            }
        }
    }

    /// The deployment's `timeout`, else LiteLLM's default; `RequestTimeouts` picks an attempt's.
    public var timeout: Duration { config.timeout ?? RouterBehaviour.defaultTimeout }

    /// A wildcard deployment (`model: openai/*`) made concrete for one requested model, priced
    /// from the table for that model.
    func specialised(to model: String, priceBook: PriceBook) -> Deployment {
        var config = config
        config.model = config.model.replacingOccurrences(of: "*", with: model)
        var made = Deployment(config: config, adapter: adapter, transport: transport, price: priceBook.price(for: config))
        made.isStored = isStored
        return made
    }

    static func hostAndPort(_ url: String) -> (String?, Int?) {
        guard let schemeEnd = url.range(of: "://") else { return (nil, nil) }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        var authority = rest.prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let port =
                authority[authority.index(after: close)...].dropFirst().isEmpty
                ? defaultPort : Int(authority[authority.index(after: close)...].dropFirst())
            return (host, port)
        }
        let parts = authority.split(separator: ":", maxSplits: 1)
        guard let host = parts.first else { return (nil, nil) }
        return (String(host), parts.count == 2 ? Int(parts[1]) : defaultPort)
    }
}

/// Stage 3: model name to deployment group, and the order to try them in. Deployments that are
/// cooling down are left out; the rest are ranked by `order`, then by the routing strategy, and
/// retries move down the ranking.
public struct ModelRouter: Sendable {
    /// The deployments, replaced when models are added through the admin API.
    let deploymentSet: DeploymentSet
    var groups: [String: [Deployment]] { deploymentSet.snapshot.groups }
    public let numRetries: Int
    public let cooldowns: Cooldowns
    /// `router_settings.model_group_alias`: names clients may use for a group.
    let aliases: [String: String]
    public let strategy: RoutingStrategy
    let load: DeploymentLoad
    /// Prices for the models wildcard groups route to, known only per request.
    let priceBook: PriceBook
    private let random: SharedRandom

    /// `seed` makes the random choices repeatable (tests); by default they differ per process.
    public init(
        deployments: [Deployment], numRetries: Int, cooldowns: Cooldowns = Cooldowns(), aliases: [String: String] = [:],
        strategy: RoutingStrategy = .simpleShuffle, seed: UInt64 = .random(in: .min ... .max),
        priceBook: PriceBook = PriceBook(), load: DeploymentLoad = DeploymentLoad()
    ) {
        self.load = load
        self.priceBook = priceBook
        self.strategy = strategy
        self.random = SharedRandom(seed: seed)
        self.deploymentSet = DeploymentSet(deployments)
        self.numRetries = numRetries
        self.cooldowns = cooldowns
        self.aliases = aliases
    }

    /// The group a requested name stands for: a group's own name, an alias of one, or the most
    /// specific wildcard group matching it (`openai/*` matches `openai/gpt-4o`).
    public func group(named name: String) -> String? {
        let snapshot = deploymentSet.snapshot
        if snapshot.groups[name] != nil { return name }
        if let target = aliases[name], snapshot.groups[target] != nil { return target }
        return snapshot.wildcards.first { Self.capture(name, in: $0) != nil }
    }

    /// Model group names: the config's in its order, then those only stored models serve.
    public var modelGroups: [String] { deploymentSet.snapshot.names }

    /// What `*` stands for when `name` matches `pattern`.
    static func capture(_ name: String, in pattern: String) -> String? {
        guard let star = pattern.firstIndex(of: "*") else { return nil }
        let prefix = pattern[..<star]
        let suffix = pattern[pattern.index(after: star)...]
        guard name.count > prefix.count + suffix.count, name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        return String(name.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// A group's deployments, in config order (none for an unknown group).
    public func deployments(of group: String) -> [Deployment] { groups[group] ?? [] }

    /// Every deployment, by model group, for health reporting.
    public var deployments: [Deployment] {
        let groups = self.groups
        return groups.keys.sorted().flatMap { groups[$0] ?? [] }
    }

    /// The deployments to try, first choice first, one entry per attempt allowed (`numRetries`
    /// retries, the router's own by default); nil for an unknown group. When every deployment
    /// of the group is cooling down the answer is a 429 saying when the first comes back.
    ///
    /// `tags` is nil unless tag filtering is on (`enable_tag_filtering`); then LiteLLM's rules
    /// apply (`tagged`).
    public func attempts(
        for modelGroup: String, now: Double, tags: [String]? = nil, matchAnyTag: Bool = true,
        requestedModel: String? = nil, numRetries: Int? = nil, operation: OpenAIRequest.Operation? = nil
    ) throws(GatewayError) -> [Deployment]? {
        // One snapshot for the whole decision: a model changed meanwhile applies to later requests.
        let served = deploymentSet.snapshot
        guard let group = served.groups[modelGroup], !group.isEmpty, let keys = served.keys[modelGroup] else {
            return nil
        }
        let numRetries = numRetries ?? self.numRetries
        let ids = keys.ids
        let cooling = cooldowns.cooling(ids, now: now)
        var eligible = Array(group.indices)
        if let tags {
            eligible = try Self.tagged(group.indices, keys: keys, tags: tags, matchAny: matchAnyTag, modelGroup: modelGroup)
        }
        // Only deployments that serve the endpoint: a 400 naming it when none does.
        if let operation {
            eligible = eligible.filter { group[$0].serves(operation) }
            guard !eligible.isEmpty else { throw .notServed(operation, model: requestedModel ?? modelGroup) }
        }
        let healthy = eligible.filter { !cooling[$0] }
        guard !healthy.isEmpty else {
            try Self.allCoolingDown(modelGroup, retryAfter: cooldowns.secondsUntilAvailable(ids, now: now))
        }
        let snapshot: RoutingStrategy.Snapshot
        switch strategy {
        case .leastBusy, .latencyBased, .usageBased: snapshot = load.snapshot(ids, now: now)
        case .simpleShuffle, .costBased: snapshot = RoutingStrategy.Snapshot()
        }
        // `order` levels, lowest first; deployments without one come last.
        var levels: [(order: Int, members: [Int])] = []
        for index in healthy {
            let order = keys.order[index]
            if let at = levels.firstIndex(where: { $0.order == order }) {
                levels[at].members.append(index)
            } else {
                levels.append((order, [index]))
            }
        }
        levels.sort { $0.order < $1.order }
        let order = random.use { random in
            levels.flatMap { strategy.rank($0.members, keys: keys, load: snapshot, needed: numRetries + 1, random: &random) }
        }
        var plan = (0...numRetries).map { group[order[$0 % order.count]] }
        if let requestedModel, let captured = Self.capture(requestedModel, in: modelGroup) {
            plan = plan.map { $0.config.model.contains("*") ? $0.specialised(to: captured, priceBook: priceBook) : $0 }
        }
        return try Self.priced(plan, model: requestedModel ?? modelGroup)
    }

    /// The plan without the deployments that must be priced and are not
    /// (`spanway_settings.require_price`); when none is left, a 400 naming `model`, before any
    /// upstream is called.
    static func priced(_ plan: [Deployment], model: String) throws(GatewayError) -> [Deployment] {
        let kept = plan.filter { !$0.config.requirePrice || $0.price != nil }
        guard kept.isEmpty, !plan.isEmpty else { return kept }
        throw .invalidRequest(
            "No price is known for the model '\(model)', and this gateway refuses requests it cannot price (spanway_settings.require_price).",
            param: "model", code: unpricedCode)
    }

    static let unpricedCode = "model_not_priced"

    /// LiteLLM's tag filtering: a tagged request goes to the deployments sharing one of its tags
    /// (all of them when `matchAny` is off), else to those tagged `default`, else it is refused
    /// with LiteLLM's words; an untagged one goes to the `default`-tagged deployments, else to all.
    static func tagged(
        _ all: Range<Int>, keys: RoutingStrategy.GroupKeys, tags: [String], matchAny: Bool = true, modelGroup: String
    ) throws(GatewayError) -> [Int] {
        let defaults = all.filter { keys.tags[$0].contains("default") }
        guard !tags.isEmpty else { return defaults.isEmpty ? Array(all) : defaults }
        let wanted = Set(tags)
        let matching = all.filter { matchAny ? !keys.tags[$0].isDisjoint(with: wanted) : wanted.isSubset(of: keys.tags[$0]) }
        if !matching.isEmpty { return matching }
        guard !defaults.isEmpty else {
            // Python's list syntax, as LiteLLM prints the tags.
            let list = "[" + tags.map { "'\($0)'" }.joined(separator: ", ") + "]"
            throw .invalidRequest(
                "Not allowed to access model due to tags configuration. Passed model=\(modelGroup) and tags=\(list)",
                param: "tags", code: "no_deployment_for_tags")
        }
        return defaults
    }

    static func allCoolingDown(_ group: String, retryAfter seconds: Double) throws(GatewayError) -> Never {
        // Clamped: `Int(Double)` traps on the huge values a bad `cooldown_time` would give.
        let wait = OutsideNumber.int(seconds, clampedTo: 1...86_400) ?? 1
        // LiteLLM's wording, which clients and alert rules already match on.
        throw GatewayError(
            .noHealthyDeployment,
            "No deployments available for selected model, Try again in \(wait) seconds. All deployments for selected "
                + "model are in cooldown. Passed model=\(group).",
            headers: ["retry-after": String(wait)])
    }
}
