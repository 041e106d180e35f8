import ArgumentParser
import Foundation
import Proxy

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a config: print every problem with its YAML path; exit 1 on any error.",
        discussion: """
            Warnings (settings Spanway ignores) do not fail the check. With --allow-missing-env, \
            os.environ/NAME references to unset variables are warnings too, so CI can check a \
            production config without its secrets.
            """)

    @Option(help: "Path to a LiteLLM-format config.yaml.") var config: String
    @Flag(help: "Report unset os.environ/NAME variables as warnings instead of errors.")
    var allowMissingEnv = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: config) else {
            printError("error: cannot read \(config)")
            throw ExitCode.failure
        }
        var loader = ProviderCatalogue.configLoader(environment: ProcessInfo.processInfo.environment)
        loader.allowMissingEnvironment = allowMissingEnv
        let (parsed, issues) = loader.check(yaml: String(decoding: data, as: UTF8.self), path: config)
        for issue in issues { print(issue) }
        if issues.contains(where: { $0.severity == .error }) { throw ExitCode.failure }
        let warnings = issues.count
        print(
            "ok: \(parsed?.deployments.count ?? 0) deployments in \(parsed?.modelGroups.count ?? 0) model groups"
                + (warnings == 0 ? "" : ", \(warnings) warning\(warnings == 1 ? "" : "s")"))
    }
}
