import Foundation

/// Model prices read from LiteLLM's `model_prices_and_context_window.json` format.
///
/// The project ships a copy of LiteLLM's table (MIT licence, see `Resources/LICENSE.litellm`);
/// a user can point at a newer file of the same format.
public struct PriceBook: Sendable {
    /// The per-unit price fields read besides the token rates.
    static let unitFields = [
        "output_cost_per_image", "input_cost_per_second", "input_cost_per_character", "input_cost_per_query",
    ]

    public private(set) var prices: [String: ModelPrice]
    /// Lower-cased name to the table's own spelling: clients write `GPT-4o` on wildcard routes,
    /// and a miss would cost 0 without a word.
    private var folded: [String: String]

    public init(prices: [String: ModelPrice] = [:]) {
        self.prices = prices
        self.folded = Self.fold(prices)
    }

    /// An exact lower-case name wins over another spelling that folds to it; otherwise the
    /// first in sorted order, so lookups do not depend on dictionary order.
    private static func fold(_ prices: [String: ModelPrice]) -> [String: String] {
        var folded: [String: String] = [:]
        folded.reserveCapacity(prices.count)
        for name in prices.keys.sorted() {
            let lower = name.lowercased()
            if folded[lower] == nil || name == lower { folded[lower] = name }
        }
        return folded
    }

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(path: String)
        case malformed(String)

        public var description: String {
            switch self {
            case .unreadable(let path): "cannot read price table at \(path)"
            case .malformed(let reason): "price table is not valid: \(reason)"
            }
        }
    }

    public init(json bytes: some Collection<UInt8>) throws(LoadError) {
        var prices: [String: ModelPrice] = [:]
        do {
            // Member by member: the table is megabytes, and only some of each row's fields matter.
            try JSONParser.forEachMember(ofObject: Array(bytes), limits: .upstreamResponse) { name, entry in
                // A row priced only per image, second, character or query has token rates of 0.
                guard name != "sample_spec", let row = entry.objectValue,
                    let input = row["input_cost_per_token"]?.doubleValue
                        ?? (row["output_cost_per_token"] != nil || Self.unitFields.contains { row[$0] != nil } ? 0 : nil)
                else { return }
                var price = ModelPrice(
                    inputCostPerToken: input,
                    outputCostPerToken: row["output_cost_per_token"]?.doubleValue ?? 0,
                    cacheReadInputTokenCost: row["cache_read_input_token_cost"]?.doubleValue,
                    cacheCreationInputTokenCost: row["cache_creation_input_token_cost"]?.doubleValue,
                    outputCostPerReasoningToken: row["output_cost_per_reasoning_token"]?.doubleValue,
                    maxInputTokens: row["max_input_tokens"]?.intValue,
                    maxOutputTokens: row["max_output_tokens"]?.intValue ?? row["max_tokens"]?.intValue,
                    mode: row["mode"]?.stringValue)
                price.litellmProvider = row["litellm_provider"]?.stringValue
                price.outputCostPerImage = row["output_cost_per_image"]?.doubleValue
                price.inputCostPerSecond = row["input_cost_per_second"]?.doubleValue
                price.inputCostPerCharacter = row["input_cost_per_character"]?.doubleValue
                price.inputCostPerQuery = row["input_cost_per_query"]?.doubleValue
                price.outputCostPerImageToken = row["output_cost_per_image_token"]?.doubleValue
                price.supports = row.keys.filter { $0.hasPrefix("supports_") && row[$0]?.boolValue == true }
                    .map { String($0.dropFirst("supports_".count)) }.sorted()
                prices[name] = price
            }
        } catch {
            throw .malformed(error.description)
        }
        self.prices = prices
        self.folded = Self.fold(prices)
    }

    public init(contentsOfFile path: String) throws(LoadError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
        try self.init(json: data)
    }

    /// The table shipped with Spanway, or nil when its resource folder is not beside the binary.
    public static let bundled: PriceBook? = bundledPath.flatMap { try? PriceBook(contentsOfFile: $0) }

    /// Looked up next to the executable (where SwiftPM puts resource bundles), without
    /// `Bundle.module`, whose accessor stops the process when the folder is missing.
    public static var bundledPath: String? {
        let file = "model_prices_and_context_window.json"
        var directories: [URL] = []
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            directories.append(exe)
            directories.append(exe.deletingLastPathComponent())
        }
        for directory in directories {
            for bundle in ["spanway_Telemetry.resources", "spanway_Telemetry.bundle/Contents/Resources"] {
                let path = directory.appendingPathComponent(bundle).appendingPathComponent(file).path
                if FileManager.default.fileExists(atPath: path) { return path }
            }
        }
        return nil
    }

    /// The price of `model` as served by `provider`: LiteLLM keys some rows `provider/model`
    /// and others by the bare model name, so both are tried, most specific first; a model that
    /// repeats its provider's prefix (`openai/gpt-4o` on an `openai/*` route) is tried without it.
    /// Exact spellings win; only then is case ignored (`mock/GPT-4o` finds `gpt-4o`).
    public func price(model: String, provider: String?) -> ModelPrice? {
        let names = Self.candidates(model: model, provider: provider)
        for name in names { if let price = prices[name] { return price } }
        for name in names {
            if let spelled = folded[name.lowercased()], let price = prices[spelled] { return price }
        }
        return nil
    }

    /// Names to look up, most specific first, each once.
    static func candidates(model: String, provider: String?) -> [String] {
        var bare = model
        if let provider, !provider.isEmpty, model.lowercased().hasPrefix(provider.lowercased() + "/") {
            bare = String(model.dropFirst(provider.count + 1))
        }
        var names: [String] = []
        if let provider, !provider.isEmpty {
            names.append("\(provider)/\(bare)")
            names.append("\(provider.lowercased())/\(bare)")
        }
        names.append(model)
        names.append(bare)
        if let slash = bare.lastIndex(of: "/") { names.append(String(bare[bare.index(after: slash)...])) }
        var seen = Set<String>()
        return names.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    public mutating func set(_ price: ModelPrice, for model: String) {
        prices[model] = price
        let lower = model.lowercased()
        if folded[lower] == nil || model == lower { folded[lower] = model }
    }
}
