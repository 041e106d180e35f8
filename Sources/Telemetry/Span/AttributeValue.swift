/// An OpenTelemetry attribute value (the subset the gateway records).
public enum AttributeValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case stringArray([String])
}

extension AttributeValue {
    /// The value in a JSON payload (callback sinks that carry attributes as JSON).
    public var json: JSONValue {
        switch self {
        case .string(let text): .string(text)
        case .bool(let flag): .bool(flag)
        case .int(let number): .number(String(number))
        case .double(let number): .double(number)
        case .stringArray(let texts): .array(texts.map(JSONValue.string))
        }
    }
}

public struct SpanAttribute: Sendable, Equatable {
    public var key: String
    public var value: AttributeValue

    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

/// An ordered attribute list where setting a key again replaces its value.
public struct Attributes: Sendable, Equatable, Sequence {
    public private(set) var list: [SpanAttribute] = []

    public init() {}

    public subscript(key: String) -> AttributeValue? {
        get { list.first(where: { $0.key == key })?.value }
        set {
            if let index = list.firstIndex(where: { $0.key == key }) {
                if let newValue { list[index].value = newValue } else { list.remove(at: index) }
            } else if let newValue {
                list.append(SpanAttribute(key, newValue))
            }
        }
    }

    public var count: Int { list.count }
    public func makeIterator() -> IndexingIterator<[SpanAttribute]> { list.makeIterator() }
}
