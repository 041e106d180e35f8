import Synchronization

/// The deployments a router serves, replaceable while requests run: models added, changed or
/// deleted through the admin API take effect at once. A request reads one snapshot for each
/// routing decision and keeps the deployments it was given, so a change never pulls a deployment
/// out from under a request in flight.
public final class DeploymentSet: Sendable {
    /// Everything routing reads of one set of deployments, computed once per change.
    struct Snapshot: Sendable {
        let groups: [String: [Deployment]]
        /// What routing reads of each group.
        let keys: [String: RoutingStrategy.GroupKeys]
        /// Wildcard group names (`openai/*`, `*`), most specific (longest) first.
        let wildcards: [String]
        /// Group names in the order of their first deployment: the config's, then stored models'.
        let names: [String]
        /// `model_info.access_groups`: each access group's model groups.
        let accessGroups: [String: Set<String>]

        init(_ deployments: [Deployment]) {
            var groups: [String: [Deployment]] = [:]
            var names: [String] = []
            var accessGroups: [String: Set<String>] = [:]
            for deployment in deployments {
                let name = deployment.config.modelName
                if groups[name] == nil { names.append(name) }
                groups[name, default: []].append(deployment)
                for access in deployment.config.accessGroups { accessGroups[access, default: []].insert(name) }
            }
            self.groups = groups
            self.names = names
            self.accessGroups = accessGroups
            self.keys = groups.mapValues(RoutingStrategy.GroupKeys.init)
            self.wildcards = groups.keys.filter { $0.contains("*") }.sorted { ($0.count, $0) > ($1.count, $1) }
        }
    }

    private let current: Mutex<Snapshot>

    init(_ deployments: [Deployment]) {
        current = Mutex(Snapshot(deployments))
    }

    var snapshot: Snapshot { current.withLock { $0 } }

    /// Routes every later decision to `deployments`; decisions already made keep theirs.
    func replace(with deployments: [Deployment]) {
        let snapshot = Snapshot(deployments)
        current.withLock { $0 = snapshot }
    }
}
