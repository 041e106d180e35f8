import NIOCore
import Telemetry
import Testing

@testable import Proxy

extension ProviderAdapter {
    /// The error `request(for:deployment:)` refuses `text` with, or nil when it accepts it.
    func refusal(_ text: String, deployment: DeploymentConfig, dropParams: Bool = false) throws -> GatewayError? {
        var deployment = deployment
        deployment.dropParams = dropParams
        let request = try OpenAIRequest(operation: .chat, bytes: Array(text.utf8))
        do throws(GatewayError) {
            _ = try self.request(for: request, deployment: deployment)
            return nil
        } catch {
            return error
        }
    }
}

/// What a client assembles from a translated stream: text, tool calls, finish reason, usage.
struct StreamTranscript {
    struct ToolCall {
        var id: String?
        var name: String?
        var arguments = ""
    }

    var content = ""
    var reasoning = ""
    var toolCalls: [Int: ToolCall] = [:]
    var finishReason: String?
    var usage: JSONValue?
    var errors: [JSONValue] = []
    var sawDone = false
    /// Chunks that came after `.done` (there must be none).
    var afterDone = 0

    /// `bytes` fed one byte at a time, so every possible read boundary is crossed in one pass.
    static func chunksBytewise(_ bytes: [UInt8], with decoder: any ChatStreamDecoder) throws -> [StreamChunk] {
        var decoder = decoder
        var chunks: [StreamChunk] = []
        for byte in bytes { chunks += try decoder.feed(ByteBuffer(bytes: [byte])) }
        return chunks + (try decoder.finish())
    }

    static func decodeBytewise(_ bytes: [UInt8], with decoder: any ChatStreamDecoder) throws -> StreamTranscript {
        try StreamTranscript(chunksBytewise(bytes, with: decoder))
    }

    init(_ chunks: [StreamChunk]) throws {
        for chunk in chunks {
            guard case .chunk(let object, let raw) = chunk else {
                sawDone = true
                continue
            }
            if sawDone { afterDone += 1 }
            // `raw` is what reaches the client: it must say what `object` says.
            #expect(try JSONParser.parse(raw) == .object(object), "raw text and object disagree")
            if let error = object["error"] { errors.append(error) }
            if let usage = object["usage"], usage != .null { self.usage = usage }
            for choice in object["choices"]?.arrayValue ?? [] {
                content += choice["delta"]?["content"]?.stringValue ?? ""
                reasoning += choice["delta"]?["reasoning_content"]?.stringValue ?? ""
                for call in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
                    let index = try #require(call["index"]?.intValue)
                    var entry = toolCalls[index] ?? ToolCall()
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
        #expect(sawDone && afterDone == 0, "one [DONE], last", sourceLocation: sourceLocation)
        #expect(errors.isEmpty, "\(errors)", sourceLocation: sourceLocation)
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
