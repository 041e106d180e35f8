import Foundation
import Store
import Telemetry
import Testing

@testable import Proxy

@Suite(.serialized, .timeLimit(.minutes(3))) struct SpendReportTests {
    @Test func logsAndReportsFilterGroupAndRefuseBadInput() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"research"}"#).status == 200)
            let key = try await h.newKey(#"{"team_id":"research","key_alias":"nb"}"#)
            let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#
            for _ in 0..<2 { #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 200) }
            #expect(try await h.chat("local").status == 200)

            let mine = try await h.send("/spend/logs?api_key=\(key)").json?.arrayValue
            #expect(mine?.count == 2 && mine?.allSatisfy { $0["team_id"] == "research" && $0["key_alias"] == "nb" } == true)
            #expect(mine?.first?["api_key"]?.stringValue == KeyDigest(key: key).hex)
            #expect(try await h.send("/spend/logs?team_id=research&page_size=1&page=2").json?.arrayValue?.count == 1)
            #expect(try await h.send("/spend/logs?model=local").json?.arrayValue?.count == 3)
            #expect(try await h.send("/spend/logs?end_date=2000-01-01").json?.arrayValue?.isEmpty == true)

            let byTeam = try #require(try await h.send("/global/spend/report?group_by=team").json?.arrayValue)
            let research = try #require(byTeam.first { $0["group"] == "research" })
            #expect(research["requests"]?.intValue == 2 && research["spend"]?.doubleValue ?? 0 > 0)
            // The UTC days the three rows were written on (two when the test ran across midnight):
            // read from the rows, not from the test's own clock.
            let rows = try await h.store.spendLogs(SpendQuery(limit: 100))
            #expect(rows.count == 3)
            let days = rows.map {
                ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double($0.startTime) / 1000)).prefix(10)
            }
            let first = try #require(days.min()), last = try #require(days.max())
            let byDay = try #require(
                try await h.send("/global/spend/report?group_by=day&start_date=\(first)&end_date=\(last)").json?.arrayValue)
            #expect(byDay.count == Set(days).count)
            #expect(byDay.reduce(0) { $0 + ($1["requests"]?.intValue ?? 0) } == 3)

            #expect(try await h.send("/global/spend/report?group_by=colour").json?["error"]?["param"] == "group_by")
            #expect(try await h.send("/spend/logs?start_date=yesterday").json?["error"]?["param"] == "start_date")
            #expect(try await h.send("/spend/logs?start_date=2026-02-02&end_date=2026-01-01").status == 400)
            #expect(try await h.send("/spend/logs?who=me").json?["error"]?["message"] == "Unknown query parameter 'who'.")
            #expect(try await h.send("/spend/logs", key: key).status == 403)
        }
    }
}
