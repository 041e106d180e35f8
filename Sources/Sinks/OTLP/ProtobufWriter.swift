/// Protocol Buffers wire encoding, just what OTLP's trace messages need. Written by hand because
/// swift-protobuf's generic message path cost ~31 µs per request (two spans) in the hot-path
/// benchmark, almost all of it runtime generic-metadata lookups, allocation and copy-on-write of
/// nested message storage; this writer appends to one buffer. Tests decode its output with types
/// generated from the `.proto` files (the `OTLPProto` test-support target), and a golden vector
/// encoded by the reference implementation pins the bytes.
struct ProtobufWriter {
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ field: Int, _ wire: WireType) {
        varint(UInt64(field) << 3 | wire.rawValue)
    }

    mutating func varintField(_ field: Int, _ value: UInt64) {
        tag(field, .varint)
        varint(value)
    }

    mutating func fixed64Field(_ field: Int, _ value: UInt64) {
        tag(field, .fixed64)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func fixed32Field(_ field: Int, _ value: UInt32) {
        tag(field, .fixed32)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func stringField(_ field: Int, _ value: String) {
        tag(field, .lengthDelimited)
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A nested message: its length is known only once it is written, so the prefix is inserted
    /// after (one move of the message's own bytes).
    mutating func message(_ field: Int, _ write: (inout ProtobufWriter) -> Void) {
        tag(field, .lengthDelimited)
        let start = bytes.count
        write(&self)
        let length = UInt64(bytes.count - start)
        if length < 0x80 {
            bytes.insert(UInt8(length), at: start)
        } else {
            var prefix = ProtobufWriter()
            prefix.varint(length)
            bytes.insert(contentsOf: prefix.bytes, at: start)
        }
    }
}
