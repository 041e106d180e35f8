import HTTPTypes
import Store
import Telemetry

/// `GET /spanway/analytics`: the analytics report over HTTP, master key only. Query parameters
/// `since`, `until`, `window` (`24h`), `group_by` (a comma list), `compare` (`true`) and `format`
/// (`json`, the default; `csv`, `html`, `table`).
public struct AnalyticsEndpoint: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    let clock: any GatewayClock

    public enum Format: String, Sendable, CaseIterable {
        case json, csv, html, table

        var contentType: String {
            switch self {
            case .json: "application/json"
            case .csv: "text/csv; charset=utf-8"
            case .html: "text/html; charset=utf-8"
            case .table: "text/plain; charset=utf-8"
            }
        }
    }

    init(reports: SpendReports, clock: any GatewayClock) {
        self.store = reports.store
        self.authenticator = reports.authenticator
        self.clock = clock
    }

    public func report(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        do {
            _ = try await authenticator.authenticateAdmin(headers)
            let query = AdminInput.query(uri)
            try AdminInput.onlyKnown(
                query.keys, ["since", "until", "window", "group_by", "compare", "format"], what: "query parameter")
            let format = try Self.format(query["format"])
            let request = try AnalyticsRequest.parse(
                since: query["since"], until: query["until"], window: query["window"], groupBy: query["group_by"],
                compare: try Self.flag(query["compare"], "compare"), now: clock.nowSeconds())
            let report = try await AdminInput.store { try await AnalyticsReport.run(request, store: store) }
            let body: [UInt8] =
                switch format {
                case .json: report.json().encoded()
                case .csv: Array(report.csv().utf8)
                case .html: Array(report.html().utf8)
                case .table: Array(report.table(width: 200).utf8)
                }
            return GatewayReply(status: 200, headers: [("content-type", format.contentType)], body: .bytes(body))
        } catch {
            return GatewayReply(error)
        }
    }

    static func format(_ text: String?) throws(GatewayError) -> Format {
        guard let text else { return .json }
        guard let format = Format(rawValue: text) else {
            let names = Format.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidRequest("'format' must be one of \(names).", param: "format")
        }
        return format
    }

    static func flag(_ text: String?, _ name: String) throws(GatewayError) -> Bool {
        switch text {
        case nil, "false", "0": return false
        case "", "true", "1": return true
        default: throw .invalidRequest("'\(name)' must be true or false.", param: name)
        }
    }
}
