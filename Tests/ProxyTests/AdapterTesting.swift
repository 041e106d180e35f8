import Foundation
import Telemetry
import Testing

@testable import Proxy

/// The provider fixtures (a copy of the shared reference set, with its manifest and the expected
/// normalised values), read from the source tree.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func json(_ name: String) throws -> JSONValue {
        try JSONParser.parse(bytes(name))
    }
}

/// A chat request from its JSON text, validated as the gateway validates a client's.
func chat(_ text: String) throws -> OpenAIRequest {
    try OpenAIRequest(operation: .chat, bytes: Array(text.utf8))
}

/// A plain streamed chat request: no JSON mode, no reasoning opt-in. For decoders whose
/// translation does not depend on what was asked.
let streamedChat = try! chat(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"q"}]}"#)
