import Telemetry

extension JSONValue {
    /// JSON Schema's equality (used by `enum`, `const` and `uniqueItems`): numbers equal by value
    /// (`1` is `1.0`), objects equal whatever their key order. `==` compares the text as written.
    func isEquivalent(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let left), .number(let right)):
            guard let a = Double(left), let b = Double(right) else { return left == right }
            return a == b
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.isEquivalent(to: $1) }
        case (.object(let left), .object(let right)):
            let keys = Set(left.keys)
            guard keys == Set(right.keys) else { return false }
            return keys.allSatisfy { key in
                guard let a = left[key], let b = right[key] else { return false }
                return a.isEquivalent(to: b)
            }
        default:
            return self == other
        }
    }
}
