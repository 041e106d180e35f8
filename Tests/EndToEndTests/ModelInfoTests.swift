import Foundation
import GatewayTesting
import Telemetry
import Testing

@testable import Proxy

/// `GET /model/info`, `/v1/model/info` and `/model_group/info` in LiteLLM's shapes: what each
/// deployment and group is, priced from the price table (the `base_model` row when set), with no
/// credential anywhere, and only the models the caller may use.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ModelInfoTests {
    static let azureKey = "azure-info-secret-9911"
    static let awsSecret = "aws-secret-info-5150"
    static let awsKeyID = "AKIAINFOEXAMPLE0001"

    static var config: String {
        """
        model_list:
          - model_name: gpt-4o
            litellm_params: {model: openai/gpt-4o, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY, rpm: 100}
            model_info: {id: oai-4o}
          - model_name: mixed
            litellm_params: {model: openai/gpt-4o, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY, rpm: 5}
            model_info: {id: mixed-4o}
          - model_name: mixed
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY, rpm: 7}
            model_info: {id: mixed-mini}
          - model_name: azure-4o
            litellm_params:
              model: azure/prod-4o
              api_base: "https://user:hunter2@example.openai.azure.com/?sig=querysecret"
              api_key: \(azureKey)
              api_version: "2024-06-01"
            model_info: {id: az-1, base_model: azure/gpt-4o, max_input_tokens: 1000}
          - model_name: claude-bedrock
            litellm_params:
              model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
              aws_access_key_id: \(awsKeyID)
              aws_secret_access_key: \(awsSecret)
              aws_region_name: us-east-1
            model_info: {id: br-1}
        general_settings: {master_key: sk-e2e-master}
        spanway_settings: {pricing_file: "\(ShippedPrices.path)"}
        """
    }

    static func entry(_ reply: GatewayClient.Reply, id: String) -> JSONValue? {
        reply.json?["data"]?.arrayValue?.first { $0["model_info"]?["id"]?.stringValue == id }
    }

    @Test func describesEveryDeploymentWithoutSecrets() async throws {
        let azure = try ShippedPrices.row("azure/gpt-4o")
        let gpt4o = try ShippedPrices.row("gpt-4o")
        try await Harness.with(config: Self.config, otlp: false) { h in
            for path in ["/model/info", "/v1/model/info"] {
                let reply = try await h.send(path)
                #expect(reply.status == 200, "\(reply.text)")
                #expect(reply.json?["data"]?.arrayValue?.count == 5)
                for secret in [Self.azureKey, Self.awsSecret, Self.awsKeyID, Harness.upstreamKey, "hunter2", "querysecret"] {
                    #expect(!reply.text.contains(secret), "\(secret) leaked in \(path)")
                }
                let az = try #require(Self.entry(reply, id: "az-1"))
                #expect(az["model_name"]?.stringValue == "azure-4o")
                #expect(az["litellm_params"]?["model"]?.stringValue == "azure/prod-4o")
                #expect(az["litellm_params"]?["api_base"]?.stringValue == "https://example.openai.azure.com/")
                #expect(az["litellm_params"]?["api_version"]?.stringValue == "2024-06-01")
                #expect(az["litellm_params"]?["api_key"] == nil)
                let info = try #require(az["model_info"])
                #expect(info["base_model"]?.stringValue == "azure/gpt-4o")
                #expect(info["mode"]?.stringValue == "chat")
                #expect(info["max_input_tokens"]?.intValue == 1000)
                #expect(info["max_output_tokens"]?.intValue == azure["max_output_tokens"]?.intValue)
                #expect(info["input_cost_per_token"]?.doubleValue == azure["input_cost_per_token"]?.doubleValue)
                #expect(info["output_cost_per_token"]?.doubleValue == azure["output_cost_per_token"]?.doubleValue)
                #expect(info["litellm_provider"]?.stringValue == "azure")
                #expect(info["supports_function_calling"]?.boolValue == azure["supports_function_calling"]?.boolValue)

                let oai = try #require(Self.entry(reply, id: "oai-4o"))
                #expect(oai["litellm_params"]?["rpm"]?.intValue == 100)
                #expect(oai["model_info"]?["max_input_tokens"]?.intValue == gpt4o["max_input_tokens"]?.intValue)
                #expect(oai["model_info"]?["base_model"]?.isNull == true)

                let bedrock = try #require(Self.entry(reply, id: "br-1"))
                #expect(bedrock["litellm_params"]?["aws_region_name"]?.stringValue == "us-east-1")
                #expect(bedrock["litellm_params"]?["aws_secret_access_key"] == nil)
            }
            let one = try await h.send("/model/info?litellm_model_id=az-1")
            #expect(one.json?["data"]?.arrayValue?.count == 1)
            #expect(try await h.send("/model/info", key: nil).status == 401)
        }
    }

    @Test func describesGroupsAndShowsAKeyOnlyItsModels() async throws {
        let gpt4o = try ShippedPrices.row("gpt-4o")
        let mini = try ShippedPrices.row("gpt-4o-mini")
        try await Harness.with(config: Self.config, otlp: false) { h in
            let reply = try await h.send("/model_group/info")
            #expect(reply.status == 200, "\(reply.text)")
            let groups = reply.json?["data"]?.arrayValue ?? []
            #expect(groups.compactMap { $0["model_group"]?.stringValue } == ["gpt-4o", "mixed", "azure-4o", "claude-bedrock"])
            let mixed = try #require(groups.first { $0["model_group"]?.stringValue == "mixed" })
            #expect(mixed["providers"] == .array(["openai"]))
            // The largest of the group's deployments, as LiteLLM reports it.
            let inputs = [gpt4o, mini].compactMap { $0["input_cost_per_token"]?.doubleValue }
            #expect(mixed["input_cost_per_token"]?.doubleValue == inputs.max())
            let windows = [gpt4o, mini].compactMap { $0["max_input_tokens"]?.intValue }
            #expect(mixed["max_input_tokens"]?.intValue == windows.max())
            #expect(mixed["rpm"]?.intValue == 12 && mixed["mode"]?.stringValue == "chat")
            let calling = [gpt4o, mini].contains { $0["supports_function_calling"]?.boolValue == true }
            #expect(mixed["supports_function_calling"]?.boolValue == calling)
            let azure = try #require(groups.first { $0["model_group"]?.stringValue == "azure-4o" })
            #expect(azure["max_input_tokens"]?.intValue == 1000 && azure["providers"] == .array(["azure"]))

            let key = try await h.newKey(#"{"models": ["mixed"]}"#)
            let limited = try await h.send("/model_group/info", key: key)
            #expect(limited.json?["data"]?.arrayValue?.compactMap { $0["model_group"]?.stringValue } == ["mixed"])
            let deployments = try await h.send("/v1/model/info", key: key)
            #expect(
                deployments.json?["data"]?.arrayValue?.compactMap { $0["model_info"]?["id"]?.stringValue }.sorted()
                    == ["mixed-4o", "mixed-mini"])
        }
    }
}
