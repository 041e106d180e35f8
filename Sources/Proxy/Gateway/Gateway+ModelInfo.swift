import HTTPTypes
import Telemetry

extension Gateway {
    /// `GET /model/info` and `/v1/model/info` (LiteLLM's shape): one entry per deployment of the
    /// groups the caller may use, `{model_name, litellm_params, model_info}`, with no key or
    /// other credential in `litellm_params`. `model_id` narrows it to one deployment
    /// (LiteLLM's `litellm_model_id`).
    public func modelInfo(modelID: String?, headers: HTTPFields, route: String) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers, route: route)
        } catch {
            return GatewayReply(error)
        }
        let data = router.deployments.filter { deployment in
            principal.allows(deployment.config.modelName) && (modelID.map { $0 == deployment.config.id } ?? true)
        }.map { deployment -> JSONValue in
            .object([
                "model_name": .string(deployment.config.modelName),
                "litellm_params": .object(deployment.config.publicParams),
                "model_info": .object(deployment.modelInfo),
            ])
        }
        return Self.infoReply(.object(["data": .array(data)]))
    }

    /// `GET /model_group/info` (LiteLLM's shape): one entry per group the caller may use, with
    /// its providers, the largest context window, output limit and prices among its
    /// deployments (as LiteLLM takes the largest), its mode, summed rpm and tpm, and each
    /// `supports_*` flag true when any deployment has it. `model_group` narrows it to one group.
    public func modelGroupInfo(group only: String?, headers: HTTPFields, route: String) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers, route: route)
        } catch {
            return GatewayReply(error)
        }
        let groups = router.modelGroups.filter { group in principal.allows(group) && (only.map { $0 == group } ?? true) }
        let data = groups.map { group -> JSONValue in .object(Self.groupInfo(group, router.deployments(of: group))) }
        return Self.infoReply(.object(["data": .array(data)]))
    }

    static func groupInfo(_ group: String, _ deployments: [Deployment]) -> JSONObject {
        func largest<T: Comparable>(_ value: (Deployment) -> T?) -> T? { deployments.compactMap(value).max() }
        func total(_ value: (Deployment) -> Int?) -> JSONValue {
            let values = deployments.compactMap(value)
            return values.isEmpty ? .null : .int(values.reduce(0, +))
        }
        var providers: [String] = []
        for deployment in deployments {
            let provider = deployment.price?.litellmProvider ?? deployment.config.provider
            if !providers.contains(provider) { providers.append(provider) }
        }
        var info: JSONObject = [
            "model_group": .string(group), "providers": .array(providers.map(JSONValue.string)),
        ]
        info["max_input_tokens"] = largest(\.maxInputTokens).map(JSONValue.int) ?? .null
        info["max_output_tokens"] = largest(\.maxOutputTokens).map(JSONValue.int) ?? .null
        info["input_cost_per_token"] = largest { $0.price?.inputCostPerToken }.map(JSONValue.double) ?? .null
        info["output_cost_per_token"] = largest { $0.price?.outputCostPerToken }.map(JSONValue.double) ?? .null
        info["mode"] = deployments.first.map { .string($0.mode) } ?? .null
        info["tpm"] = total(\.config.tpm)
        info["rpm"] = total(\.config.rpm)
        for flag in Deployment.reportedCapabilities {
            info["supports_\(flag)"] = .bool(deployments.contains { $0.price?.supports.contains(flag) ?? false })
        }
        return info
    }

    static func infoReply(_ body: JSONValue) -> GatewayReply {
        GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(body.encoded()))
    }
}
