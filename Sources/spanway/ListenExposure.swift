/// Whether `serve` is about to expose the gateway with a master key anyone could guess: bound
/// beyond loopback while the key is missing, published (the quickstart's, LiteLLM's docs' `sk-1234`)
/// or short. LiteLLM refuses `sk-1234` at boot; Spanway keeps the quickstart working and says so loudly.
struct ListenExposure {
    static let publishedKeys: Set<String> = ["sk-1234", "sk-spanway-quickstart", "sk-12345", "sk-1234567890"]
    static let minimumKeyLength = 20

    var host: String
    var masterKey: String?

    var isLoopback: Bool {
        let bare = host.trimmingPrefix("[").split(separator: "]").first.map(String.init) ?? host
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    var weakness: String? {
        guard let key = masterKey, !key.isEmpty else { return "no master key is configured, so every request is accepted" }
        if Self.publishedKeys.contains(key) { return "the master key is a published example key" }
        if key.count < Self.minimumKeyLength { return "the master key is shorter than \(Self.minimumKeyLength) characters" }
        return nil
    }

    /// The warning for standard error, or nil when there is nothing to say.
    var warning: String? {
        guard !isLoopback, let weakness else { return nil }
        return """
            ************************************************************************
            WARNING: spanway listens on \(host), reachable from other machines, and
            \(weakness). Anyone who can reach this port can use it as the master key:
            spend your provider credit, create keys and read spend. Set a long random
            general_settings.master_key (or SPANWAY_MASTER_KEY), or listen on 127.0.0.1.
            ************************************************************************
            """
    }
}
