import Foundation
import Store
import Testing

/// `spanway keys` and `spanway spend` against a store, through the real binary.
@Suite struct CLITests {
    func run(_ arguments: [String], database: String) throws -> (status: Int32, out: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashTests.binary)
        process.arguments = arguments
        process.environment = ["DATABASE_URL": "sqlite:\(database)", "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: CrashTests.runnable, "needs .build/debug/spanway, which swift test builds"))
    func keysCreateListRevoke() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-cli-\(UUID().uuidString).db").path
        let created = try run(["keys", "create", "--alias", "ops", "--models", "a,b", "--max-budget", "2.5", "--rpm", "60"], database: database)
        #expect(created.status == 0)
        let key = created.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("sk-"))
        let stored = try #require(try await SQLiteStore(path: database).key(token: KeyDigest(key: key).hex))
        #expect(stored.keyAlias == "ops" && stored.models == ["a", "b"] && stored.maxBudget == 2.5 && stored.rpmLimit == 60)

        let listed = try run(["keys", "list"], database: database)
        #expect(listed.status == 0 && listed.out.contains(stored.token) && listed.out.contains("ops") && !listed.out.contains(key))
        #expect(try run(["keys", "create", "--team", "missing"], database: database).status != 0)

        #expect(try run(["keys", "revoke", key], database: database).out.contains("revoked 1 of 1"))
        #expect(try await SQLiteStore(path: database).key(token: stored.token) == nil)
        #expect(try run(["keys", "revoke", key], database: database).status != 0)
        let report = try run(["spend", "report", "--by", "team", "--since", "7d"], database: database)
        #expect(report.status == 0 && report.out.contains("total"))
    }
}
