import Foundation
import Telemetry

/// One Grafana dashboard file of `dashboards/` (the classic JSON model), read for what a test
/// checks: its variables, its panels (rows' nested panels included) and their PromQL targets.
struct PrometheusDashboard: Sendable {
    struct Variable: Sendable {
        var name: String
        var type: String
        /// A `query` variable's query, e.g. `label_values(spanway_requests_total, team)`.
        var query: String?
        var json: JSONValue
    }

    struct Target: Sendable {
        var panel: String
        var refID: String
        var expression: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let file: String
    let json: JSONValue
    let variables: [Variable]
    /// Every panel, rows and their nested panels included, in file order.
    let panels: [JSONValue]

    /// What a test substitutes for Grafana's built-in variables (its query variables all become
    /// `.*`: every dashboard matches them with `=~`).
    static let builtIns = ["__rate_interval": "1m", "__interval": "15s", "__range": "1h"]

    init(file: String, bytes: [UInt8]) throws {
        self.file = file
        json = try JSONParser.parse(bytes)
        variables = (json["templating"]?["list"]?.arrayValue ?? []).map { variable in
            Variable(
                name: variable["name"]?.stringValue ?? "", type: variable["type"]?.stringValue ?? "",
                query: variable["query"]?.stringValue ?? variable["query"]?["query"]?.stringValue, json: variable)
        }
        func flattened(_ panels: [JSONValue]) -> [JSONValue] {
            panels.flatMap { [$0] + flattened($0["panels"]?.arrayValue ?? []) }
        }
        panels = flattened(json["panels"]?.arrayValue ?? [])
    }

    /// Every `*.json` in `directory`, sorted by name.
    static func all(in directory: URL) throws -> [PrometheusDashboard] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            return try PrometheusDashboard(file: name, bytes: Array(data))
        }
    }

    var targets: [Target] {
        panels.flatMap { panel in
            (panel["targets"]?.arrayValue ?? []).map { target in
                Target(
                    panel: panel["title"]?.stringValue ?? "?", refID: target["refId"]?.stringValue ?? "",
                    expression: target["expr"]?.stringValue ?? "")
            }
        }
    }

    /// `expression` with built-ins and this dashboard's query variables replaced; throws on a
    /// variable that is neither (Grafana would send it unexpanded).
    func substituted(_ expression: String) throws -> String {
        let queryVariables = Set(variables.filter { $0.type == "query" }.map(\.name))
        var out = ""
        var rest = Substring(expression)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            let braced = rest.first == "{"
            if braced { rest = rest.dropFirst() }
            let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            rest = rest.dropFirst(name.count)
            if braced {
                guard rest.first == "}" else { throw Failure(description: "\(file): unclosed ${ in \(expression)") }
                rest = rest.dropFirst()
            }
            if let value = Self.builtIns[name] {
                out += value
            } else if queryVariables.contains(name) {
                out += ".*"
            } else {
                throw Failure(description: "\(file): undefined variable $\(name) in \(expression)")
            }
        }
        return out + rest
    }
}
