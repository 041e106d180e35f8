import Telemetry

/// OpenAI parameters a provider cannot honour (providers.md §1.2): refused with a 400 naming the
/// parameter, or removed when the deployment has `drop_params` (LiteLLM's switch). `n > 1` is
/// refused even then, since dropping it would change how many answers the client gets.
struct UnsupportedParams {
    let provider: String
    let names: [String]
    var allowsSeveralChoices = false

    func apply(to body: JSONObject, dropping: Bool) throws(GatewayError) -> JSONObject {
        var body = body
        if !allowsSeveralChoices, let n = body["n"]?.intValue, n > 1 {
            throw .invalidRequest("'n' greater than 1 is not supported by \(provider) models.", param: "n")
        }
        for name in names where body[name] != nil && body[name] != .null {
            guard dropping else {
                throw .invalidRequest(
                    "'\(name)' is not supported by \(provider) models (set drop_params: true to drop it).", param: name)
            }
            body[name] = nil
        }
        return body
    }
}
