import Synchronization
import Telemetry

/// Stage 2 (rates): requests and tokens per minute, and requests in parallel, per key, team, user
/// and organisation, in fixed one-minute windows. With Redis configured the windows and slots are
/// shared by every replica (`SharedLimits`); without it, or while Redis is unreachable in
/// fail-open mode, they are kept in this process.
/// Tokens are counted when a request settles, so tpm admits on what has been used so far.
public final class RateLimiter: Sendable {
    public struct Ticket: Sendable {
        let subjects: [String]
        /// `x-ratelimit-*` headers for the answer (the tightest subject's figures).
        let headers: [(String, String)]
        /// The lease the request holds in the shared state; nil when it was admitted in this process.
        var lease: String?
    }

    private struct Window {
        var minute: Int64
        var requests = 0
        var tokens = 0
        var inFlight = 0
    }

    private let windows = Mutex<[String: Window]>([:])
    /// The minute whose start last swept out finished windows: memory stays bounded by the
    /// subjects of the current minute and the requests in flight (per-model subjects multiply them).
    private let sweptMinute = Atomic<Int64>(0)
    let shared: SharedLimits?

    init(shared: SharedLimits? = nil) {
        self.shared = shared
    }

    /// Admits a request against every subject, or none, in the shared state when there is one.
    /// Redis unreachable: this process's windows (fail-open) or 503 (fail-closed).
    func acquire(_ subjects: [LimitSubject], now: Double, lease: String) async throws(GatewayError) -> Ticket? {
        let limited = subjects.filter(\.hasRateLimits)
        guard !limited.isEmpty else { return nil }
        if let shared {
            switch await shared.acquire(limited, lease: lease) {
            case .admitted(let headers): return Ticket(subjects: limited.map(\.id), headers: headers, lease: lease)
            case .refused(let error): throw error
            case .unavailable where shared.health.failureMode == .failClosed:
                throw SharedStateHealth.unavailable("Rate limits")
            case .unavailable: break
            }
        }
        return try acquire(limited, now: now)
    }

    /// Admits a request against every subject, or none: refuses with 429 and the seconds until
    /// the window resets when any subject is at its limit.
    func acquire(_ subjects: [LimitSubject], now: Double) throws(GatewayError) -> Ticket? {
        let limited = subjects.filter(\.hasRateLimits)
        guard !limited.isEmpty else { return nil }
        let minute = Int64(now / 60)
        let retryAfter = String(max(1, Int((Double(minute + 1) * 60 - now).rounded(.up))))
        let outcome = windows.withLock { windows -> Result<Ticket, GatewayError> in
            if sweptMinute.load(ordering: .relaxed) < minute {
                sweptMinute.store(minute, ordering: .relaxed)
                windows = windows.filter { $0.value.minute >= minute || $0.value.inFlight > 0 }
            }
            var current: [String: Window] = [:]
            var remainingRequests: (limit: Int, left: Int)?
            var remainingTokens: (limit: Int, left: Int)?
            for subject in limited {
                var window = windows[subject.id] ?? Window(minute: minute)
                if window.minute != minute { window = Window(minute: minute, inFlight: window.inFlight) }
                if let limit = subject.parallel, window.inFlight >= limit {
                    return .failure(Self.refusal(subject, "parallel", retryAfter: "1"))
                }
                if let limit = subject.rpm {
                    guard window.requests < limit else { return .failure(Self.refusal(subject, "rpm", retryAfter: retryAfter)) }
                    let left = limit - window.requests - 1
                    if left < remainingRequests?.left ?? .max { remainingRequests = (limit, left) }
                }
                if let limit = subject.tpm {
                    guard window.tokens < limit else { return .failure(Self.refusal(subject, "tpm", retryAfter: retryAfter)) }
                    let left = limit - window.tokens
                    if left < remainingTokens?.left ?? .max { remainingTokens = (limit, left) }
                }
                current[subject.id] = window
            }
            for (id, var window) in current {
                window.requests += 1
                window.inFlight += 1
                windows[id] = window
            }
            var headers: [(String, String)] = []
            if let r = remainingRequests {
                headers += [("x-ratelimit-limit-requests", String(r.limit)), ("x-ratelimit-remaining-requests", String(r.left))]
            }
            if let t = remainingTokens {
                headers += [("x-ratelimit-limit-tokens", String(t.limit)), ("x-ratelimit-remaining-tokens", String(t.left))]
            }
            return .success(Ticket(subjects: Array(current.keys), headers: headers))
        }
        switch outcome {
        case .success(let ticket): return ticket
        case .failure(let error): throw error
        }
    }

    /// Frees the parallel slots and counts the tokens the request used. A shared release waits
    /// at most Redis's command deadline; one that fails is healed by its lease running out.
    func release(_ ticket: Ticket, tokens: Int, now: Double) async {
        if let lease = ticket.lease, let shared {
            await shared.release(ticket.subjects, lease: lease, tokens: tokens)
            return
        }
        let minute = Int64(now / 60)
        windows.withLock { windows in
            for id in ticket.subjects {
                guard var window = windows[id] else { continue }
                window.inFlight = max(0, window.inFlight - 1)
                // Saturating: the count is the upstream's, and huge counts must not trap.
                if window.minute == minute { window.tokens = OutsideNumber.saturatingSum(window.tokens, max(0, tokens)) }
                windows[id] = window
            }
        }
    }

    /// The 429 for a subject at its limit (`which`: "parallel", "rpm" or "tpm"), with its
    /// `x-ratelimit-*` figures. A per-model or team-member subject is named as LiteLLM's limiter
    /// names it (`Rate limit exceeded for model_per_key: <group>`, `… for team_member:
    /// <team>:<user>`), never by its key.
    static func refusal(_ subject: LimitSubject, _ which: String, retryAfter: String) -> GatewayError {
        if which == "parallel" {
            return refusal("This \(subject.kind) is limited to \(subject.parallel ?? 0) requests in parallel.", retryAfter: "1")
        }
        let (limit, unit) = which == "tpm" ? (subject.tpm ?? 0, "tokens") : (subject.rpm ?? 0, "requests")
        let message =
            subject.descriptor.map { descriptor in
                "Rate limit exceeded for \(descriptor.key): \(descriptor.value). Limit type: \(unit). Current limit: \(limit), Remaining: 0."
            } ?? "This \(subject.kind) is limited to \(limit) \(unit) per minute."
        return refusal(
            message, retryAfter: retryAfter,
            headers: [("x-ratelimit-limit-\(unit)", String(limit)), ("x-ratelimit-remaining-\(unit)", "0")])
    }

    private static func refusal(_ message: String, retryAfter: String, headers: [(String, String)] = []) -> GatewayError {
        var error = GatewayError(.rateLimited, message)
        error.headers["retry-after"] = retryAfter
        for (name, value) in headers { error.headers[name] = value }
        return error
    }
}
