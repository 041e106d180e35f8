import HTTPTypes

extension HTTPFields {
    /// The first value of a header whose lower-case name is `name`.
    func value(_ name: String) -> String? {
        first { $0.name.canonicalName == name }?.value
    }
}
