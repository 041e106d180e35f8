import Telemetry

/// One cheap call to one deployment, chosen by its mode: a one-token chat completion, or the
/// embedding of one short word. Modes with no cheap call (images, speech, transcription, rerank,
/// …) and wildcard deployments, which name no model, are skipped rather than reported healthy.
enum HealthProbe {
    /// What one check found.
    enum Finding: Sendable, Equatable {
        case healthy
        case unhealthy(GatewayError)
        case skipped(String)
    }

    /// The request for a deployment's mode; nil when the mode has no cheap call.
    static func request(for deployment: Deployment) -> OpenAIRequest? {
        let model = JSONValue.string(deployment.config.modelName)
        let body: JSONValue
        let operation: OpenAIRequest.Operation
        switch deployment.mode {
        case "chat":
            operation = .chat
            body = .object([
                "model": model, "messages": .array([.object(["role": "user", "content": "ping"])]), "max_tokens": .int(1),
            ])
        case "embedding":
            operation = .embeddings
            body = .object(["model": model, "input": .array(["ping"])])
        default:
            return nil
        }
        return try? OpenAIRequest(operation: operation, bytes: body.encoded())
    }

    /// Calls the deployment, within `timeout` for the whole call (signing and token fetches included).
    static func check(_ deployment: Deployment, timeout: Duration) async -> Finding {
        if deployment.config.model.contains("*") {
            return .skipped("a wildcard deployment names no model to call")
        }
        guard let request = request(for: deployment) else {
            return .skipped("mode '\(deployment.mode)' has no cheap health check")
        }
        let timeout = min(timeout, deployment.timeout)
        return await withTaskGroup(of: Finding?.self) { group in
            group.addTask { await call(deployment, request: request, timeout: timeout) }
            group.addTask {
                // A real wait, cancelled as soon as the call ends: it only bounds a call that hangs.
                try? await Task.sleep(for: timeout)
                return Task.isCancelled
                    ? nil
                    : .unhealthy(.timeout("The health check of '\(deployment.config.modelName)' took longer than \(timeout)."))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .unhealthy(.internal("The health check was cancelled."))
        }
    }

    private static func call(_ deployment: Deployment, request: OpenAIRequest, timeout: Duration) async -> Finding {
        let adapter = deployment.adapter
        do throws(GatewayError) {
            // As a real call is made: the deployment's default parameters under the probe's own,
            // and its `extra_headers` (an API-management key, say), lest a healthy deployment
            // answer the probe 401 and cool down.
            var probe = request
            probe.body = deployment.config.applyingDefaults(to: request.body)
            var upstream = try adapter.request(for: probe, deployment: deployment.config)
            deployment.config.addingDefaultHeaders(to: &upstream)
            upstream = try await adapter.prepare(upstream, deployment: deployment.config, transport: deployment.transport)
            let response: UpstreamResponse
            do {
                response = try await deployment.transport.send(upstream, timeout: timeout)
            } catch {
                throw AttemptLoop.transportError(error, deployment: deployment, timeout: timeout)
            }
            guard (200..<300).contains(response.status) else {
                let body = (try? await response.collect(upTo: 1024 * 1024)) ?? []
                throw adapter.mapError(
                    status: response.status, headers: response.headers, body: body, deployment: deployment.config)
            }
            let body: [UInt8]
            do {
                body = try await response.collect(upTo: 16 * 1024 * 1024)
            } catch {
                throw AttemptLoop.transportError(error, deployment: deployment)
            }
            // A 200 whose body is not the provider's answer is not a healthy deployment.
            _ = try adapter.parseResponse(body, for: request)
            return .healthy
        } catch {
            return .unhealthy(error)
        }
    }
}
