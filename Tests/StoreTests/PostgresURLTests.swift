import Testing

@testable import PostgresStore

/// `DATABASE_URL` parsing for PostgreSQL, as libpq reads URLs
/// (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS).
@Suite struct PostgresURLTests {
    @Test func readsEveryPartAndDefaultsPortAndSSLMode() throws {
        let url = try PostgresURL("postgres://ada:p%40ss:w@db.example.com/spend")
        #expect(url.username == "ada" && url.password == "p@ss:w")
        #expect(url.host == "db.example.com" && url.port == 5432 && url.database == "spend")
        #expect(url.sslMode == .prefer && url.schema == nil)
        #expect(url.description == "ada@db.example.com:5432/spend")
    }

    @Test func readsPortIPv6SSLModeAndSchema() throws {
        let url = try PostgresURL("postgresql://svc@[::1]:6543/db?sslmode=disable&schema=litellm&connect_timeout=5")
        #expect(url.username == "svc" && url.password == nil && url.host == "::1" && url.port == 6543)
        #expect(url.sslMode == .disable && url.schema == "litellm")
        #expect(try PostgresURL("postgres://a@h/d?sslmode=require").sslMode == .require)
        #expect(try PostgresURL("postgres://a@h/d?sslmode=verify-full").sslMode == .verifyFull)
    }

    /// The schema is spliced into SQL as an identifier, so only plain names pass.
    @Test(arguments: ["x;DROP TABLE keys", "a\"b", "", "a-b"])
    func refusesSchemasThatAreNotPlainNames(schema: String) {
        #expect(throws: PostgresStoreError.self) { try PostgresURL("postgres://a@h/d?schema=\(schema)") }
    }
}
