/// What the judge is told makes an answer good; `--rubric` replaces the default.
public struct JudgeRubric: Sendable, Equatable {
    public var text: String

    public init(text: String = JudgeRubric.defaultText) {
        self.text = text
    }

    /// Correctness first, because the point of an evaluation is "is this model right"; style only
    /// breaks ties, so a fluent wrong answer never beats a terse right one.
    public static let defaultText = """
        Judge whether the answer correctly and completely answers the question. \
        When a reference answer is given, the answer must agree with it in substance; wording, \
        formatting and extra detail do not matter unless they make the answer wrong or misleading. \
        An answer that is wrong, contradicts the reference, refuses without reason, or does not \
        address the question scores 0. A fully correct answer scores 1. A partly correct or \
        incomplete answer scores in between, in proportion to how much of it is right. \
        Prefer concise, accurate answers over long ones; never reward length for its own sake.
        """

    public static let `default` = JudgeRubric()
}
