import HTTPTypes
import Telemetry

extension AdminInput {
    /// As `answer`, but a virtual key whose team is `teamID` is let through too: LiteLLM lets a
    /// team member's key read its own team's `/team/info`, and no other team's.
    static func answer(
        _ authenticator: Authenticator, _ headers: HTTPFields, allowingKeyOfTeam teamID: String?,
        _ work: () async throws(GatewayError) -> JSONValue
    ) async -> GatewayReply {
        do throws(GatewayError) {
            let principal = try await authenticator.authenticate(headers, route: "/team/info")
            if let key = principal.key {
                guard let teamID, key.teamID == teamID else {
                    throw .permissionDenied("A virtual key may read only its own team's info.", param: "team_id")
                }
            } else {
                // Not a virtual key: the admin API's rules (closed when no master key is set).
                _ = try await authenticator.authenticateAdmin(headers)
            }
            let value = try await work()
            return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(value.encoded()))
        } catch {
            return GatewayReply(error)
        }
    }
}
