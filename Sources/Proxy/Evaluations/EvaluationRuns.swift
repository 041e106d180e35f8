import Evaluations
import HTTPTypes
import NIOCore
import ServiceLifecycle
import Synchronization
import Telemetry

/// `POST /spanway/evaluations` starts a run inside the gateway, charged to the caller's key;
/// `GET /spanway/evaluations/{id}` shows its progress and, once done, the whole result.
///
/// Callers: the master key, or virtual keys with `allow_evaluations`. A key sees only its own
/// runs. Runs are bounded (`EvalBounds`), at most `maxRunning` run at once, and the last
/// `retained` are kept in memory (a restart forgets them; their spend is in the ledger).
public final class EvaluationRuns: Service, Sendable {
    let gateway: Gateway
    let bounds: EvalBounds
    let maxRunning: Int
    let retained: Int

    private struct Run {
        var runner: EvalRunner
        /// The key that started it; nil for the master key.
        var owner: String?
        var task: Task<EvalReport, Never>
        var report: EvalReport?
    }

    private struct State {
        var runs: [String: Run] = [:]
        var order: [String] = []
    }

    private let state = Mutex(State())

    public init(gateway: Gateway, bounds: EvalBounds = EvalBounds(), maxRunning: Int = 4, retained: Int = 100) {
        self.gateway = gateway
        self.bounds = bounds
        self.maxRunning = maxRunning
        self.retained = retained
    }

    public func start(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        let principal: Principal
        let plan: EvalPlan
        do throws(GatewayError) {
            principal = try await authorize(headers, route: "/spanway/evaluations")
            let json: JSONValue
            do {
                json = try JSONParser.parse(body.readableBytesView)
            } catch {
                throw GatewayError.invalidRequest("The body is not valid JSON: \(error)")
            }
            do {
                plan = try EvalPlan(json: json, bounds: bounds)
            } catch {
                throw GatewayError.invalidRequest(error.description, param: error.field)
            }
            for model in plan.models + (plan.judge.map { [$0.model] } ?? []) {
                let group = try principal.admit(model: model, param: "models")
                guard gateway.router.group(named: group) != nil else {
                    throw GatewayError.modelNotFound(model)
                }
            }
        } catch {
            return GatewayReply(error)
        }
        // The run authenticates as its caller, so the caller's budgets and limits apply.
        let key = (try? Authenticator.presentedKey(headers)) ?? nil
        let runner = EvalRunner(
            plan: plan, target: GatewayEvalTarget(gateway: gateway, key: key), clock: gateway.clock,
            traces: { [pipeline = gateway.pipeline] in pipeline.emit($0) })
        let accepted = state.withLock { state -> Bool in
            guard state.runs.values.count(where: { $0.report == nil }) < maxRunning else { return false }
            let task = Task { [weak self] in
                let report = await runner.run()
                self?.state.withLock { $0.runs[plan.runID]?.report = report }
                return report
            }
            state.runs[plan.runID] = Run(runner: runner, owner: principal.caller.keyHash, task: task)
            state.order.append(plan.runID)
            while state.order.count > retained, let oldest = state.order.first, state.runs[oldest]?.report != nil {
                state.runs[oldest] = nil
                state.order.removeFirst()
            }
            return true
        }
        guard accepted else {
            return GatewayReply(
                GatewayError(.rateLimited, "\(maxRunning) evaluations are running; try again when one has finished."))
        }
        let answer: JSONValue = .object([
            "id": .string(plan.runID), "object": "evaluation", "status": "running", "cells": .int(plan.cellCount),
            "url": .string("/spanway/evaluations/\(plan.runID)"),
        ])
        return GatewayReply(status: 202, headers: [("content-type", "application/json")], body: .bytes(answer.encoded()))
    }

    public func status(of id: String, headers: HTTPFields) async -> GatewayReply {
        do throws(GatewayError) {
            let principal = try await authorize(headers, route: "/spanway/evaluations/\(id)")
            let found = state.withLock { state -> (EvalRunner, EvalReport?)? in
                guard let run = state.runs[id], principal.isMaster || run.owner == principal.caller.keyHash else { return nil }
                return (run.runner, run.report)
            }
            guard let (runner, finished) = found else { throw GatewayError.notFound("No evaluation '\(id)'.") }
            let report = finished ?? runner.report()
            guard case .object(var object) = report.json else { throw GatewayError.internal("report is not an object") }
            object["id"] = .string(id)
            object["progress"] = Self.json(runner.currentProgress)
            return GatewayReply(
                status: 200, headers: [("content-type", "application/json")], body: .bytes(JSONValue.object(object).encoded()))
        } catch {
            return GatewayReply(error)
        }
    }

    /// Waits for the gateway to stop, then stops every run sending and waits until the requests
    /// they had in flight have settled (their spend reaches the ledger before it closes).
    public func run() async throws {
        try? await gracefulShutdown()
        let tasks = state.withLock { $0.runs.values.map(\.task) }
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.value }
    }

    private func authorize(_ headers: HTTPFields, route: String) async throws(GatewayError) -> Principal {
        let principal = try await gateway.authenticator.authenticate(headers, route: route)
        guard principal.isMaster || principal.key?.allowEvaluations == true else {
            throw .permissionDenied(
                "This key may not run evaluations; the master key can allow it with 'allow_evaluations'.",
                code: "evaluations_not_allowed")
        }
        return principal
    }

    static func json(_ progress: EvalProgress) -> JSONValue {
        .object([
            "done": .int(progress.done), "total": .int(progress.total), "failed": .int(progress.failed),
            "refused": .int(progress.refused), "spent_usd": .double(progress.spentUSD),
            "elapsed_seconds": .double(progress.elapsedSeconds),
        ])
    }
}
