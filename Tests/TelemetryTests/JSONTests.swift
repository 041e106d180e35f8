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

    /// A document may not build more than `maxElements` array elements plus object members,
    /// counted over the whole tree, so a small body cannot become a huge tree.
    @Test func elementCountIsBounded() throws {
        let limits = JSONParser.Limits(maxElements: 3)
        #expect(try JSONParser.parse("[1,[],{}]", limits: limits).arrayValue?.count == 3)
        for text in ["[1,2,3,4]", #"{"a":1,"b":2,"c":3,"d":4}"#, "[[1,2],[3]]", #"[{"a":1},{"b":2}]"#] {
            do {
                _ = try JSONParser.parse(text, limits: limits)
                Issue.record("\(text) parsed under \(limits)")
            } catch {
                #expect(error.limitExceeded && error.reason == "more than 3 array elements and object members", "\(text)")
            }
        }
    }

    /// `[[0],[0],...]` costs tens of heap bytes per input byte: the default refuses it past a
    /// million elements, long before the tree reaches hundreds of megabytes.
    @Test func defaultLimitRefusesAHugeTree() {
        #expect(JSONParser.Limits.default.maxElements == 1_000_000)
        let text = "[" + Array(repeating: "[0]", count: 500_001).joined(separator: ",") + "]"
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    /// The bound is on the decoded string, keys included: six input bytes of `\u0061` are one byte.
    @Test func stringLengthIsBounded() throws {
        let limits = JSONParser.Limits(maxStringBytes: 4)
        #expect(try JSONParser.parse(#""abcd""#, limits: limits).stringValue == "abcd")
        #expect(
            try JSONParser.parse(#""\u0061\u0062\n\u00e9""#, limits: JSONParser.Limits(maxStringBytes: 5)).stringValue == "ab\né")
        for text in [#""abcde""#, #""ab\ncd""#, #"{"abcde":1}"#] {
            do {
                _ = try JSONParser.parse(text, limits: limits)
                Issue.record("\(text) parsed under \(limits)")
            } catch {
                #expect(error.limitExceeded && error.reason == "a string longer than 4 bytes", "\(text)")
            }
        }
    }

    @Test func depthIsAParameter() throws {
        let limits = JSONParser.Limits(maxDepth: 3)
        #expect(try JSONParser.parse("[[1]]", limits: limits) == .array([.array([.int(1)])]))
        #expect(throws: JSONParseError(offset: 3, reason: "nesting deeper than 3", limitExceeded: true)) {
            try JSONParser.parse("[[[1]]]", limits: limits)
        }
    }

    /// A high surrogate not followed by a low one becomes U+FFFD alone: the escape after it is
    /// still read (RFC 8259 §8.2 leaves lone surrogates to the parser; none may be lost).
    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSONParser.parse(#""\ud800\u0041""#).stringValue == "\u{FFFD}A")
        #expect(try JSONParser.parse(#""\ud800\ud800\udc00""#).stringValue == "\u{FFFD}\u{10000}")
        #expect(try JSONParser.parse(#""\udc00x\ud800""#).stringValue == "\u{FFFD}x\u{FFFD}")
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
