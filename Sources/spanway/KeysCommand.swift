import ArgumentParser
import Foundation
import Proxy
import Store
import Telemetry

/// `spanway keys create|list|revoke`: the admin API's key operations, straight against the store
/// (`DATABASE_URL`), for bootstrapping and for operators on the gateway's machine.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke virtual keys (DATABASE_URL names the store).",
        subcommands: [Create.self, List.self, Revoke.self])

    static func management() async throws -> KeyManagement {
        let store = try await GatewayBootstrap.openStore(environment: ProcessInfo.processInfo.environment)
        return KeyManagement(store: store, authenticator: Authenticator(masterKey: nil, store: store))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (shown this once).")

        @Option(help: "key_alias") var alias: String?
        @Option(help: "team_id (the team must exist)") var team: String?
        @Option(help: "user_id") var user: String?
        @Option(help: "Allowed model groups, comma-separated.") var models: String?
        @Option(help: "max_budget in USD.") var maxBudget: Double?
        @Option(help: "budget_duration, e.g. 30d.") var budgetDuration: String?
        @Option(help: "Expiry, e.g. 90d.") var duration: String?
        @Option(help: "rpm_limit") var rpm: Int?
        @Option(help: "tpm_limit") var tpm: Int?

        func run() async throws {
            var fields = JSONObject()
            fields["key_alias"] = alias.map(JSONValue.string)
            fields["team_id"] = team.map(JSONValue.string)
            fields["user_id"] = user.map(JSONValue.string)
            fields["models"] = models.map { .array($0.split(separator: ",").map { .string(String($0)) }) }
            fields["max_budget"] = maxBudget.map(JSONValue.double)
            fields["budget_duration"] = budgetDuration.map(JSONValue.string)
            fields["duration"] = duration.map(JSONValue.string)
            fields["rpm_limit"] = rpm.map(JSONValue.int)
            fields["tpm_limit"] = tpm.map(JSONValue.int)
            do {
                let (raw, key) = try await KeysCommand.management().create(fields)
                print(raw)
                printError("created \(key.keyName) (token \(key.token)); the key is not stored and will not be shown again")
            } catch let error as GatewayError {
                printError("error: \(error.message)")
                throw ExitCode.failure
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: token, name, alias, team, spend.")

        @Option(help: "Only this team's keys.") var team: String?

        func run() async throws {
            let store = try await GatewayBootstrap.openStore(environment: ProcessInfo.processInfo.environment)
            var offset = 0
            print(["token", "name", "alias", "team", "spend", "blocked"].joined(separator: "\t"))
            while true {
                let page = try await store.keys(teamID: team, userID: nil, limit: 500, offset: offset)
                for key in page.keys {
                    print(
                        [
                            key.token, key.keyName, key.keyAlias ?? "", key.teamID ?? "",
                            String(format: "%.6f", key.limits.spend),
                            String(key.blocked),
                        ].joined(separator: "\t"))
                }
                offset += page.keys.count
                if page.keys.isEmpty || offset >= page.total { break }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke (delete) keys, given as keys or tokens.")

        @Argument(help: "Keys (sk-…) or their tokens.") var keys: [String]

        func run() async throws {
            let store = try await GatewayBootstrap.openStore(environment: ProcessInfo.processInfo.environment)
            let tokens = keys.map(KeyManagement.token(of:))
            let deleted = try await store.delete(VirtualKey.self, ids: tokens)
            print("revoked \(deleted) of \(tokens.count)")
            if deleted < tokens.count { throw ExitCode.failure }
        }
    }
}
