import AsyncHTTPClient
import Foundation
import GatewayTesting
import HTTPTypes
import Logging
import NIOCore
import Store
import Telemetry
import Testing

@testable import Proxy

/// The router without the HTTP server: a Swift program embeds `Gateway` and calls it directly,
/// with the same fallbacks, retries and cooldowns (here against the in-process mock provider).
@Suite(.timeLimit(.minutes(3))) struct InProcessRoutingTests {
    @Test func anEmbeddedGatewayRoutesFallsBackAndCoolsDown() async throws {
        let config = try ProviderCatalogue.configLoader(environment: [:]).load(
            yaml: """
                router_settings: {allowed_fails: 0, cooldown_time: 60, fallbacks: [{flaky: [steady]}]}
                model_list:
                  - {model_name: flaky, litellm_params: {model: mock/error-503}, model_info: {id: flaky-1}}
                  - {model_name: steady, litellm_params: {model: mock/gpt-4o-mini}, model_info: {id: steady-1}}
                """)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await route(config, client: client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func route(_ config: GatewayConfig, client: HTTPClient) async throws {
        var logger = Logger(label: "in-process")
        logger.logLevel = .critical
        let clock = TestTime.clock()
        let gateway = try GatewayBootstrap(
            config: config, environment: [:], httpClient: client,
            store: try SQLiteStore(
                path: FileManager.default.temporaryDirectory.appendingPathComponent("spanway-embedded-\(UUID()).db").path),
            logger: logger, clock: clock
        ).makeGateway()
        let body = ByteBuffer(string: #"{"model":"flaky","messages":[{"role":"user","content":"hi"}]}"#)
        let first = await gateway.proxy(.chat, body: body, headers: HTTPFields(), route: "embedded")
        #expect(
            first.status == 200 && first.header("x-spanway-attempts") == "2" && first.header("x-spanway-deployment") == "steady-1"
        )
        #expect(gateway.router.cooldowns.isCooling("flaky-1", now: clock.nowSeconds()))
        let second = await gateway.proxy(.chat, body: body, headers: HTTPFields(), route: "embedded")
        #expect(second.status == 200 && second.header("x-spanway-attempts") == "1", "the cooling deployment is not tried")
        // After cooldown_time (60 s) on the gateway's clock, the deployment is tried again.
        clock.advance(by: .seconds(60))
        #expect(!gateway.router.cooldowns.isCooling("flaky-1", now: clock.nowSeconds()))
        let third = await gateway.proxy(.chat, body: body, headers: HTTPFields(), route: "embedded")
        #expect(
            third.status == 200 && third.header("x-spanway-attempts") == "2", "the cooled-down deployment is tried first again")
    }
}
