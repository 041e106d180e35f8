import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Proxy

@main
struct SpanwayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spanway",
        abstract: "An OpenTelemetry-first LLM gateway with an OpenAI-compatible API.",
        version: GatewayBootstrap.version,
        subcommands: [
            Serve.self, Check.self, KeysCommand.self, SpendCommand.self, ReportCommand.self, EvalCommand.self, ImportCommand.self,
            MockUpstreamCommand.self,
        ])
}

func makeLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
    logger.logLevel = level ?? .info
    return logger
}

func loadConfig(_ path: String, environment: [String: String]) throws -> GatewayConfig {
    let loader = ProviderCatalogue.configLoader(environment: environment)
    do {
        return try loader.load(contentsOfFile: path)
    } catch {
        printError(error.description)
        throw ExitCode.failure
    }
}

/// The config's `environment_variables` set for this process (libraries that read the
/// environment see them too) and merged over `environment`, which the gateway reads.
func applyEnvironmentVariables(of config: GatewayConfig, to environment: inout [String: String]) {
    for (name, value) in config.environmentVariables {
        setenv(name, value, 1)
        environment[name] = value
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream", abstract: "Serve the deterministic mock provider as an OpenAI-compatible HTTP API.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 4010

    func run() async throws {
        let logger = makeLogger("spanway-mock-upstream")
        let app = Application(
            router: MockUpstreamServer.makeRouter(upstream: MockUpstream()),
            configuration: .init(address: .hostname(host, port: port), serverName: "spanway-mock"), logger: logger)
        try await app.runService()
    }
}

/// Every client connection and every upstream connection holds a descriptor: the usual soft limit
/// of 1,024 would stop a gateway at a few hundred concurrent streams, so it is raised to the hard
/// limit, as nginx's `worker_rlimit_nofile` and Go's runtime do.
func raiseDescriptorLimit() {
    #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        let resource = RLIMIT_NOFILE
    #endif
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
}
