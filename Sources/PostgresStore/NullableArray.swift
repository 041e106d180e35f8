import PostgresNIO

/// A one-dimensional PostgreSQL array whose elements may be NULL, in the binary array format
/// (https://github.com/postgres/postgres/blob/master/src/backend/utils/adt/arrayfuncs.c, `array_recv`):
/// postgres-nio encodes arrays of non-optional elements only, and a spend row's optional columns
/// are bound as one array each for `unnest`.
struct NullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable {
    var elements: [Element?]

    init(_ elements: [Element?]) {
        self.elements = elements
    }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // Dimensions (0 for an empty array), whether any element is NULL, the element type.
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        // The one dimension's length and lower bound.
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            if let element {
                // Each element is its byte length, then its bytes.
                let start = buffer.writerIndex
                buffer.writeInteger(0, as: Int32.self)
                element.encode(into: &buffer, context: context)
                buffer.setInteger(Int32(buffer.writerIndex - start - 4), at: start)
            } else {
                buffer.writeInteger(-1, as: Int32.self)
            }
        }
    }
}
