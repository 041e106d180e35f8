import Logging
import Synchronization
import Telemetry
import Testing

@testable import Proxy

/// `json_logs`: every line written is one JSON object with LiteLLM-style fields; secrets given
/// to the handler never appear.
@Suite struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let stored = Mutex<[UInt8]>([])
        var text: String { String(decoding: stored.withLock { $0 }, as: UTF8.self) }
    }

    func logger(_ lines: Lines, secrets: [String] = []) -> Logger {
        var logger = Logger(label: "spanway.test") { label in
            JSONLogHandler(label: label, secrets: secrets) { bytes in lines.stored.withLock { $0.append(contentsOf: bytes) } }
        }
        logger.logLevel = .debug
        return logger
    }

    @Test func eachLineIsAJSONObject() throws {
        let lines = Lines()
        var log = logger(lines)
        log[metadataKey: "request_id"] = "r-1"
        log.info("spanway listening", metadata: ["address": "127.0.0.1:4000", "nested": ["a": "1", "b": ["x", "y"]]])
        log.warning("line with \"quotes\"\nand a newline")
        log.trace("below the level")
        let text = lines.text
        #expect(text.hasSuffix("\n"))
        let parsed = try text.split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
        #expect(parsed.count == 2)
        let first = parsed[0]
        #expect(first["level"] == "info" && first["message"] == "spanway listening" && first["logger"] == "spanway.test")
        #expect(first["metadata"]?["address"] == "127.0.0.1:4000" && first["metadata"]?["request_id"] == "r-1")
        #expect(first["metadata"]?["nested"]?["b"]?.arrayValue == ["x", "y"])
        // RFC 3339, UTC: 2026-11-30T09:00:00.123Z
        let stamp = try #require(first["timestamp"]?.stringValue)
        #expect(stamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(stamp)")
        #expect(parsed[1]["level"] == "warning" && parsed[1]["message"] == "line with \"quotes\"\nand a newline")
    }

    @Test func secretsAreReplaced() throws {
        let lines = Lines()
        let log = logger(lines, secrets: ["sk-master-0123456789", "short"])
        log.error("key sk-master-0123456789 refused", metadata: ["header": "Bearer sk-master-0123456789", "word": "short"])
        let line = try JSONParser.parse(Array(lines.text.utf8.dropLast()))
        #expect(!lines.text.contains("sk-master-0123456789"))
        #expect(line["message"] == "key [redacted] refused" && line["metadata"]?["header"] == "Bearer [redacted]")
        #expect(line["metadata"]?["word"] == "short", "strings under 8 characters are not treated as secrets")
    }
}
