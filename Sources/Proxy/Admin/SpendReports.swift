import Foundation
import HTTPTypes
import Store
import Telemetry

/// `GET /spend/logs` and `GET /global/spend/report`: the ledger, filtered and grouped. Master key only.
public struct SpendReports: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator

    public func logs(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let query = AdminInput.query(uri)
            try AdminInput.onlyKnown(
                query.keys, ["api_key", "team_id", "user_id", "model", "start_date", "end_date", "page", "page_size"],
                what: "query parameter")
            let page = try AdminInput.positive(query["page"], "page", default: 1)
            let size = try AdminInput.positive(query["page_size"], "page_size", default: 100)
            guard size <= 1000 else { throw .invalidRequest("'page_size' must be at most 1000.", param: "page_size") }
            let (since, until) = try Self.range(query)
            let rows = try await AdminInput.store {
                try await store.spendLogs(
                    SpendQuery(
                        keyHash: query["api_key"].map(KeyManagement.token(of:)), teamID: query["team_id"],
                        userID: query["user_id"], modelGroup: query["model"], since: since, until: until, limit: size,
                        offset: (page - 1) * size))
            }
            return .array(rows.map(Self.json))
        }
    }

    public func report(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let query = AdminInput.query(uri)
            try AdminInput.onlyKnown(query.keys, ["group_by", "start_date", "end_date"], what: "query parameter")
            let name = query["group_by"] ?? "team"
            guard let grouping = SpendGrouping(rawValue: name) else {
                let names = SpendGrouping.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidRequest("'group_by' must be one of \(names).", param: "group_by")
            }
            let (since, until) = try Self.range(query)
            let totals = try await AdminInput.store { try await store.spendReport(by: grouping, since: since, until: until) }
            return .array(
                totals.map { total in
                    .object([
                        "group_by": .string(grouping.rawValue), "group": .string(total.group), "spend": .double(total.spend),
                        "requests": .int(total.requests), "prompt_tokens": .int(total.inputTokens),
                        "completion_tokens": .int(total.outputTokens),
                    ])
                })
        }
    }

    private func answer(_ headers: HTTPFields, _ work: () async throws(GatewayError) -> JSONValue) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers, work)
    }

    /// `start_date` and `end_date` in milliseconds; a bare date covers its whole UTC day.
    static func range(_ query: [String: String]) throws(GatewayError) -> (Int64?, Int64?) {
        let since = try query["start_date"].map { text throws(GatewayError) in try millis(text, "start_date", endOfDay: false) }
        let until = try query["end_date"].map { text throws(GatewayError) in try millis(text, "end_date", endOfDay: true) }
        if let since, let until, since >= until {
            throw .invalidRequest("'start_date' must be before 'end_date'.", param: "start_date")
        }
        return (since, until)
    }

    static func millis(_ text: String, _ name: String, endOfDay: Bool) throws(GatewayError) -> Int64 {
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if text.count == 10, let date = day.date(from: text) {
            return Int64(date.timeIntervalSince1970 * 1000) + (endOfDay ? 86_400_000 : 0)
        }
        if let date = ISO8601DateFormatter().date(from: text) {
            return Int64(date.timeIntervalSince1970 * 1000)
        }
        throw .invalidRequest("'\(name)' must be a date (YYYY-MM-DD) or an ISO 8601 time.", param: name)
    }

    static func json(_ row: SpendRow) -> JSONValue {
        func time(_ millis: Int64) -> JSONValue {
            .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(millis) / 1000)))
        }
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func number(_ value: Double?) -> JSONValue { value.flatMap { $0.isFinite ? JSONValue.double($0) : nil } ?? .null }
        return .object([
            "request_id": .string(row.requestID), "trace_id": .string(row.traceID), "call_type": .string(row.operation),
            "api_key": text(row.keyHash), "key_alias": text(row.keyAlias), "team_id": text(row.teamID),
            "user": text(row.userID), "org_id": text(row.orgID), "model": text(row.model),
            "model_group": text(row.modelGroup), "deployment_id": text(row.deploymentID), "provider": text(row.provider),
            "spend": .double(row.spend), "prompt_tokens": .int(row.inputTokens), "completion_tokens": .int(row.outputTokens),
            "total_tokens": .int(row.inputTokens + row.outputTokens), "cache_read_tokens": .int(row.cacheReadTokens),
            "cache_creation_tokens": .int(row.cacheCreationTokens), "reasoning_tokens": .int(row.reasoningTokens),
            "startTime": time(row.startTime), "endTime": time(row.endTime), "status_code": .int(row.statusCode),
            "error_type": text(row.errorType), "eval_run_id": text(row.evalRunID), "eval_item_id": text(row.evalItemID),
            "attempts": row.attempts.map(JSONValue.int) ?? .null,
            "fallback_depth": row.fallbackDepth.map(JSONValue.int) ?? .null, "latency_ms": number(row.latencyMs),
            "upstream_latency_ms": number(row.upstreamLatencyMs), "overhead_ms": number(row.overheadMs),
            "time_to_first_token_ms": number(row.timeToFirstTokenMs),
            "tags": row.tags.map { .array($0.map(JSONValue.string)) } ?? .null, "end_user": text(row.endUser),
        ])
    }
}
