/// Checks a model name that becomes part of an upstream URL's path (Azure's deployment, Gemini's
/// and Vertex's model, Bedrock's model id). On a wildcard route (`azure/*`) the name is the
/// client's: `azure/..` would otherwise reach `/openai/deployments/../chat/completions`, a path
/// the upstream (or a proxy in front of it) normalises to somewhere else. Percent-encoding the
/// name does not help, since `.` and `..` need no encoding and a decoding hop undoes the rest.
enum ModelPathSegment {
    /// Refuses, as a 400 naming `model`: an empty name, a `.` or `..` segment, percent-escapes,
    /// `\`, `?`, `#`, control characters and (unless `allowSlash`, for Bedrock ARNs, which are
    /// encoded into one segment) `/`.
    static func check(_ model: String, allowSlash: Bool = false) throws(GatewayError) {
        guard isSafe(model, allowSlash: allowSlash) else {
            throw .invalidRequest(
                "'model' cannot be used in the provider's URL: it must not be empty, be or contain a '.' or '..' segment, or contain %, \\, ?, #\(allowSlash ? "" : ", /") or control characters.",
                param: "model", code: "invalid_model_name")
        }
    }

    static func isSafe(_ model: String, allowSlash: Bool) -> Bool {
        guard !model.isEmpty else { return false }
        for scalar in model.unicodeScalars {
            switch scalar {
            case "%", "\\", "?", "#": return false
            case "/" where !allowSlash: return false
            default: if scalar.value < 0x20 || scalar.value == 0x7F { return false }
            }
        }
        return !model.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." || $0.isEmpty }
    }
}
