import AsyncHTTPClient
import Logging
import Store
import Telemetry
import Testing

@testable import Proxy
@testable import Sinks

/// A team's trace settings: read from its metadata (set through the admin API) or from
/// `default_team_settings` in the config, by one parser; and the pipeline lanes they become.
@Suite struct TeamTraceSettingsTests {
    static func metadata(_ text: String) throws -> JSONObject {
        try #require(try JSONParser.parse(Array(text.utf8)).objectValue)
    }

    @Test func metadataGivesFlagsAndTheTeamsOwnSinks() throws {
        let settings = try TeamTraceSettings.parse(
            teamID: "research",
            metadata: try Self.metadata(
                #"{"default_sinks":false,"capture_content":true,"logging":["#
                    + #"{"callback_name":"langfuse","callback_type":"success","callback_vars":{"langfuse_public_key":"pk-1","langfuse_secret_key":"sk-1","langfuse_host":"https://lf.example"}},"#
                    + #"{"callback_name":"generic_api","callback_vars":{"generic_logger_endpoint":"https://hooks.example/t","log_format":"ndjson"}}]}"#
            ))
        #expect(settings.defaultSinks == false && settings.captureContent == true && settings.redactEmails == nil)
        #expect(settings.sinks.map(\.name) == ["team/research/langfuse", "team/research/generic_api"])
        #expect(settings.sinks.map(\.route) == [.team("research", outcome: .success), .team("research", outcome: .any)])
        guard case .langfuse(let credentials) = settings.sinks[0].destination,
            case .webhook(let url, _, let format) = settings.sinks[1].destination
        else {
            Issue.record("the kinds are wrong: \(settings.sinks.map(\.kind))")
            return
        }
        #expect(credentials.host == "https://lf.example" && credentials.publicKey == "pk-1" && credentials.secretKey == "sk-1")
        #expect(url == "https://hooks.example/t" && format == .ndjson)
        #expect(
            settings.destinationFields == [
                "metadata.logging[0].callback_vars.langfuse_host", "metadata.logging[1].callback_vars.generic_logger_endpoint",
            ])
        // A team's sinks never take the gateway's credentials or content settings.
        #expect(settings.sinks.allSatisfy { $0.captureContent })
    }

    @Test func problemsNameTheirField() throws {
        func problem(_ text: String) throws -> TeamTraceSettings.Problem? {
            let metadata = try Self.metadata(text)
            do throws(TeamTraceSettings.Problem) {
                _ = try TeamTraceSettings.parse(teamID: "t", metadata: metadata)
                return nil
            } catch {
                return error
            }
        }
        #expect(try problem(#"{"redact_emails":"yes"}"#) == .invalid("metadata.redact_emails", "must be true or false"))
        #expect(try problem(#"{"logging":{}}"#) == .invalid("metadata.logging", "must be a list"))
        #expect(try problem(#"{"logging":[{}]}"#) == .invalid("metadata.logging[0].callback_name", "is required"))
        #expect(
            try problem(#"{"logging":[{"callback_name":"datadog","callback_type":"sometimes"}]}"#)
                == .invalid("metadata.logging[0].callback_name", "'datadog' is not a supported callback"),
            "the name is judged first")
        #expect(
            try problem(#"{"logging":[{"callback_name":"helicone","callback_type":"sometimes"}]}"#)
                == .invalid("metadata.logging[0].callback_type", "must be success, failure or success_and_failure"))
        #expect(
            try problem(#"{"logging":[{"callback_name":"langfuse","callback_vars":{"langfuse_secret_key":"sk"}}]}"#)
                == .invalid("metadata.logging[0].callback_vars", "public_key or LANGFUSE_PUBLIC_KEY is required"))
        #expect(
            try problem(#"{"logging":[{"callback_name":"generic_api","callback_vars":{"endpoint":"ftp://x"}}]}"#)
                == .invalid("metadata.logging[0].callback_vars.destination", "must be an http:// or https:// URL"))
    }

    @Test func theConfigFileAndTheAdminAPIParseACallbackAlike() throws {
        let config = try ConfigLoader(environment: ["LANGFUSE_PUBLIC_KEY": "pk-gateway"], knownProviders: []).load(
            yaml: """
                litellm_settings:
                  default_team_settings:
                    - team_id: research
                      success_callback: ["Langfuse"]
                      langfuse_public_key: pk-team
                      langfuse_secret_key: sk-team
                      langfuse_host: https://lf.example
                """)
        let fromConfig = try #require(config.sinks.first)
        let fromMetadata = try #require(
            try TeamTraceSettings.parse(
                teamID: "research",
                metadata: try Self.metadata(
                    #"{"logging":[{"callback_name":"Langfuse","callback_type":"success","callback_vars":"#
                        + #"{"langfuse_public_key":"pk-team","langfuse_secret_key":"sk-team","langfuse_host":"https://lf.example"}}]}"#
                )
            ).sinks.first)
        for sink in [fromConfig, fromMetadata] {
            #expect(sink.name == "team/research/langfuse")
            #expect(sink.route == .team("research", outcome: .success))
            #expect(sink.secrets == ["pk-team", "sk-team"], "the gateway's LANGFUSE_PUBLIC_KEY is not the team's")
            #expect(sink.destination.address == "https://lf.example")
        }
    }

    @Test func aTeamsDestinationsBecomeLanesAndFollowItsMetadata() throws {
        let pipeline = Pipeline()
        let factory = SinkFactory(client: .shared, serviceVersion: "test", resource: [], logger: Logger(label: "test"))
        var configured = TeamTraceSettings()
        configured.captureContent = false
        configured.redactEmails = true
        let destinations = TeamDestinations(
            pipeline: pipeline, factory: factory, configured: ["t": configured],
            egress: EgressPolicy(resolver: FakeResolver(table: [:])),
            logger: Logger(label: "test"))
        var team = Team(teamID: "t", createdAt: 0)
        team.metadata =
            #"{"capture_content":true,"logging":[{"callback_name":"generic_api","callback_vars":{"endpoint":"https://hooks.example/a"}}]}"#
        var settings = destinations.settings(for: team)
        // The metadata's flags win; what it does not set comes from the config.
        #expect(settings.captureContent == true && settings.redactEmails == true && settings.defaultSinks == nil)
        #expect(pipeline.destinationNames == ["team/t/generic_api"])
        // Asked again with the same metadata: nothing is rebuilt.
        _ = destinations.settings(for: team)
        #expect(pipeline.destinationNames == ["team/t/generic_api"])
        // Changed metadata replaces the lanes.
        team.metadata = #"{"default_sinks":false,"logging":[{"callback_name":"helicone","callback_vars":{"api_key":"hk"}}]}"#
        settings = destinations.settings(for: team)
        #expect(settings.defaultSinks == false && settings.captureContent == false)
        #expect(pipeline.destinationNames == ["team/t/helicone"])
        // Metadata the gateway cannot read (written around the admin API) keeps the config's settings, no lanes.
        team.metadata = #"{"logging":"nonsense"}"#
        settings = destinations.settings(for: team)
        #expect(settings.captureContent == false && settings.redactEmails == true && settings.defaultSinks == nil)
        #expect(pipeline.destinationNames.isEmpty)
        pipeline.close()
    }
}
