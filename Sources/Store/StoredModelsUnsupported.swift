/// This store cannot keep models added through the admin API.
public struct StoredModelsUnsupported: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "this store does not keep models" }
}
