extension GatewayError {
    /// The header LiteLLM answers errors with: the timeout, in seconds, the request ran under.
    static let timeoutHeader = "x-litellm-timeout"

    /// LiteLLM's `Timeout` (a 408 whose message clients and alert rules match on), with the
    /// timeout used in `x-litellm-timeout`.
    static func upstreamTimeout(limit: Duration, taken: Duration) -> GatewayError {
        let value = RequestTimeouts.seconds(limit)
        return GatewayError(
            .timeout,
            "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed out. - timeout value=\(value), "
                + "time taken=\(RequestTimeouts.seconds(taken)) seconds",
            detail: Detail(type: "invalid_request_error", code: "timeout"), label: "timeout",
            headers: [timeoutHeader: value])
    }
}
