import Store
import Synchronization

/// Stage 2 (rates): per-key requests and tokens per minute, and requests in parallel. Counters
/// are in memory, in fixed one-minute windows (the scale-out issue moves them to Redis).
/// Tokens are counted when a request settles, so tpm admits on what has been used so far.
public final class RateLimiter: Sendable {
    public struct Ticket: Sendable {
        let token: String
        /// `x-ratelimit-*` headers for the answer.
        let headers: [(String, String)]
    }

    private struct Window {
        var minute: Int64
        var requests = 0
        var tokens = 0
        var inFlight = 0
    }

    private let windows = Mutex<[String: Window]>([:])

    public init() {}

    /// Admits a request for `key`, or refuses with 429 and the seconds until the window resets.
    func acquire(_ key: VirtualKey, now: Double) throws(GatewayError) -> Ticket? {
        guard key.rpmLimit != nil || key.tpmLimit != nil || key.maxParallelRequests != nil else { return nil }
        let minute = Int64(now / 60)
        let retryAfter = String(max(1, Int((Double(minute + 1) * 60 - now).rounded(.up))))
        let outcome = windows.withLock { windows -> Result<Ticket, GatewayError> in
            var window = windows[key.token] ?? Window(minute: minute)
            if window.minute != minute {
                window = Window(minute: minute, inFlight: window.inFlight)
            }
            var headers: [(String, String)] = []
            if let limit = key.maxParallelRequests, window.inFlight >= limit {
                return .failure(Self.refusal("\(limit) requests in parallel", retryAfter: "1", headers: headers))
            }
            if let limit = key.rpmLimit {
                guard window.requests < limit else {
                    headers += [("x-ratelimit-limit-requests", String(limit)), ("x-ratelimit-remaining-requests", "0")]
                    return .failure(Self.refusal("\(limit) requests per minute", retryAfter: retryAfter, headers: headers))
                }
                headers += [
                    ("x-ratelimit-limit-requests", String(limit)),
                    ("x-ratelimit-remaining-requests", String(limit - window.requests - 1)),
                ]
            }
            if let limit = key.tpmLimit {
                guard window.tokens < limit else {
                    headers += [("x-ratelimit-limit-tokens", String(limit)), ("x-ratelimit-remaining-tokens", "0")]
                    return .failure(Self.refusal("\(limit) tokens per minute", retryAfter: retryAfter, headers: headers))
                }
                headers += [
                    ("x-ratelimit-limit-tokens", String(limit)),
                    ("x-ratelimit-remaining-tokens", String(limit - window.tokens)),
                ]
            }
            window.requests += 1
            window.inFlight += 1
            windows[key.token] = window
            return .success(Ticket(token: key.token, headers: headers))
        }
        switch outcome {
        case .success(let ticket): return ticket
        case .failure(let error): throw error
        }
    }

    /// Frees the parallel slot and counts the tokens the request used.
    func release(_ ticket: Ticket, tokens: Int, now: Double) {
        let minute = Int64(now / 60)
        windows.withLock { windows in
            guard var window = windows[ticket.token] else { return }
            window.inFlight = max(0, window.inFlight - 1)
            if window.minute == minute { window.tokens += tokens }
            windows[ticket.token] = window
        }
    }

    static func refusal(_ limit: String, retryAfter: String, headers: [(String, String)]) -> GatewayError {
        var error = GatewayError(
            status: 429, type: "rate_limit_exceeded", message: "This key is limited to \(limit).",
            code: "rate_limit_exceeded", errorType: "rate_limited")
        error.headers["retry-after"] = retryAfter
        for (name, value) in headers { error.headers[name] = value }
        return error
    }
}
