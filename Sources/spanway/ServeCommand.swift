import ArgumentParser
import Foundation
import Logging
import Proxy

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")

    @Option(help: "Path to a LiteLLM-format config.yaml.") var config: String
    @Option(
        help: """
            Address to listen on. The default, 127.0.0.1, serves this machine only; use 0.0.0.0 to \
            serve every interface (in a container, or behind a load balancer on another host).
            """)
    var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 4000

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        raiseDescriptorLimit()
        var gatewayConfig = try loadConfig(config, environment: environment)
        applyEnvironmentVariables(of: gatewayConfig, to: &environment)
        if let master = environment["SPANWAY_MASTER_KEY"], !master.isEmpty {
            gatewayConfig.masterKey = master
        } else if gatewayConfig.masterKey == nil, let master = environment["LITELLM_MASTER_KEY"], !master.isEmpty {
            // LiteLLM's own default: a deployment that sets only this would otherwise run unauthenticated.
            gatewayConfig.masterKey = master
        }
        // The keys of models added at run time, learnt by the JSON log handlers once the gateway runs.
        let learnedSecrets = LearnedSecrets()
        if gatewayConfig.jsonLogs {
            // Also every credential-looking variable: providers read their keys from the
            // environment when the config names none.
            let credentialNames = ["KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIALS"]
            let environmentSecrets = environment.filter { name, value in
                value.count >= 8 && credentialNames.contains { name.uppercased().contains($0) }
            }.values
            let secrets =
                [gatewayConfig.masterKey, gatewayConfig.metricsToken].compactMap { $0 }
                + gatewayConfig.deployments.flatMap(\.secrets) + gatewayConfig.sinks.flatMap(\.secrets)
                + Array(gatewayConfig.environmentVariables.values) + Array(environmentSecrets)
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, secrets: secrets, learned: learnedSecrets) }
        }
        let logger = makeLogger("spanway")
        for warning in gatewayConfig.warnings { logger.warning("config: \(warning)") }
        if let problem = ListenExposure(host: host, masterKey: gatewayConfig.masterKey).warning {
            printError(problem)
        }
        let client = GatewayBootstrap.makeHTTPClient()
        let groups = gatewayConfig.modelGroups.count
        do {
            var bootstrap = GatewayBootstrap(
                config: gatewayConfig, environment: environment, httpClient: client, logger: logger)
            try await bootstrap.openStore()
            let gateway = try bootstrap.makeGateway()
            if gatewayConfig.jsonLogs { gateway.contentSecrets.observe { learnedSecrets.replace(with: $0) } }
            try await GatewayApplication.run(gateway: gateway, host: host, port: port, logger: logger) { [host] port in
                logger.info("spanway listening", metadata: ["address": "\(host):\(port)", "model_groups": "\(groups)"])
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
