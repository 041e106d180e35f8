/// A judge reply that is not the verdict asked for. Says what was wrong and shows at most the
/// first 200 characters of the reply (it is model output: it can be huge, or hostile).
public struct JudgeVerdictError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    /// The start of the reply, control characters escaped.
    public var excerpt: String

    public init(_ reason: String, text: String) {
        self.reason = reason
        self.excerpt = AnswerText.excerpt(text, limit: 200)
    }

    public var description: String { "\(reason); the judge replied: \"\(excerpt)\"" }
}
