/// A set of AWS credentials: a long-term key pair, or temporary (STS) credentials with their
/// session token. `description` never shows the secret or the token, so logging one is harmless.
struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?

    var description: String {
        "AWSCredentials(\(accessKeyID), secret [redacted]\(sessionToken == nil ? "" : ", session token [redacted]"))"
    }

    var debugDescription: String { description }

    /// The values that must never leave the gateway.
    var secrets: [String] { [secretAccessKey] + (sessionToken.map { [$0] } ?? []) }
}

/// What the process environment says about AWS, read once when the adapter is made (LiteLLM's
/// order: its own `AWS_REGION_NAME` first, then the SDKs' `AWS_REGION` and `AWS_DEFAULT_REGION`).
struct AWSEnvironment: Sendable, Equatable {
    var credentials: AWSCredentials?
    var region: String?

    init(_ environment: [String: String]) {
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        if let id = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        }
        region = value("AWS_REGION_NAME") ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION")
    }

    /// A deployment's own `aws_access_key_id`/`aws_secret_access_key` (+ `aws_session_token`) win
    /// over the environment. The configured set is taken whole: a key id from the config is never
    /// paired with a secret from the environment.
    func credentials(for deployment: DeploymentConfig) -> AWSCredentials? {
        let params = deployment.providerParams
        if let id = params["aws_access_key_id"], !id.isEmpty {
            guard let secret = params["aws_secret_access_key"], !secret.isEmpty else { return nil }
            let token = params["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
        }
        return credentials
    }

    func region(for deployment: DeploymentConfig) -> String? {
        if let region = deployment.providerParams["aws_region_name"], !region.isEmpty { return region }
        return region
    }
}
