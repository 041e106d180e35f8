import Synchronization

/// What text leaving the gateway must never contain: the config's secrets (master key, metrics
/// token, sink credentials), and the credentials of every deployment served, learnt again each
/// time the served models change, so that a model added at run time is scrubbed as a configured
/// one is. Observers (the JSON log handler) are told the whole list at once and after each change.
public final class ContentSecrets: Sendable {
    private struct State {
        var deployments: [String] = []
        var observers: [@Sendable ([String]) -> Void] = []
    }

    private let fixed: [String]
    private let state = Mutex(State())

    init(fixed: [String], deployments: [Deployment]) {
        self.fixed = fixed
        state.withLock { $0.deployments = Self.secrets(of: deployments) }
    }

    /// The secrets as of now.
    public var all: [String] { fixed + state.withLock { $0.deployments } }

    /// Called with `all` now and after every change.
    public func observe(_ observer: @escaping @Sendable ([String]) -> Void) {
        let current = state.withLock { state in
            state.observers.append(observer)
            return fixed + state.deployments
        }
        observer(current)
    }

    /// Learns the credentials of the deployments now served (the config's and the stored ones).
    func serve(_ deployments: [Deployment]) {
        let learnt = Self.secrets(of: deployments)
        let observers = state.withLock { state in
            state.deployments = learnt
            return state.observers
        }
        for observer in observers { observer(fixed + learnt) }
    }

    private static func secrets(of deployments: [Deployment]) -> [String] {
        var seen = Set<String>()
        return deployments.flatMap(\.config.secrets).filter { seen.insert($0).inserted }
    }
}
