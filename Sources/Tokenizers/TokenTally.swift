/// A token count, and whether it is an estimate rather than the model's own tokenizer's count.
public struct TokenTally: Sendable, Equatable {
    public var tokens: Int
    public var estimated: Bool

    public init(tokens: Int, estimated: Bool) {
        self.tokens = tokens
        self.estimated = estimated
    }
}
