import Store
import Testing

@testable import Proxy

/// A key's `allowed_routes` as LiteLLM 1.108.7 reads them (`RouteChecks.is_virtual_key_allowed_to_call_route`):
/// exact routes and the routes below them, trailing-`*` prefixes, and route group names.
@Suite struct AllowedRoutesTests {
    func key(_ routes: [String]) -> VirtualKey {
        var key = VirtualKey(token: "t", keyName: "sk-...abcd", createdAt: 0)
        key.allowedRoutes = routes
        return key
    }

    @Test func noListAllowsEveryRoute() {
        #expect(key([]).allows(route: "/v1/chat/completions") && key([]).allows(route: "/key/info"))
    }

    @Test func exactPrefixWildcardAndGroups() {
        #expect(key(["/v1/chat/completions"]).allows(route: "/v1/chat/completions"))
        #expect(!key(["/v1/chat/completions"]).allows(route: "/chat/completions"))
        #expect(key(["/v1"]).allows(route: "/v1/embeddings") && !key(["/v1"]).allows(route: "/v10/x"))
        #expect(key(["/v1/*"]).allows(route: "/v1/messages") && !key(["/v1/*"]).allows(route: "/key/info"))
        #expect(key(["llm_api_routes"]).allows(route: "/v1/messages") && !key(["llm_api_routes"]).allows(route: "/key/info"))
        #expect(key(["info_routes"]).allows(route: "/key/info") && !key(["info_routes"]).allows(route: "/embeddings"))
        #expect(key(["openai_routes"]).allows(route: "/embeddings") && !key(["openai_routes"]).allows(route: "/v1/messages"))
    }

    @Test func refusalsUseLiteLLMsWords() throws {
        #expect(throws: GatewayError.self) { try key(["/v1/chat/completions"]).requireRoute("/embeddings") }
        do throws(GatewayError) {
            try key(["/a", "/b"]).requireRoute("/c")
            Issue.record("a route outside allowed_routes was allowed")
        } catch {
            #expect(
                error.message
                    == "Virtual key is not allowed to call this route. Only allowed to call routes: ['/a', '/b']. Tried to call route: /c"
            )
            #expect(error.status == 403)
        }
    }
}
