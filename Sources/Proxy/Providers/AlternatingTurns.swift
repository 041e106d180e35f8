import Telemetry

/// A conversation for providers that want the roles to alternate (Anthropic, Gemini, Bedrock):
/// consecutive messages of one role merge into one turn, and a message with nothing to send adds
/// nothing.
struct AlternatingTurns {
    private(set) var turns: [(role: String, items: [JSONValue])] = []

    var isEmpty: Bool { turns.isEmpty }

    mutating func append(_ role: String, _ items: [JSONValue]) {
        guard !items.isEmpty else { return }
        if turns.last?.role == role {
            turns[turns.count - 1].items += items
        } else {
            turns.append((role, items))
        }
    }

    /// These providers refuse a conversation that does not open with the user: `placeholder` is
    /// put first as the user's when it does not.
    mutating func openWithUser(_ placeholder: JSONValue) {
        if turns.first?.role != "user" { turns.insert(("user", [placeholder]), at: 0) }
    }

    /// `[{"role": …, <itemsKey>: […]}]`, the provider's messages.
    func json(itemsKey: String) -> [JSONValue] {
        turns.map { .object(["role": .string($0.role), itemsKey: .array($0.items)]) }
    }
}
