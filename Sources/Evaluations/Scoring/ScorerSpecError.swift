/// A `--scorer` argument that could not be understood, naming the argument.
public struct ScorerSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The argument as given.
    public var spec: String
    public var message: String

    public init(spec: String, _ message: String) {
        self.spec = spec
        self.message = message
    }

    public var description: String { "scorer '\(AnswerText.excerpt(spec, limit: 80))': \(message)" }
}
