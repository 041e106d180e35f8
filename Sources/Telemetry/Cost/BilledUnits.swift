/// What a non-token operation is billed by, as the provider reported it or the gateway counted
/// it: images made, seconds of audio, characters spoken, rerank searches.
public struct BilledUnits: Sendable, Equatable {
    public var images: Int?
    public var seconds: Double?
    public var characters: Int?
    public var queries: Double?

    public init(images: Int? = nil, seconds: Double? = nil, characters: Int? = nil, queries: Double? = nil) {
        self.images = images
        self.seconds = seconds
        self.characters = characters
        self.queries = queries
    }
}
