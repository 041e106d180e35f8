import HTTPTypes
import Store
import Telemetry

/// `GET /health` (each deployment called, LiteLLM's answer shape) and `GET /health/readiness`
/// (whether this process can serve: its store, and what its sinks' queues hold).
public struct HealthEndpoints: Sendable {
    let gateway: Gateway
    let checks: HealthChecks
    /// The longest the readiness probe waits for the store.
    let storeTimeout: Duration = .seconds(5)

    public init(gateway: Gateway, checks: HealthChecks) {
        self.gateway = gateway
        self.checks = checks
    }

    /// `GET /health[?model=<group>][&model_id=<id>]`, with the master key only, as in LiteLLM:
    /// it calls every provider. Each entry is the deployment's `litellm_params` without
    /// credentials; an unhealthy one adds `error`, scrubbed of every key the gateway knows.
    /// Deployments that cannot be checked cheaply are listed under `skipped_endpoints` with the
    /// reason, and counted in neither count.
    public func health(model: String?, modelID: String?, headers: HTTPFields) async -> GatewayReply {
        do {
            _ = try await gateway.authenticator.authenticateAdmin(headers)
        } catch {
            return GatewayReply(error)
        }
        var deployments = gateway.router.deployments
        if let model, !model.isEmpty {
            guard let group = gateway.router.group(named: model) else { return GatewayReply(.modelNotFound(model)) }
            deployments = deployments.filter { $0.config.modelName == group }
        }
        if let modelID, !modelID.isEmpty {
            deployments = deployments.filter { $0.config.id == modelID }
            if deployments.isEmpty { return GatewayReply(.notFound("No deployment has the id '\(modelID)'.")) }
        }
        let results = await checks.results(for: deployments)
        var healthy: [JSONValue] = []
        var unhealthy: [JSONValue] = []
        var skipped: [JSONValue] = []
        for (deployment, result) in zip(deployments, results) {
            var entry = deployment.config.publicParams
            entry["model_id"] = .string(deployment.config.id)
            switch result.finding {
            case .healthy:
                healthy.append(.object(entry))
            case .unhealthy(let error):
                let text = "\(error.type) (\(error.status)): \(error.message)"
                entry["error"] = .string(SecretRedactor.scrub(text, secrets: deployment.config.secrets))
                unhealthy.append(.object(entry))
            case .skipped(let reason):
                entry["reason"] = .string(reason)
                skipped.append(.object(entry))
            }
        }
        let body: JSONValue = .object([
            "healthy_endpoints": .array(healthy), "unhealthy_endpoints": .array(unhealthy),
            "healthy_count": .int(healthy.count), "unhealthy_count": .int(unhealthy.count),
            "skipped_endpoints": .array(skipped),
        ])
        return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(body.encoded()))
    }

    /// `GET /health/readiness`, open to all: `{status, db}` as LiteLLM answers, `db` from a real
    /// read of the store (`connected`, `disconnected`, or `Not connected` without one) and 503
    /// when it fails; plus each sink's queue depth and its delivered, failed and dropped counts
    /// since start, which is all the gateway knows of them.
    public func readiness() async -> GatewayReply {
        var body: JSONObject = ["status": "healthy"]
        var status = 200
        if let store = gateway.authenticator.store {
            if await reachable(store) {
                body["db"] = "connected"
            } else {
                body["status"] = "unhealthy"
                body["db"] = "disconnected"
                status = 503
            }
        } else {
            body["db"] = "Not connected"
        }
        body["sinks"] = .array(
            gateway.pipeline.stats().map { stats in
                .object([
                    "name": .string(stats.sink), "queue_depth": .int(stats.queueDepth), "exported": .int(stats.exported),
                    "failed_attempts": .int(stats.failedAttempts), "dropped": .int(stats.dropped),
                ])
            })
        return GatewayReply(
            status: status, headers: [("content-type", "application/json")], body: .bytes(JSONValue.object(body).encoded()))
    }

    /// `GET /health/readiness/details`, with the master key: the readiness answer plus LiteLLM's
    /// details (litellm 1.108.7's `_get_health_readiness_details`): `cache` (null: this gateway
    /// keeps no response cache), `litellm_version` (Spanway's own version, the one this server
    /// runs) and `success_callbacks` (the callbacks that hear of answered requests).
    public func readinessDetails(headers: HTTPFields) async -> GatewayReply {
        do {
            _ = try await gateway.authenticator.authenticateAdmin(headers)
        } catch {
            return GatewayReply(error)
        }
        var reply = await readiness()
        guard case .bytes(let bytes) = reply.body, var body = (try? JSONParser.parse(bytes))?.objectValue else { return reply }
        let lists = gateway.config.callbackLists
        body["cache"] = .null
        body["litellm_version"] = .string(GatewayBootstrap.version)
        body["success_callbacks"] = .array(
            ((lists["success_callback"] ?? []) + (lists["callbacks"] ?? [])).map { .string($0) })
        reply.body = .bytes(JSONValue.object(body).encoded())
        return reply
    }

    /// One read that reaches the database itself (past the key cache), within `storeTimeout`.
    private func reachable(_ store: any GatewayStore) async -> Bool {
        let base = (store as? CachedStore)?.base ?? store
        let timeout = storeTimeout
        return await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                do {
                    _ = try await base.fetch(VirtualKey.self, id: "spanway-readiness-probe")
                    return true
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : false
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? false
        }
    }
}
