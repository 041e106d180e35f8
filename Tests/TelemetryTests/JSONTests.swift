import Testing

@testable import Telemetry

@Suite struct JSONTests {
    @Test func roundTripKeepsKeyOrderAndNumberText() throws {
        let text = #"{"z":1,"a":[1.50,-2e-3,true,null],"m":{"k":"v\n\"q\"","u":"naïve ☕"},"big":12345678901234567890}"#
        let value = try JSONParser.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "m", "big"])
        #expect(value.encodedString() == text)
    }

    @Test func unicodeEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""caf\u00e9 \ud83d\ude00 \/""#)
        #expect(value.stringValue == "café 😀 /")
    }

    @Test(arguments: [
        (#"{"a":1"#, "unexpected end of input in object"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"[1,]"#, "unexpected character"),
        (#"{"a":01}"#, "expected ',' or '}'"),
        ("\"ab\u{01}\"", "control character in string"),
        ("[1] x", "unexpected trailing characters"),
        ("tru", "unexpected end of input"),
    ])
    func errorsSayWhatAndWhere(input: String, reason: String) {
        do {
            _ = try JSONParser.parse(input)
            Issue.record("\(input) parsed")
        } catch {
            #expect(error.reason == reason, "\(input): \(error)")
            #expect(error.offset >= 0 && error.offset <= input.utf8.count)
        }
    }

    @Test func hostileNestingIsRefusedNotCrashed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func invalidUTF8IsRefused() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test func typedAccessors() throws {
        let value = try JSONParser.parse(#"{"i":3,"f":3.0,"x":3.5,"s":"t","b":false}"#)
        #expect(value["i"]?.intValue == 3)
        #expect(value["f"]?.intValue == 3)
        #expect(value["x"]?.intValue == nil)
        #expect(value["x"]?.doubleValue == 3.5)
        #expect(value["s"]?.typeName == "string")
        #expect(value["b"]?.boolValue == false)
    }

    @Test func objectSubscriptSetReplacesInPlaceAndRemoves() {
        var object: JSONObject = ["a": .int(1), "b": .int(2)]
        object["a"] = "x"
        object["c"] = true
        object["b"] = nil
        #expect(JSONValue.object(object).encodedString() == #"{"a":"x","c":true}"#)
    }

    @Test func controlCharactersAreEscapedOnOutput() {
        #expect(JSONValue.string("a\u{01}\t\"").encodedString() == #""a\u0001\t\"""#)
    }
}
