import Foundation
import Hummingbird
import Synchronization
import Telemetry

/// `GET /routes` (LiteLLM's `get_routes`): `{"routes": [{path, methods, name, endpoint}]}`. The
/// list is read from the router itself once every route is registered, so a route added to the
/// server is listed with nothing else to edit. Paths use LiteLLM's (FastAPI's) `{param}` form;
/// `name` and `endpoint` name the route by its path, as Swift handlers have no function names.
final class RouteList: Sendable {
    struct Entry: Sendable, Equatable {
        var path: String
        var methods: [String]
    }

    private let entries = Mutex<[Entry]>([])

    /// Takes the router's routes: one entry per path with its methods, sorted by path.
    func record<Context>(_ routes: [Router<Context>.RouteDescription]) {
        var methods: [String: Set<String>] = [:]
        for route in routes {
            let path = route.path.description.replacingOccurrences(of: "/**", with: "/{path:path}")
            methods[path, default: []].insert(route.method.rawValue)
        }
        let list = methods.keys.sorted().map { Entry(path: $0, methods: (methods[$0] ?? []).sorted()) }
        entries.withLock { $0 = list }
    }

    var list: [Entry] { entries.withLock { $0 } }

    func reply() -> GatewayReply {
        let routes = list.map { entry -> JSONValue in
            let name = Self.name(entry.path)
            return .object([
                "path": .string(entry.path), "methods": .array(entry.methods.map { .string($0) }), "name": .string(name),
                "endpoint": .string(name),
            ])
        }
        return GatewayReply(
            status: 200, headers: [("content-type", "application/json")],
            body: .bytes(JSONValue.object(["routes": .array(routes)]).encoded()))
    }

    /// `/v1/chat/completions` → `v1_chat_completions`; `/team/{team_id}/callback` → `team_team_id_callback`.
    static func name(_ path: String) -> String {
        let words = path.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        return words.isEmpty ? "root" : words.joined(separator: "_")
    }
}
