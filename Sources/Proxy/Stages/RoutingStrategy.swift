import Synchronization
import Telemetry

/// `router_settings.routing_strategy`: how the deployments of one `order` level are ranked for a
/// request. The first ranked is tried first; retries move down the ranking.
public enum RoutingStrategy: String, Sendable, CaseIterable {
    /// Random, weighted by `weight`, else `rpm`, else `tpm`, else evenly.
    case simpleShuffle = "simple-shuffle"
    /// Fewest requests in flight first.
    case leastBusy = "least-busy"
    /// Lowest moving average of latency first (time to first chunk for streams), except for a
    /// small share of requests that explore in random order so that slow deployments can recover.
    case latencyBased = "latency-based-routing"
    /// Cheapest per the price table first (input plus output price per token).
    case costBased = "cost-based-routing"
    /// Fewest tokens used this minute first; deployments already at their `rpm` or `tpm` this
    /// minute go last.
    case usageBased = "usage-based-routing"

    /// A strategy by any name LiteLLM accepts: `usage-based-routing-v2`, the one LiteLLM's docs
    /// recommend, is its usage-based routing with Redis-backed counts, here the same ranking.
    public init?(configName: String) {
        self.init(rawValue: configName == "usage-based-routing-v2" ? "usage-based-routing" : configName)
    }
}

/// What the router learns from traffic: requests in flight and latency per deployment, and the
/// requests and tokens of this minute, this replica's or (with `SharedUsage`) every replica's.
public final class DeploymentLoad: Sendable {
    /// Requests and tokens of one minute.
    struct Usage: Sendable, Equatable {
        var requests = 0
        var tokens = 0
    }

    private struct Entry {
        var inFlight = 0
        var latency: Double?
        /// The minute (since the clock's origin) the counts below belong to.
        var minute = 0
        var requests = 0
        var tokens = 0
        /// Counted here since the last exchange with the other replicas.
        var unshared = Usage()
        /// Taken for the exchange under way, not yet in the adopted `shared` figure: still counted,
        /// so a request routed while the exchange waits on Redis does not see them vanish.
        var sending = Usage()
        /// Every replica's usage this minute, as of `sharedAt`.
        var shared: Usage?
        var sharedAt = 0.0

        mutating func roll(to now: Double) {
            let current = Int(now / 60)
            if current != minute {
                minute = current
                requests = 0
                tokens = 0
            }
        }
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Weight of the newest sample in the latency average.
    static let smoothing = 0.2

    /// Whether `SharedUsage` exchanges this load's counts with other replicas.
    let sharing: Bool

    public init(sharing: Bool = false) {
        self.sharing = sharing
    }

    func started(_ id: String, now: Double = 0) {
        entries.withLock { all in
            var entry = all[id] ?? Entry()
            entry.roll(to: now)
            entry.inFlight += 1
            entry.requests += 1
            if sharing { entry.unshared.requests += 1 }
            all[id] = entry
        }
    }

    /// Tokens a finished request used, for this minute's usage.
    func used(_ id: String, tokens: Int, now: Double) {
        entries.withLock { all in
            var entry = all[id] ?? Entry()
            entry.roll(to: now)
            // Saturating: the count is the upstream's, and huge counts must not trap.
            entry.tokens = OutsideNumber.saturatingSum(entry.tokens, max(0, tokens))
            if sharing { entry.unshared.tokens = OutsideNumber.saturatingSum(entry.unshared.tokens, max(0, tokens)) }
            all[id] = entry
        }
    }

    /// What was counted here since the last call, per id, to be added to the shared counts. It
    /// stays counted as `sending` until the exchange adopts the totals or fails (an exchange that
    /// failed may or may not have added it: it is dropped, so it is missed rather than counted twice).
    func takeUnshared(_ ids: [String]) -> [Usage] {
        entries.withLock { all in
            ids.map { id in
                guard var entry = all[id] else { return Usage() }
                entry.sending = entry.unshared
                entry.unshared = Usage()
                all[id] = entry
                return entry.sending
            }
        }
    }

    /// The exchange under way ended without totals to adopt.
    func dropSending(_ ids: [String]) {
        entries.withLock { all in
            for id in ids { all[id]?.sending = Usage() }
        }
    }

    /// Every replica's usage this minute, as Redis counted it at `now`.
    func adoptShared(_ ids: [String], _ usage: [Usage], now: Double) {
        entries.withLock { all in
            for (id, usage) in zip(ids, usage) {
                all[id, default: Entry()].shared = usage
                all[id, default: Entry()].sharedAt = now
                all[id, default: Entry()].sending = Usage()
            }
        }
    }

    func finished(_ id: String, latency: Double?) {
        entries.withLock { all in
            var entry = all[id, default: Entry()]
            entry.inFlight = max(0, entry.inFlight - 1)
            if let latency {
                entry.latency = entry.latency.map { $0 + Self.smoothing * (latency - $0) } ?? latency
            }
            all[id] = entry
        }
    }

    /// Shared counts older than this are not trusted (Redis is unreachable): this replica's own are used.
    static let sharedLifetime = 5.0

    /// What the strategies read of `ids`, under one lock.
    func snapshot(_ ids: [String], now: Double) -> RoutingStrategy.Snapshot {
        entries.withLock { all in
            let minute = Int(now / 60)
            let usage = ids.map { id -> Usage in
                guard let entry = all[id] else { return Usage() }
                if let shared = entry.shared, now - entry.sharedAt < Self.sharedLifetime {
                    return Usage(
                        requests: shared.requests + entry.sending.requests + entry.unshared.requests,
                        tokens: OutsideNumber.saturatingSum(
                            OutsideNumber.saturatingSum(shared.tokens, entry.sending.tokens), entry.unshared.tokens))
                }
                return entry.minute == minute ? Usage(requests: entry.requests, tokens: entry.tokens) : Usage()
            }
            return RoutingStrategy.Snapshot(
                inFlight: ids.map { all[$0]?.inFlight ?? 0 }, latency: ids.map { all[$0]?.latency },
                requests: usage.map(\.requests), tokens: usage.map(\.tokens))
        }
    }
}

/// SplitMix64: a small seedable generator, so routing decisions can be replayed in tests.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One generator shared by every routing decision of a router.
final class SharedRandom: Sendable {
    private let state: Mutex<SeededRandom>

    init(seed: UInt64) {
        state = Mutex(SeededRandom(seed: seed))
    }

    func use<T>(_ body: (inout SeededRandom) -> T) -> T {
        state.withLock { body(&$0) }
    }
}

extension RoutingStrategy {
    /// Share of latency-based decisions made at random.
    static let exploration = 0.1

    /// Ranks `candidates` (indices into `group`); works on indices and precomputed keys so that a
    /// decision copies no deployment and takes each lock once.
    /// Only the first `needed` places matter (the attempts a request may make); the rest may stay unranked.
    func rank(_ candidates: [Int], keys: GroupKeys, load: Snapshot, needed: Int, random: inout SeededRandom) -> [Int] {
        if self == .simpleShuffle {
            return Self.weightedOrder(candidates, weights: candidates.map { keys.weight[$0] }, needed: needed, random: &random)
        }
        // Shuffled first, so ties are broken at random.
        let shuffled = candidates.shuffled(using: &random)
        switch self {
        case .leastBusy:
            return shuffled.sorted { load.inFlight[$0] < load.inFlight[$1] }
        case .latencyBased:
            if Double.random(in: 0..<1, using: &random) < Self.exploration { return shuffled }
            // Deployments with no measurement yet go first, to get one.
            return shuffled.sorted { (load.latency[$0] ?? -1) < (load.latency[$1] ?? -1) }
        case .simpleShuffle, .costBased:
            return shuffled.sorted { keys.price[$0] < keys.price[$1] }
        case .usageBased:
            func full(_ i: Int) -> Bool {
                keys.rpm[i].map { load.requests[i] >= $0 } == true || keys.tpm[i].map { load.tokens[i] >= $0 } == true
            }
            return shuffled.sorted { (full($0) ? 1 : 0, load.tokens[$0]) < (full($1) ? 1 : 0, load.tokens[$1]) }
        }
    }

    /// What the strategies read of a group's load, indexed like the group.
    struct Snapshot {
        var inFlight: [Int] = []
        var latency: [Double?] = []
        /// Requests and tokens this minute.
        var requests: [Int] = []
        var tokens: [Int] = []
    }

    /// What the strategies read of a group's configuration, computed once, indexed like the group.
    struct GroupKeys: Sendable {
        var ids: [String]
        var order: [Int]
        var weight: [Double]
        var price: [Double]
        var tags: [Set<String>]
        var rpm: [Int?]
        var tpm: [Int?]

        init(_ group: [Deployment]) {
            rpm = group.map(\.config.rpm)
            tpm = group.map(\.config.tpm)
            tags = group.map { Set($0.config.tags) }
            ids = group.map(\.config.id)
            order = group.map { $0.config.order ?? .max }
            weight = group.map(RoutingStrategy.weight)
            price = group.map(RoutingStrategy.price)
        }
    }

    /// A random order in which each candidate comes first with probability proportional to its
    /// weight; after `needed` places the rest follow as they were.
    static func weightedOrder(_ candidates: [Int], weights: [Double], needed: Int, random: inout SeededRandom) -> [Int] {
        var remaining = candidates
        var weights = weights
        var total = weights.reduce(0, +)
        var order: [Int] = []
        order.reserveCapacity(candidates.count)
        while !remaining.isEmpty && order.count < needed {
            var pick = Double.random(in: 0..<max(total, .leastNonzeroMagnitude), using: &random)
            var index = remaining.count - 1
            for (i, w) in weights.enumerated() {
                if pick < w {
                    index = i
                    break
                }
                pick -= w
            }
            order.append(remaining.remove(at: index))
            total -= weights.remove(at: index)
        }
        return order + remaining
    }

    static func weight(_ deployment: Deployment) -> Double {
        let config = deployment.config
        return config.weight ?? config.rpm.map(Double.init) ?? config.tpm.map(Double.init) ?? 1
    }

    /// Unknown prices sort last: the router cannot claim they are cheap.
    static func price(_ deployment: Deployment) -> Double {
        guard let price = deployment.price else { return .infinity }
        return price.inputCostPerToken + price.outputCostPerToken
    }
}
