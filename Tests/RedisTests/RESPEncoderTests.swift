import NIOCore
import Redis
import Testing

@Suite struct RESPEncoderTests {
    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "key", "välue", ""], into: &buffer)
        // "ä" is two bytes in UTF-8, so the length is 6.
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvälue\r\n$0\r\n\r\n")
    }

    @Test func binaryArgumentsAreLengthPrefixed() {
        var buffer = ByteBuffer()
        RESPEncoder.encode([Array("GET".utf8), [13, 10, 0]], into: &buffer)
        #expect(Array(buffer.readableBytesView) == Array("*2\r\n$3\r\nGET\r\n$3\r\n".utf8) + [13, 10, 0, 13, 10])
    }

    @Test func encodedCommandDecodesBack() throws {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["EVALSHA", "abc", "1", "k"], into: &buffer)
        let expected = RESPValue.array(["EVALSHA", "abc", "1", "k"].map { .bulkString(Array($0.utf8)) })
        #expect(try RESPDecoder().decode(&buffer) == expected)
    }

    @Test func scriptSHA1IsOfTheExactBytes() {
        // Values from `sha1sum` of the same bytes (also what SCRIPT LOAD returns).
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        #expect(RedisScript("return 1\n").sha1 == "48df9b519ca145c867b895f740b37bd891e887af")
    }
}
