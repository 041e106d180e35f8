import HTTPTypes
import NIOCore
import Telemetry

extension Gateway {
    /// Azure OpenAI's data plane, `POST /openai/deployments/{deployment}/chat/completions` and
    /// `/embeddings` (`?api-version=` is accepted and ignored: the answer is the gateway's own),
    /// for clients built for Azure (`AzureOpenAI(azure_endpoint=…)`). The deployment in the path
    /// is the model group, whatever the body's `model` says; the request then runs exactly as on
    /// `/v1/chat/completions` and `/v1/embeddings`.
    public func proxyAzure(
        _ operation: OpenAIRequest.Operation, deployment: String, headers: HTTPFields, route: String,
        body: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        await flow.run(operation, headers: headers, route: route, body: body) { bytes throws(GatewayError) in
            try OpenAIRequest(operation: operation, bytes: Self.naming(deployment, in: bytes))
        }
    }

    /// The body with `model` set to the path's deployment. A body that is not a JSON object is
    /// passed on as it is, for `OpenAIRequest` to refuse with its usual message.
    static func naming(_ deployment: String, in bytes: ByteBufferView) -> [UInt8] {
        guard case .object(var object)? = try? JSONParser.parse(bytes) else { return Array(bytes) }
        object["model"] = .string(deployment)
        return JSONValue.object(object).encoded()
    }
}
