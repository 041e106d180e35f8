import Telemetry
import Testing

@testable import Proxy

/// A model name that becomes a URL path segment (on a wildcard route it is the client's) may not
/// climb out of its segment: `azure/..` reached `/openai/deployments/../chat/completions`.
@Suite struct ModelPathSegmentTests {
    static let hostile = [
        "..", ".", "../../admin", "a/../b", "%2e%2e", "%2E%2E", ".%2e", "a/b", "a\\b", "..\\..", "a?x=1", "a#frag",
        "", "a\u{0}b", "a\nb",
    ]

    func plainChat() throws -> OpenAIRequest {
        try chat(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
    }

    func expectRefused(_ build: () throws(GatewayError) -> UpstreamRequest, _ comment: Comment) {
        do {
            let built = try build()
            Issue.record("accepted: \(built.url) (\(comment))")
        } catch {
            #expect(error.status == 400 && error.param == "model", comment)
        }
    }

    @Test func azureDeployments() throws {
        let adapter = AzureAdapter()
        for model in Self.hostile {
            let deployment = DeploymentConfig(
                modelName: "azure/*", provider: "azure", model: model, id: "d", apiBase: "https://res.openai.azure.com",
                apiKey: "k")
            let request = try plainChat()
            expectRefused({ () throws(GatewayError) in try adapter.request(for: request, deployment: deployment) }, "\(model)")
        }
        let fine = DeploymentConfig(
            modelName: "azure/*", provider: "azure", model: "gpt-4o.2024", id: "d", apiBase: "https://res.openai.azure.com",
            apiKey: "k")
        #expect(
            try adapter.request(for: plainChat(), deployment: fine).url.contains(
                "/openai/deployments/gpt-4o.2024/chat/completions"))
    }

    @Test func geminiAndVertexModels() throws {
        let gemini = GeminiAdapter(platform: .aiStudio, environment: [:])
        let vertex = GeminiAdapter(platform: .vertexAI, environment: ["VERTEXAI_PROJECT": "p"])
        for model in Self.hostile where !model.isEmpty {
            let request = try plainChat()
            let aiStudio = DeploymentConfig(modelName: "gemini/*", provider: "gemini", model: model, id: "d", apiKey: "k")
            expectRefused(
                { () throws(GatewayError) in try gemini.request(for: request, deployment: aiStudio) }, "gemini \(model)")
            let onVertex = DeploymentConfig(modelName: "vertex_ai/*", provider: "vertex_ai", model: model, id: "d")
            expectRefused(
                { () throws(GatewayError) in try vertex.request(for: request, deployment: onVertex) }, "vertex \(model)")
        }
        let fine = DeploymentConfig(modelName: "gemini/*", provider: "gemini", model: "gemini-2.5-flash", id: "d", apiKey: "k")
        #expect(try gemini.request(for: plainChat(), deployment: fine).url.contains("/models/gemini-2.5-flash:generateContent"))
    }

    @Test func bedrockModelIds() throws {
        let adapter = BedrockAdapter(environment: [
            "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1",
        ])
        for model in Self.hostile where model != "a/b" {
            let deployment = DeploymentConfig(modelName: "bedrock/*", provider: "bedrock", model: model, id: "d")
            let request = try plainChat()
            expectRefused({ () throws(GatewayError) in try adapter.request(for: request, deployment: deployment) }, "\(model)")
        }
        // ARNs keep their `/`: it is encoded into the one segment.
        let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
        let deployment = DeploymentConfig(modelName: "bedrock/*", provider: "bedrock", model: arn, id: "d")
        #expect(try adapter.request(for: plainChat(), deployment: deployment).url.contains("/model/arn%3Aaws%3Abedrock"))
    }

    @Test func theCheckItself() {
        for model in Self.hostile { #expect(!ModelPathSegment.isSafe(model, allowSlash: false), "\(model)") }
        for model in ["..", "a/..", "./a", "a//b", "a/"] {
            #expect(!ModelPathSegment.isSafe(model, allowSlash: true), "\(model)")
        }
        for model in ["gpt-4o", "my gpt-4o", "anthropic.claude-3-5-haiku-20241022-v1:0", "gemini-2.5-flash", "a..b", "...x"] {
            #expect(ModelPathSegment.isSafe(model, allowSlash: false), "\(model)")
        }
    }
}
