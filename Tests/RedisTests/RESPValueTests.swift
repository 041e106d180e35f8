import Redis
import Testing

@Suite struct RESPValueTests {
    @Test func accessors() {
        #expect(RESPValue.bulkString(Array("42".utf8)).int == 42)
        #expect(RESPValue.simpleString("-7").int == -7)
        #expect(RESPValue.integer(3).int == 3)
        #expect(RESPValue.bulkString(Array("0.3".utf8)).int == nil)
        #expect(RESPValue.integer(3).string == nil)
        #expect(RESPValue.bulkString(Array("héllo".utf8)).string == "héllo")
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.null.string == nil)
        #expect(RESPValue.array([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.null.array == nil)
    }
}
