import Telemetry

/// A rule that scores one answer against its item, 1 (right) or 0 (wrong).
///
/// The judge is not a case: it is a model call the runner makes (see `JudgePrompt`,
/// `JudgeVerdict`), while these are pure functions of the answer and the item.
public enum Scorer: Sendable, Equatable {
    /// The trimmed answer equals the trimmed expected value (a string as it is, any other JSON
    /// value as written, e.g. `42`).
    case exactMatch
    /// The answer contains the expected string, ignoring case; an expected array of strings
    /// means every one must appear.
    case contains
    /// A regular expression (Swift `Regex` syntax) matches somewhere in the answer. Nil takes the
    /// pattern from each item's `expected` string.
    case regex(String?)
    /// The answer (trimmed, one surrounding ```` ```json ```` fence allowed) is one JSON document.
    case jsonValid
    /// The answer is JSON and validates against the schema. Nil takes the schema from each item's
    /// `expected`.
    case jsonSchema(JSONValue?)
    /// The last number in the answer is within `tolerance` of the expected number.
    case numeric(tolerance: Double)

    /// The name the report and the spans use for this scorer's scores.
    public var name: String {
        switch self {
        case .exactMatch: "exact"
        case .contains: "contains"
        case .regex: "regex"
        case .jsonValid: "json"
        case .jsonSchema: "json_schema"
        case .numeric: "numeric"
        }
    }

    /// 1 or 0; nil when the scorer needs the item's `expected` and it is missing (or `null`), or
    /// of a type this scorer cannot use (an object for `contains`, an invalid pattern for `regex`).
    public func score(_ answer: String, item: EvalItem) -> Double? {
        // `JSONValue` is nil-literal expressible, so spell out that `null` means "none".
        let expected: JSONValue? = item.expected == .null ? Optional.none : item.expected
        switch self {
        case .exactMatch:
            guard let expected else { return nil }
            let want = AnswerText.trimmingWhitespace(AnswerText.text(of: expected)[...])
            return grade(AnswerText.trimmingWhitespace(answer[...]) == want)
        case .contains:
            guard let needles = expected.flatMap(Self.needles) else { return nil }
            let haystack = answer.lowercased()
            return grade(needles.allSatisfy { $0.isEmpty || haystack.contains($0.lowercased()) })
        case .regex(let given):
            guard let pattern = given ?? expected?.stringValue, let regex = try? Regex<AnyRegexOutput>(pattern) else {
                return nil
            }
            return grade((try? regex.firstMatch(in: answer)) != nil)
        case .jsonValid:
            return grade((try? AnswerText.json(answer)) != nil)
        case .jsonSchema(let given):
            guard let schema = given ?? expected, Self.isSchema(schema) else { return nil }
            let validator = JSONSchemaValidator(schema: schema)
            // A dataset's own schema was never checked up front: an unusable one cannot score.
            if given == nil, !validator.schemaProblems().isEmpty { return nil }
            guard let value = try? AnswerText.json(answer) else { return 0 }
            return grade(validator.validate(value).isEmpty)
        case .numeric(let tolerance):
            guard let want = expected.flatMap(Self.number) else { return nil }
            guard let got = NumberScanner.lastNumber(in: answer) else { return 0 }
            return grade(abs(got - want) <= tolerance)
        }
    }

    private func grade(_ passed: Bool) -> Double { passed ? 1 : 0 }

    /// The strings `contains` looks for: one string (or number), or a non-empty array of them.
    private static func needles(_ expected: JSONValue) -> [String]? {
        switch expected {
        case .string(let text): return [text]
        case .number(let text): return [text]
        case .array(let values) where !values.isEmpty:
            var needles: [String] = []
            for value in values {
                switch value {
                case .string(let text), .number(let text): needles.append(text)
                default: return nil
                }
            }
            return needles
        default: return nil
        }
    }

    private static func number(_ expected: JSONValue) -> Double? {
        switch expected {
        case .number(let text): Double(text).flatMap { $0.isFinite ? $0 : nil }
        case .string(let text): NumberScanner.wholeNumber(text)
        default: nil
        }
    }

    /// A JSON Schema is an object or a boolean.
    static func isSchema(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .bool: true
        default: false
        }
    }
}
