import NIOHTTP1
import Telemetry

/// How an upstream's HTTP status and its wait hints reach the client, the same for every provider.
enum UpstreamStatus {
    /// Statuses are passed through where the client can act on them; anything odd becomes 502.
    static func clientStatus(forUpstream status: Int) -> Int {
        switch status {
        case 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504: status
        case 400..<500: 400
        default: 502
        }
    }

    /// `retry-after` (seconds or an HTTP-date), or OpenAI's `retry-after-ms`, as whole seconds
    /// rounded up. The upstream's headers are outside input: NaN, infinities, negatives and dates
    /// that do not parse are ignored, and waits over a day are clamped to a day, so what the
    /// cooldowns and the client see is always a small whole number.
    static func retryAfterSeconds(_ headers: HTTPHeaders) -> String? {
        if let value = headers.first(name: "retry-after"), let wait = RetryAfter.parse(value) {
            return String(OutsideNumber.wholeSeconds(wait))
        }
        if let ms = headers.first(name: "retry-after-ms"), let wait = OutsideNumber.duration(millisecondsText: ms) {
            return String(OutsideNumber.wholeSeconds(wait))
        }
        return nil
    }
}
