import Telemetry

/// Reads the judge's reply, strictly: after trimming whitespace and at most one surrounding code
/// fence (```` ``` ```` or ```` ```json ````), the text must be exactly one JSON object with the
/// asked-for members. Prose around the object, a second object, or a score out of range is an
/// error, not something to guess at: a lenient parser would turn a confused judge into a score.
/// Extra members are allowed; a duplicated score, winner or reason is refused as ambiguous.
public struct JudgeVerdict: Sendable {
    /// Which answer of a comparison won: `first` is answer A, `second` answer B.
    public enum Winner: String, Sendable, Equatable, CaseIterable {
        case first
        case second
        case tie

        /// The same verdict with A and B exchanged (for comparisons sent in swapped order).
        public var swapped: Winner {
            switch self {
            case .first: .second
            case .second: .first
            case .tie: .tie
            }
        }
    }

    /// `{"score": <number in [0, 1]>, "reason": "<string>"}`.
    public static func parseGrade(_ text: String) throws(JudgeVerdictError) -> (score: Double, reason: String) {
        let object = try self.object(text)
        let score: Double
        switch try member("score", of: object, text: text) {
        case .number(let number):
            guard let value = Double(number), value.isFinite, value >= 0, value <= 1 else {
                throw JudgeVerdictError("'score' must be a number from 0 to 1, not \(number)", text: text)
            }
            score = value
        case let other:
            throw JudgeVerdictError("'score' must be a number from 0 to 1, not \(other.typeName)", text: text)
        }
        return (score, try reason(object, text: text))
    }

    /// `{"winner": "A" | "B" | "tie", "reason": "<string>"}`, the winner in any case.
    public static func parseComparison(_ text: String) throws(JudgeVerdictError) -> (winner: Winner, reason: String) {
        let object = try self.object(text)
        let winner: Winner
        switch try member("winner", of: object, text: text) {
        case .string(let name) where name.lowercased() == "a": winner = .first
        case .string(let name) where name.lowercased() == "b": winner = .second
        case .string(let name) where name.lowercased() == "tie": winner = .tie
        case .string(let name):
            throw JudgeVerdictError(
                "'winner' must be \"A\", \"B\" or \"tie\", not \"\(AnswerText.excerpt(name, limit: 40))\"", text: text)
        case let other:
            throw JudgeVerdictError("'winner' must be the string \"A\", \"B\" or \"tie\", not \(other.typeName)", text: text)
        }
        return (winner, try reason(object, text: text))
    }

    private static func object(_ text: String) throws(JudgeVerdictError) -> JSONObject {
        let body = AnswerText.unfenced(text)
        guard !body.isEmpty else { throw JudgeVerdictError("the reply is empty", text: text) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(body.utf8))
        } catch {
            throw JudgeVerdictError("the reply is not exactly one JSON object (\(error))", text: text)
        }
        guard case .object(let object) = value else {
            throw JudgeVerdictError("the reply must be a JSON object, not \(value.typeName)", text: text)
        }
        return object
    }

    private static func member(_ key: String, of object: JSONObject, text: String) throws(JudgeVerdictError)
        -> JSONValue
    {
        let values = object.members.filter { $0.key == key }
        guard let value = values.first?.value else { throw JudgeVerdictError("'\(key)' is missing", text: text) }
        guard values.count == 1 else { throw JudgeVerdictError("'\(key)' appears more than once", text: text) }
        return value
    }

    private static func reason(_ object: JSONObject, text: String) throws(JudgeVerdictError) -> String {
        let value = try member("reason", of: object, text: text)
        guard case .string(let reason) = value else {
            throw JudgeVerdictError("'reason' must be a string, not \(value.typeName)", text: text)
        }
        return reason
    }
}
