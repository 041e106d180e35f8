import NIOCore
import Redis
import Testing

/// Byte strings from the RESP2 specification (https://redis.io/docs/latest/develop/reference/protocol-spec/).
@Suite struct RESPDecoderTests {
    private func decodeAll(_ text: String, decoder: RESPDecoder = RESPDecoder()) throws -> [RESPValue] {
        try self.decodeAll(Array(text.utf8), decoder: decoder)
    }

    private func decodeAll(_ bytes: [UInt8], decoder: RESPDecoder = RESPDecoder()) throws -> [RESPValue] {
        var buffer = ByteBuffer(bytes: bytes)
        var values: [RESPValue] = []
        while let value = try decoder.decode(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0, "bytes left over")
        return values
    }

    private func expectViolation(_ text: String, decoder: RESPDecoder = RESPDecoder()) {
        var buffer = ByteBuffer(string: text)
        #expect {
            _ = try decoder.decode(&buffer)
        } throws: { error in
            (error as? RedisError)?.kind == .protocolViolation
        }
    }

    @Test func scalars() throws {
        #expect(try self.decodeAll("+OK\r\n") == [.simpleString("OK")])
        #expect(
            try self.decodeAll("-NOSCRIPT No matching script. Please use EVAL.\r\n")
                == [.error("NOSCRIPT No matching script. Please use EVAL.")]
        )
        #expect(try self.decodeAll(":1000\r\n:-5\r\n:0\r\n") == [.integer(1000), .integer(-5), .integer(0)])
        #expect(try self.decodeAll(":9223372036854775807\r\n") == [.integer(Int64.max)])
        #expect(try self.decodeAll(":-9223372036854775808\r\n") == [.integer(Int64.min)])
        #expect(try self.decodeAll("$5\r\nhello\r\n") == [.bulkString(Array("hello".utf8))])
        #expect(try self.decodeAll("$0\r\n\r\n") == [.bulkString([])])
    }

    @Test func nulls() throws {
        #expect(try self.decodeAll("$-1\r\n*-1\r\n") == [.null, .null])
    }

    @Test func bulkStringsAreBinarySafe() throws {
        // Length-prefixed, so CR, LF and NUL inside the payload are data.
        let bytes: [UInt8] = Array("$6\r\n".utf8) + [0, 13, 10, 255, 13, 10] + Array("\r\n".utf8)
        #expect(try self.decodeAll(bytes) == [.bulkString([0, 13, 10, 255, 13, 10])])
    }

    @Test func arrays() throws {
        #expect(try self.decodeAll("*0\r\n") == [.array([])])
        #expect(
            try self.decodeAll("*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n")
                == [.array([.bulkString(Array("hello".utf8)), .bulkString(Array("world".utf8))])]
        )
        #expect(
            try self.decodeAll("*3\r\n$5\r\nhello\r\n$-1\r\n$5\r\nworld\r\n")
                == [.array([.bulkString(Array("hello".utf8)), .null, .bulkString(Array("world".utf8))])]
        )
        #expect(
            try self.decodeAll("*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n")
                == [
                    .array([.array([.integer(1), .integer(2), .integer(3)]), .array([.simpleString("Hello"), .error("World")])])
                ]
        )
    }

    @Test func framesSplitAtEveryByteDecodeTheSame() throws {
        let text = "*3\r\n$3\r\nfoo\r\n*2\r\n:42\r\n$-1\r\n-ERR bad\r\n+OK\r\n$4\r\nab\r\n\r\n"
        let expected: [RESPValue] = [
            .array([.bulkString(Array("foo".utf8)), .array([.integer(42), .null]), .error("ERR bad")]),
            .simpleString("OK"),
            .bulkString(Array("ab\r\n".utf8)),
        ]
        let bytes = Array(text.utf8)
        let decoder = RESPDecoder()
        // Every split point: the prefix yields only whole replies and leaves partial ones unread.
        for split in 0...bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<split])
            var values: [RESPValue] = []
            while let value = try decoder.decode(&buffer) { values.append(value) }
            buffer.writeBytes(bytes[split...])
            while let value = try decoder.decode(&buffer) { values.append(value) }
            #expect(values == expected, "split at \(split)")
            #expect(buffer.readableBytes == 0)
        }
        // Byte by byte.
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for byte in bytes {
            buffer.writeInteger(byte)
            while let value = try decoder.decode(&buffer) { values.append(value) }
        }
        #expect(values == expected)
    }

    @Test func incompleteInputIsLeftUnread() throws {
        for partial in ["", "*", "*2\r\n", "*2\r\n:1\r\n", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r", "+OK\r"] {
            var buffer = ByteBuffer(string: partial)
            #expect(try RESPDecoder().decode(&buffer) == nil, "\(partial.debugDescription)")
            #expect(buffer.readableBytes == partial.utf8.count)
        }
    }

    @Test func negativeLengthsOtherThanMinusOneAreRefused() {
        self.expectViolation("$-2\r\n")
        self.expectViolation("*-2\r\n")
        self.expectViolation("$-100\r\nxx\r\n")
    }

    @Test func hugeLengthsAreRefusedBeforeReadingThePayload() throws {
        // 512 MiB is Redis's own proto-max-bulk-len; one byte more is refused at the header.
        self.expectViolation("$536870913\r\n")
        self.expectViolation("$99999999999999999999\r\n")
        self.expectViolation("*3000000000\r\n")
        // At the limit the header is accepted and the decoder waits for the payload.
        var atLimit = ByteBuffer(string: "$536870912\r\nabc")
        #expect(try RESPDecoder().decode(&atLimit) == nil)
        // A huge announced array count with little data waits for more instead of allocating.
        var bigArray = ByteBuffer(string: "*2147483647\r\n:1\r\n")
        #expect(try RESPDecoder().decode(&bigArray) == nil)
    }

    @Test func nestingDeeperThan64IsRefused() throws {
        let deepest = String(repeating: "*1\r\n", count: 64) + ":1\r\n"
        var value = RESPValue.integer(1)
        for _ in 0..<64 { value = .array([value]) }
        #expect(try self.decodeAll(deepest) == [value])
        self.expectViolation(String(repeating: "*1\r\n", count: 65) + ":1\r\n")
        // Refused as soon as the 65th header arrives, without the rest of the frame.
        self.expectViolation(String(repeating: "*1\r\n", count: 65))
        self.expectViolation(String(repeating: "*1\r\n", count: 100_000))
    }

    @Test func garbageIsRefused() {
        self.expectViolation("?what\r\n")
        self.expectViolation("HTTP/1.1 400 Bad Request\r\n")
        self.expectViolation("_\r\n")  // RESP3 null: never sent on a RESP2 connection
        self.expectViolation("%1\r\n+a\r\n+b\r\n")  // RESP3 map
        self.expectViolation(":12a\r\n")
        self.expectViolation(":\r\n")
        self.expectViolation(":+1\r\n")
        self.expectViolation(":9223372036854775808\r\n")
        self.expectViolation("$3\r\nfoo\n\n")
        self.expectViolation("$3\r\nfooXY")
        self.expectViolation("+OK\rX")
        self.expectViolation("*1\r\n?\r\n")
    }

    @Test func overlongLinesAreRefused() throws {
        let decoder = RESPDecoder(maximumLineLength: 16)
        self.expectViolation("+" + String(repeating: "a", count: 40), decoder: decoder)
        var ok = ByteBuffer(string: "+" + String(repeating: "a", count: 16) + "\r\n")
        #expect(try decoder.decode(&ok) == .simpleString(String(repeating: "a", count: 16)))
    }
}
