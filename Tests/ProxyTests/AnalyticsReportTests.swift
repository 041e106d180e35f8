import Foundation
import Store
import Telemetry
import Testing

@testable import Proxy

/// The analytics request's words and the report's views (JSON, CSV, table, HTML), from results
/// built here, so each view is checked against figures the test chose.
@Suite struct AnalyticsReportTests {
    /// 2025-11-30T12:00:00Z.
    static let now = 1_764_504_000.0

    @Test func windowsAreParsedFromDurationsDatesAndTimes() throws {
        let nowMillis = Int64(Self.now * 1000)
        let plain = try AnalyticsRequest.parse(since: nil, until: nil, window: nil, groupBy: nil, compare: false, now: Self.now)
        #expect(plain.query == AnalyticsQuery(since: nowMillis - 86_400_000, until: nowMillis, groupBy: []))
        let window = try AnalyticsRequest.parse(
            since: nil, until: nil, window: "2h", groupBy: "provider, model_group,provider", compare: true, now: Self.now)
        #expect(
            window.query == AnalyticsQuery(since: nowMillis - 7_200_000, until: nowMillis, groupBy: [.provider, .modelGroup]))
        #expect(window.compare)
        // A date as `until` includes its whole day; a duration `since` counts back from `until`.
        let days = try AnalyticsRequest.parse(
            since: "7d", until: "2025-11-29", window: nil, groupBy: "day", compare: false, now: Self.now)
        #expect(days.query.until == 1_764_460_800_000 && days.query.since == 1_764_460_800_000 - 7 * 86_400_000)
        let exact = try AnalyticsRequest.parse(
            since: "2025-11-30T10:00:00Z", until: "2025-11-30T11:30:00Z", window: nil, groupBy: nil, compare: false,
            now: Self.now)
        #expect(exact.query.since == 1_764_496_800_000 && exact.query.until == 1_764_502_200_000)
    }

    @Test func badWordsAreRefusedNamingTheParameter() {
        func param(_ since: String?, _ until: String?, _ window: String?, _ groupBy: String?) -> String? {
            do {
                _ = try AnalyticsRequest.parse(
                    since: since, until: until, window: window, groupBy: groupBy, compare: false, now: Self.now)
                return nil
            } catch {
                return error.param
            }
        }
        #expect(param(nil, nil, "soon", nil) == "window")
        #expect(param("1h", nil, "1h", nil) == "window")
        #expect(param("yesterday", nil, nil, nil) == "since")
        #expect(param(nil, nil, nil, "provider,colour") == "group_by")
        #expect(param("2025-11-30T11:00:00Z", "2025-11-30T10:00:00Z", nil, nil) == "since")
        #expect(param(nil, "later", nil, nil) == "until")
    }

    static let query = AnalyticsQuery(since: 1_764_496_800_000, until: 1_764_500_400_000, groupBy: [.provider, .team])

    static let report: AnalyticsReport = {
        let openai = AnalyticsGroup(
            keys: ["openai", "t1"], requests: 4, errors: 1, errorsByKind: ["timeout": 1], fallbacks: 1, latencyP50Ms: 250,
            latencyP95Ms: 1200, latencyP99Ms: 1900, timeToFirstTokenP50Ms: 80, timeToFirstTokenP95Ms: 95, overheadP50Ms: 1.5,
            inputTokens: 400, outputTokens: 100, spend: 0.5, outputTokensPerSecond: 42.5)
        let odd = AnalyticsGroup(keys: ["=HYPERLINK(\"x\")", "<b>team</b>"], requests: 1, inputTokens: 0, outputTokens: 0)
        let total = AnalyticsGroup(
            keys: [], requests: 5, errors: 1, errorsByKind: ["timeout": 1], fallbacks: 1, latencyP50Ms: 240,
            latencyP95Ms: 1100, latencyP99Ms: 1880, inputTokens: 400, outputTokens: 100, spend: 0.5)
        var earlier = query
        earlier.since -= 3_600_000
        earlier.until -= 3_600_000
        let before = AnalyticsGroup(keys: ["openai", "t1"], requests: 2, latencyP95Ms: 1000, spend: 0.25)
        return AnalyticsReport(
            current: AnalyticsResult(query: query, groups: [openai, odd], total: total),
            previous: AnalyticsResult(
                query: earlier, groups: [before], total: AnalyticsGroup(keys: [], requests: 2, latencyP95Ms: 1000, spend: 0.25)))
    }()

    @Test func jsonCarriesEveryFigureAndThePreviousWindowBesideEachGroup() throws {
        let json = Self.report.json()
        #expect(json["window"]?["since"] == "2025-11-30T10:00:00Z" && json["window"]?["until"] == "2025-11-30T11:00:00Z")
        #expect(json["group_by"] == .array(["provider", "team"]))
        #expect(json["percentile_method"]?.stringValue?.contains("(n − 1)·p") == true)
        let groups = try #require(json["groups"]?.arrayValue)
        let openai = groups[0]
        #expect(openai["keys"] == .object(["provider": "openai", "team": "t1"]))
        #expect(openai["requests"]?.intValue == 4 && openai["errors"]?.intValue == 1 && openai["error_rate"]?.doubleValue == 0.25)
        #expect(openai["errors_by_kind"] == .object(["timeout": .int(1)]) && openai["fallbacks"]?.intValue == 1)
        #expect(openai["latency_ms"]?["p50"]?.doubleValue == 250 && openai["latency_ms"]?["p99"]?.doubleValue == 1900)
        #expect(openai["time_to_first_token_ms"]?["p95"]?.doubleValue == 95 && openai["overhead_ms"]?["p50"]?.doubleValue == 1.5)
        #expect(openai["spend"]?.doubleValue == 0.5 && openai["cost_per_million_tokens"]?.doubleValue == 1000)
        #expect(openai["output_tokens_per_second"]?.doubleValue == 42.5)
        #expect(openai["previous"]?["requests"]?.intValue == 2 && openai["previous"]?["latency_ms"]?["p95"]?.doubleValue == 1000)
        // A group the previous window did not have, and figures nothing measured, are null.
        #expect(groups[1]["previous"] == .null && groups[1]["latency_ms"]?["p50"] == .null)
        #expect(groups[1]["cost_per_million_tokens"] == .null && groups[1]["output_tokens_per_second"] == .null)
        #expect(json["total"]?["requests"]?.intValue == 5 && json["total"]?["previous"]?["requests"]?.intValue == 2)
        #expect(json["previous"]?["window"]?["since"] == "2025-11-30T09:00:00Z")
        // The text parses back as the same JSON.
        #expect(try JSONParser.parse(json.encoded()) == json)
        #expect(AnalyticsReport(current: Self.report.current).json()["previous"] == nil)
    }

    @Test func csvHasOneRowPerGroupAndWindowGuardedAgainstFormulas() {
        let lines = Self.report.csv().components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 1 + 3 + 2)  // header; two groups and a total; one group and a total
        #expect(lines[0].hasPrefix("window,since,until,provider,team,requests,errors,error_rate,errors_by_kind,fallbacks,"))
        #expect(
            lines[1]
                == "current,2025-11-30T10:00:00Z,2025-11-30T11:00:00Z,openai,t1,4,1,0.25,timeout=1,1,250,1200,1900,80,95,1.5,"
                + "400,100,0.5,1000,42.5")
        #expect(
            lines[2].hasPrefix(#"current,2025-11-30T10:00:00Z,2025-11-30T11:00:00Z,"'=HYPERLINK(""x"")",<b>team</b>,1,0,0,,0,,"#))
        #expect(lines[3].hasPrefix("current,2025-11-30T10:00:00Z,2025-11-30T11:00:00Z,total,,5,"))
        #expect(lines[4].hasPrefix("previous,2025-11-30T09:00:00Z,2025-11-30T10:00:00Z,openai,t1,2,"))
    }

    @Test func tableShowsEveryGroupTheTotalAndTheChangeWhenComparing() {
        let text = Self.report.table(width: 400)
        #expect(text.contains("Window 2025-11-30T10:00:00Z – 2025-11-30T11:00:00Z (compared with 2025-11-30T09:00:00Z"))
        let lines = text.split(separator: "\n").map(String.init)
        let header = lines.first { $0.hasPrefix("provider") }
        #expect(header?.contains("Δ req") == true && header?.contains("Δ p95") == true && header?.contains("Δ cost") == true)
        let openai = lines.first { $0.hasPrefix("openai") } ?? ""
        // 4 requests vs 2 (+100%), 25% errors vs 0 (+25.0pp), p95 1.20s vs 1.00s (+20%), $0.50 vs $0.25 (+100%).
        for part in ["+100%", "25.0%", "+25.0pp", "250ms", "1.20s", "+20%", "1.90s", "80ms", "$0.50", "$1000.00", "42.5"] {
            #expect(openai.contains(part), "\(part) in \(openai)")
        }
        let odd = lines.first { $0.hasPrefix("=HYPERLINK") } ?? ""
        #expect(odd.contains("new") && odd.contains("--"))
        #expect(lines.contains { $0.hasPrefix("total") })
        #expect(text.contains("Errors by kind: timeout 1"))
        let plain = AnalyticsReport(current: Self.report.current).table(width: 400)
        #expect(!plain.contains("Δ") && !plain.contains("compared with"))
    }

    @Test func htmlIsSelfContainedEscapedAndHasARowPerGroup() {
        let html = Self.report.html()
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("Content-Security-Policy"))
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"))
        #expect(html.components(separatedBy: "<tr data-group=").count - 1 == 2)
        #expect(html.contains("&lt;b&gt;team&lt;/b&gt;") && !html.contains("<b>team</b>"))
        #expect(html.contains("<svg") && html.contains("id=\"latency-chart\"") && html.contains("id=\"cost-chart\""))
        #expect(html.contains("data-error-kind=\"timeout\""))
        #expect(html.contains("previous window"))
    }
}
