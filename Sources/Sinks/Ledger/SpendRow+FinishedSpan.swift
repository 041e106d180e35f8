import Store
import Telemetry

extension SpendRow {
    /// The ledger row of a finished request: read from the summary, never re-derived.
    public init(_ finished: FinishedSpan) {
        let s = finished.summary
        let usage = s.usage ?? Usage(inputTokens: 0, outputTokens: 0)
        self.init(
            requestID: s.requestID, traceID: finished.server.traceID.hex,
            startTime: Int64(finished.server.startNanos / 1_000_000), endTime: Int64(finished.server.endNanos / 1_000_000),
            keyHash: s.caller.keyHash, keyAlias: s.caller.keyAlias, teamID: s.caller.teamID, userID: s.caller.userID,
            orgID: s.caller.orgID, operation: s.operation, model: s.requestModel, modelGroup: s.modelGroup,
            deploymentID: s.deploymentID, provider: s.provider, inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens, cacheReadTokens: usage.cacheReadTokens,
            cacheCreationTokens: usage.cacheCreationTokens, reasoningTokens: usage.reasoningTokens,
            spend: s.costUSD ?? 0, statusCode: s.statusCode, errorType: s.errorType, attempts: s.attempts,
            fallbackDepth: s.fallbackDepth, latencyMs: s.durationSeconds * 1000, upstreamLatencyMs: s.upstreamSeconds * 1000,
            overheadMs: s.overheadSeconds * 1000, timeToFirstTokenMs: s.timeToFirstChunkSeconds.map { $0 * 1000 },
            tags: s.tags, endUser: s.endUser)
        self.usageEstimated = s.usageEstimated
        self.evalRunID = s.evaluation?.runID
        self.evalItemID = s.evaluation?.itemID
    }
}
