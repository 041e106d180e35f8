import Foundation
import Logging
import Synchronization
import Telemetry

/// `litellm_settings.json_logs`: one JSON object per line, `{"timestamp","level","logger","message","metadata"}`,
/// for log collectors that parse lines. The known secrets (master key, provider keys) are
/// replaced wherever they appear, as a last guard: nothing should log them in the first place.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let label: String
    private let secrets: [String]
    private let learned: LearnedSecrets?
    private let write: @Sendable ([UInt8]) -> Void

    /// `write` gets each line, newline included; by default standard output, one `write()` per
    /// line so that lines from concurrent tasks never interleave.
    /// `learned`: secrets known only once the gateway runs (the keys of models added at run time).
    public init(
        label: String, secrets: [String] = [], learned: LearnedSecrets? = nil,
        metadataProvider: Logger.MetadataProvider? = nil,
        write: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.standardOutput
    ) {
        self.label = label
        // Short strings would blank out ordinary words.
        self.secrets = secrets.filter { $0.count >= 8 }
        self.learned = learned
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        let object: JSONObject = [
            "timestamp": .string(Self.timestamp(Date())),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "message": .string(redact(event.message.description)),
            "metadata": .object(JSONObject(merged.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })),
        ]
        var line = JSONValue.object(object).encoded()
        line.append(UInt8(ascii: "\n"))
        write(line)
    }

    private func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(redact(text))
        case .stringConvertible(let convertible): .string(redact(convertible.description))
        case .array(let values): .array(values.map(json))
        case .dictionary(let entries): .object(JSONObject(entries.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }

    private func redact(_ text: String) -> String {
        var result = text
        for secret in secrets + (learned?.all ?? []) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return result
    }

    /// RFC 3339 in UTC with milliseconds, as log collectors expect.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    @Sendable public static func standardOutput(_ line: [UInt8]) {
        // Never the throwing-by-trap `write(_:)`: a closed or full stdout must not stop the gateway.
        try? FileHandle.standardOutput.write(contentsOf: Data(line))
    }
}

/// Secrets the log handlers learn after they were made, shared by every handler of one
/// `LoggingSystem.bootstrap`: the gateway replaces them whenever the models it serves change.
public final class LearnedSecrets: Sendable {
    private let list = Mutex<[String]>([])

    public init() {}

    public func replace(with secrets: [String]) {
        // Short strings would blank out ordinary words.
        let kept = secrets.filter { $0.count >= 8 }
        list.withLock { $0 = kept }
    }

    var all: [String] { list.withLock { $0 } }
}
