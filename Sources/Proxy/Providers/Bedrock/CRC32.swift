/// CRC-32 as zlib computes it (IEEE 802.3: reflected polynomial `0xEDB88320`, initial and final
/// XOR `0xFFFFFFFF`), which AWS event-stream frames carry twice. Written here because neither
/// swift-nio nor swift-crypto exposes one, and linking zlib for eight lines is not worth it.
enum CRC32 {
    static let table: [UInt32] = (UInt32(0)..<256).map { n in
        var c = n
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
