extension FinishedSpan {
    /// The model the gateway asked its upstream for: the answering attempt's, else the last
    /// attempt's; nil when no upstream was called. Price lists name this model, not the group or
    /// the alias the client used.
    public var upstreamModel: String? {
        guard case .string(let model) = (answering ?? attempts.last)?.attributes[AttributeName.upstreamModel] else {
            return nil
        }
        return model
    }
}
