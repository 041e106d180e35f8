import NIOHTTP1
import Telemetry

/// Sentry's rate limits as its SDKs read them: `X-Sentry-Rate-Limits` on any answer, else a 429's
/// `Retry-After`, else 60 seconds for a bare 429
/// (https://develop.sentry.dev/sdk/expected-features/rate-limiting/).
public enum SentryRateLimits {
    /// The data category of error events (item type `event`).
    public static let errorCategory = "error"
    /// What Sentry's SDKs assume when a 429 says nothing about how long to wait.
    public static let defaultWait: Duration = .seconds(60)

    /// How long error events must not be sent after this answer; nil when they may be.
    public static func errorWait(status: UInt, headers: HTTPHeaders) -> Duration? {
        if let header = headers.first(name: "x-sentry-rate-limits"), !header.isEmpty {
            // The detailed header wins, even on a 429: it may limit other categories only.
            return wait(header, category: errorCategory)
        }
        guard status == 429 else { return nil }
        return headers.first(name: "retry-after").flatMap { RetryAfter.parse($0) } ?? defaultWait
    }

    /// The longest wait in an `X-Sentry-Rate-Limits` value that applies to `category`.
    /// Entries are `retry_after:categories:scope[:reason_code[:namespaces]]`, comma-separated;
    /// categories are `;`-separated and an empty list means every category. Entries that do not
    /// parse are skipped, as the SDKs skip them.
    public static func wait(_ header: String, category: String) -> Duration? {
        var longest: Duration?
        for entry in header.split(separator: ",") {
            let fields = entry.trimmingSpaces.split(separator: ":", omittingEmptySubsequences: false)
            // NaN, infinities and negatives are skipped; a wait over a day is clamped to a day.
            guard fields.count >= 2, let wait = OutsideNumber.duration(secondsText: fields[0]) else { continue }
            let categories = fields[1].split(separator: ";").map { $0.trimmingSpaces }
            guard categories.isEmpty || categories.contains(category) else { continue }
            longest = max(longest ?? wait, wait)
        }
        return longest
    }
}
