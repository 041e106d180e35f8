import HTTPTypes
import Testing

@testable import Proxy

@Suite struct MetricsAccessTests {
    func headers(_ bearer: String?) -> HTTPFields {
        var fields = HTTPFields()
        if let bearer { fields[.authorization] = "Bearer \(bearer)" }
        return fields
    }

    func refused(_ access: MetricsAccess, _ bearer: String?) -> GatewayError? {
        do {
            try access.check(headers(bearer))
            return nil
        } catch {
            return error
        }
    }

    @Test func openByDefaultLikeExistingScrapersExpect() {
        let access = MetricsAccess(requireAuth: false, masterKey: "sk-master-123", scraperToken: nil)
        #expect(!access.required)
        #expect(refused(access, nil) == nil)
    }

    @Test func requireAuthTakesTheMasterKeyOnly() throws {
        let access = MetricsAccess(requireAuth: true, masterKey: "sk-master-123", scraperToken: nil)
        #expect(refused(access, "sk-master-123") == nil)
        let error = try #require(refused(access, "sk-master-12"))
        #expect(error.status == 401 && error.type == "authentication_error" && error.param == "authorization")
        #expect(error.message.hasPrefix("Unauthorized access to metrics endpoint: "))
        #expect(!error.message.contains("sk-master-12"))
        #expect(refused(access, nil)?.status == 401)
        var apiKey = HTTPFields()
        apiKey[HTTPField.Name("x-api-key")!] = "sk-master-123"
        #expect((try? access.check(apiKey)) != nil)
    }

    @Test func aScraperTokenClosesTheEndpointEvenWithoutTheSetting() {
        let access = MetricsAccess(requireAuth: false, masterKey: "sk-master-123", scraperToken: "scrape-me-456")
        #expect(access.required)
        #expect(refused(access, "scrape-me-456") == nil)
        #expect(refused(access, "sk-master-123") == nil)
        #expect(refused(access, nil)?.status == 401)
        #expect(refused(access, "scrape-me-45")?.status == 401)
    }

    @Test func withNothingToCompareEveryScrapeIsRefused() {
        let access = MetricsAccess(requireAuth: true, masterKey: nil, scraperToken: "")
        #expect(refused(access, "") != nil && refused(access, "anything") != nil)
    }

    @Test func readFromTheConfig() throws {
        let loader = ConfigLoader(environment: ["SPANWAY_METRICS_TOKEN": "tok-1"], knownProviders: ["mock"])
        let config = try loader.load(
            yaml: "general_settings: {master_key: sk-m, require_auth_for_metrics_endpoint: true}\nmodel_list: []")
        #expect(config.requireAuthForMetrics && config.metricsToken == "tok-1")
        let access = MetricsAccess(config)
        #expect(refused(access, "tok-1") == nil && refused(access, "sk-m") == nil && refused(access, "x") != nil)
    }
}
