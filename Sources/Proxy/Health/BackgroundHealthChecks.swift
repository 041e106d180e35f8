import ServiceLifecycle

/// `general_settings.background_health_checks: true`: every deployment is checked once per
/// `health_check_interval` without being asked, so `/health` answers from fresh results and a
/// dead deployment cools down before a client reaches it.
struct BackgroundHealthChecks: Service {
    let checks: HealthChecks

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await checks.results(for: checks.router.deployments, refresh: true)
                // Real time between rounds: the rounds themselves read the gateway's clock.
                try? await Task.sleep(for: .seconds(checks.settings.interval))
            }
        }
    }
}
