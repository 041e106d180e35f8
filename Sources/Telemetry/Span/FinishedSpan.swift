/// Who made a request, as telemetry may show it: hashes and names, never a key.
public struct Caller: Sendable, Equatable {
    public var keyHash: String?
    public var keyAlias: String?
    public var teamID: String?
    public var teamAlias: String?
    public var userID: String?
    public var orgID: String?

    public init(
        keyHash: String? = nil, keyAlias: String? = nil, teamID: String? = nil, teamAlias: String? = nil,
        userID: String? = nil, orgID: String? = nil
    ) {
        self.keyHash = keyHash
        self.keyAlias = keyAlias
        self.teamID = teamID
        self.teamAlias = teamAlias
        self.userID = userID
        self.orgID = orgID
    }
}

/// The normalised facts of one request, each computed once by the stage that knows it.
/// Every sink reads these; none re-derives them.
public struct RequestSummary: Sendable {
    public var requestID: String
    public var operation: String
    /// The model name the client asked for.
    public var requestModel: String?
    /// The configured group that served it; nil when the request never reached routing.
    public var modelGroup: String?
    public var deploymentID: String?
    public var provider: String?
    public var responseModel: String?
    public var caller: Caller
    public var statusCode: Int
    public var errorType: String?
    public var stream: Bool
    public var usage: Usage?
    public var costUSD: Double?
    public var attempts: Int
    public var durationSeconds: Double
    public var timeToFirstChunkSeconds: Double?
    /// Time the gateway itself added: the whole request minus the time spent waiting on upstreams.
    public var overheadSeconds: Double
    /// Time spent waiting on upstreams, over every attempt (retries and fallbacks included).
    public var upstreamSeconds: Double = 0
    /// How many fallback groups deep the last attempt was (0: the requested group served it).
    public var fallbackDepth = 0
    public var clientDisconnected: Bool
    /// `usage` was estimated by the gateway (a stream cut off before the provider reported it).
    public var usageEstimated = false
    /// The end user the client named (OpenAI's `user` field); never a metric label.
    public var endUser: String?
    /// The conversation this request belongs to (`metadata.session_id` or `x-spanway-session-id`).
    public var sessionID: String?
    /// The request's tags (`metadata.tags`, `x-spanway-tags`).
    public var tags: [String]
    /// The client's own `metadata` (LiteLLM's), string values: `trace_name` and `generation_name`
    /// name Langfuse's trace and generation; the rest rides along as metadata.
    public var requestMetadata: [String: String] = [:]
    /// The evaluation run and item the request belongs to (`spanway eval`), when it does.
    public var evaluation: EvaluationLabel?
    /// The error message the client was given (already free of secrets); nil on success.
    public var errorMessage: String?
    /// `scheme://host[:port]` of the upstream that was called last; never a path, query or credential.
    public var apiBase: String?
    /// Prompt and answer, present only when content capture was on for this request; redacted.
    public var content: CapturedContent?
    /// The caller's team keeps its traces to its own destinations: default sinks skip this request
    /// (the ledger and Prometheus still count it).
    public var teamDestinationsOnly: Bool

    public init(requestID: String, operation: String) {
        self.requestID = requestID
        self.operation = operation
        self.caller = Caller()
        self.statusCode = 0
        self.stream = false
        self.attempts = 0
        self.durationSeconds = 0
        self.overheadSeconds = 0
        self.clientDisconnected = false
        self.tags = []
        self.teamDestinationsOnly = false
    }

    public var succeeded: Bool { statusCode >= 200 && statusCode < 300 }
}

/// A request's messages and answer, captured only when asked for, with secrets already redacted.
public struct CapturedContent: Sendable, Equatable {
    /// The request's `messages` (chat) or `input` (embeddings), OpenAI-shaped.
    public var input: JSONValue?
    /// The answer's messages, OpenAI-shaped (`[{"role":"assistant","content":…}]`); nil for embeddings.
    public var output: JSONValue?

    public init(input: JSONValue?, output: JSONValue?) {
        self.input = input
        self.output = output
    }
}

/// The evaluation run and dataset item a request was sent for.
public struct EvaluationLabel: Sendable, Equatable {
    public var runID: String
    public var itemID: String

    public init(runID: String, itemID: String) {
        self.runID = runID
        self.itemID = itemID
    }

    /// A run or item id as an HTTP header value: printable ASCII stays, every other byte of its
    /// UTF-8 (spaces, `%`, non-ASCII) is percent-encoded, so any dataset id travels intact.
    public static func headerValue(_ id: String) -> String {
        var out = ""
        for byte in id.utf8 {
            if (0x21...0x7E).contains(byte) && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// The id a `headerValue` stands for; nil when the value is not printable ASCII, its escapes
    /// are malformed, or the id it gives is not 1 to 128 bytes of UTF-8 without control characters.
    public static func id(fromHeader value: String) -> String? {
        var bytes: [UInt8] = []
        var rest = value.utf8[...]
        while let byte = rest.popFirst() {
            guard (0x21...0x7E).contains(byte) else { return nil }
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = rest.popFirst().flatMap(Self.hexValue), let low = rest.popFirst().flatMap(Self.hexValue)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        guard (1...128).contains(bytes.count), let id = String(validating: bytes, as: UTF8.self),
            !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        return id
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// One request as the sinks see it: its SERVER span, the CLIENT span of every upstream attempt,
/// and the normalised summary. Immutable once built.
public struct FinishedSpan: Sendable {
    /// What the spans stand for. An evaluation's item trace is not a request: only trace sinks
    /// that opt in (`SpanExporter.receivesEvaluations`) see it, never metrics or request logs.
    public enum Kind: Sendable, Equatable {
        case request
        /// `server` is the item's root span, `attempts` the spans of its model and judge calls.
        case evaluation
    }

    public let server: SpanData
    public let attempts: [SpanData]
    public let summary: RequestSummary
    public let kind: Kind
    /// The attempt whose answer the client got: the last one that ended well; nil when none did.
    /// The summary's usage, cost and content belong to it.
    public let answering: SpanData?

    public init(server: SpanData, attempts: [SpanData], summary: RequestSummary, kind: Kind = .request) {
        self.server = server
        self.attempts = attempts
        self.summary = summary
        self.kind = kind
        self.answering = kind == .request ? attempts.last { $0.status == .ok } : nil
    }

    public var spans: [SpanData] { [server] + attempts }
    public var isSampled: Bool { server.traceFlags & 0x01 != 0 }
}
