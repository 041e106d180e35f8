import NIOCore
import Telemetry
import Testing

@testable import Proxy

/// What a client assembles from a translated stream: text, tool calls, finish reason, usage.
struct StreamTranscript {
    var content = ""
    var toolCalls: [Int: (id: String?, name: String?, arguments: String)] = [:]
    var finishReason: String?
    var usage: JSONValue?
    var errors: [JSONValue] = []
    var sawDone = false
    var chunkCount = 0

    /// Decodes `bytes` fed one byte at a time, so every possible read boundary is crossed.
    static func decodeBytewise(_ bytes: [UInt8], with decoder: any ChatStreamDecoder) throws -> StreamTranscript {
        var decoder = decoder
        var transcript = StreamTranscript()
        for byte in bytes { try transcript.add(decoder.feed(ByteBuffer(bytes: [byte]))) }
        try transcript.add(decoder.finish())
        return transcript
    }

    mutating func add(_ chunks: [StreamChunk]) throws {
        for chunk in chunks {
            guard case .chunk(let object, let raw) = chunk else {
                sawDone = true
                continue
            }
            chunkCount += 1
            #expect(try JSONParser.parse(raw) == .object(object), "raw text and object disagree")
            if let error = object["error"] { errors.append(error) }
            if let usage = object["usage"], usage != .null { self.usage = usage }
            for choice in object["choices"]?.arrayValue ?? [] {
                content += choice["delta"]?["content"]?.stringValue ?? ""
                for call in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
                    let index = call["index"]?.intValue ?? -1
                    var entry = toolCalls[index] ?? (nil, nil, "")
                    entry.id = entry.id ?? call["id"]?.stringValue
                    entry.name = entry.name ?? call["function"]?["name"]?.stringValue
                    entry.arguments += call["function"]?["arguments"]?.stringValue ?? ""
                    toolCalls[index] = entry
                }
                if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
            }
        }
    }

    /// Checks the transcript against an entry of `expected/scenario-b.normalized.json`.
    func expectMatches(_ expected: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(sawDone, "no [DONE]", sourceLocation: sourceLocation)
        #expect(content == expected["content"]?.stringValue, sourceLocation: sourceLocation)
        let wanted = expected["tool_calls"]?.arrayValue ?? []
        #expect(toolCalls.keys.sorted() == Array(0..<wanted.count), "tool calls numbered from 0", sourceLocation: sourceLocation)
        for (index, call) in wanted.enumerated() {
            #expect(toolCalls[index]?.name == call["name"]?.stringValue, sourceLocation: sourceLocation)
            #expect(toolCalls[index]?.id?.isEmpty == false, "tool call has an id", sourceLocation: sourceLocation)
            let arguments = try JSONParser.parse(Array((toolCalls[index]?.arguments ?? "").utf8))
            #expect(arguments == call["arguments_json"], sourceLocation: sourceLocation)
        }
        #expect(finishReason == expected["finish_reason"]?.stringValue, sourceLocation: sourceLocation)
        for field in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            #expect(usage?[field]?.intValue == expected["usage"]?[field]?.intValue, "\(field)", sourceLocation: sourceLocation)
        }
    }
}
