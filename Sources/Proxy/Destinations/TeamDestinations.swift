import Logging
import Store
import Synchronization
import Telemetry

/// Per-team trace routing. A team's own destinations (from its metadata, set through the admin
/// API) are lanes of the pipeline that receive that team's requests and nobody else's; they are
/// built when a request of the team first arrives and rebuilt when its metadata changes.
final class TeamDestinations: Sendable {
    struct Entry {
        /// The metadata the lanes were built from: a changed team is noticed by comparing it.
        var metadata: String
        var settings: TeamTraceSettings
        var lanes: [String]
    }

    private let pipeline: Pipeline
    private let factory: SinkFactory
    /// Where the team's own destinations may send; checked again before each batch.
    private let egress: EgressPolicy
    /// `default_team_settings` from the config; the team's metadata overrides them.
    private let configured: [String: TeamTraceSettings]
    private let entries = Mutex<[String: Entry]>([:])
    private let logger: Logger

    init(
        pipeline: Pipeline, factory: SinkFactory, configured: [String: TeamTraceSettings],
        egress: EgressPolicy, logger: Logger
    ) {
        self.pipeline = pipeline
        self.factory = factory
        self.egress = egress
        self.configured = configured
        self.logger = logger
    }

    /// The team's trace settings, its own destinations running.
    func settings(for team: Team) -> TeamTraceSettings {
        if let entry = entries.withLock({ $0[team.teamID] }), entry.metadata == team.metadata {
            return entry.settings
        }
        return rebuild(team)
    }

    private func rebuild(_ team: Team) -> TeamTraceSettings {
        var settings = configured[team.teamID] ?? TeamTraceSettings()
        var own: [SinkConfig] = []
        do {
            let metadata = try JSONParser.parse(team.metadata).objectValue ?? [:]
            let fromMetadata = try TeamTraceSettings.parse(teamID: team.teamID, metadata: metadata)
            settings.defaultSinks = fromMetadata.defaultSinks ?? settings.defaultSinks
            settings.captureContent = fromMetadata.captureContent ?? settings.captureContent
            settings.redactEmails = fromMetadata.redactEmails ?? settings.redactEmails
            own = fromMetadata.sinks
        } catch {
            // The admin API validates metadata, so this is a row written some other way.
            logger.warning("a team's trace settings are not valid and are ignored", metadata: ["team_id": "\(team.teamID)"])
        }
        let names = own.map { $0.name }
        let (previous, isCurrent) = entries.withLock { all -> ([String], Bool) in
            let old = all[team.teamID]
            if old?.metadata == team.metadata { return ([], true) }
            all[team.teamID] = Entry(metadata: team.metadata, settings: settings, lanes: names)
            return (old?.lanes ?? [], false)
        }
        // A concurrent request of the same team already rebuilt it.
        guard !isCurrent else { return settings }
        let stale = Set(previous)
        pipeline.remove { stale.contains($0) }
        for sink in own {
            do {
                // Set through the admin API: DNS may have changed since the check there.
                let exporter = EgressGuardedExporter(try factory.exporter(for: sink), sink: sink, policy: egress, logger: logger)
                if !pipeline.add(exporter, route: sink.route, sampledOnly: sink.kind.followsSampling) {
                    logger.warning("a team destination could not be added", metadata: ["sink": "\(sink.name)"])
                }
            } catch {
                logger.warning("a team destination is not valid", metadata: ["error": "\(error)"])
            }
        }
        return settings
    }
}
