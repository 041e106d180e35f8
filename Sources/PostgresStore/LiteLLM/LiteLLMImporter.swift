import Foundation
import Logging
import Store
import Telemetry

/// Reads a LiteLLM proxy database into a Spanway store: budget tiers, organisations, teams (with
/// their members), users, virtual keys, end users and the daily spend rollups, so existing keys keep working without being
/// re-issued (LiteLLM's `token` is the SHA-256 hex of the whole raw key, as Spanway's is) and
/// budgets keep their spend.
///
/// Running it again changes nothing: each record is written with LiteLLM's values rather than
/// added to, and each rollup row is set, not incremented. A record that already exists with
/// other values takes LiteLLM's for every field LiteLLM has, spend aside: spend is never
/// lowered, so a record keeps the larger of its spend and LiteLLM's (what it spent through
/// Spanway since an earlier import is not erased), and a rollup row the larger of each figure.
/// Fields only Spanway has (say a key's `allow_evaluations`) are left as they were. The report
/// names the replaced records and counts every LiteLLM column that could not be carried over.
public struct LiteLLMImporter {
    let source: LiteLLMDatabase
    let store: any GatewayStore
    /// Stands in for a missing `created_at` on records seen for the first time.
    let now: Double
    var report = LiteLLMImportReport()
    var tables: Set<String> = []
    /// `LiteLLM_BudgetTable` by `budget_id`.
    var budgets: [String: JSONObject] = [:]
    /// The ids of LiteLLM's teams and users, to say which keys name one that does not exist.
    var teamIDs = Set<String>()
    var userIDs = Set<String>()

    public init(source: LiteLLMDatabase, store: any GatewayStore, now: Double = Date().timeIntervalSince1970) {
        self.source = source
        self.store = store
        self.now = now
    }

    /// Imports everything and returns what it did. Errors are `PostgresStoreError`s whose text
    /// names no password and no stored value.
    public mutating func run() async throws(PostgresStoreError) -> LiteLLMImportReport {
        do {
            return try await importAll()
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw .unexpected("the import stopped: \(PostgresFailure.describe(error))")
        }
    }

    private mutating func importAll() async throws -> LiteLLMImportReport {
        tables = try await source.tables()
        guard tables.contains(LiteLLMTables.keys) else {
            throw PostgresStoreError.unexpected(
                "\(source.url) has no \(LiteLLMTables.keys) table: is it a LiteLLM proxy database (and the schema right)?")
        }
        try await importBudgets()
        try await importOrganizations()
        try await importTeams()
        try await importUsers()
        try await importKeys()
        try await importEndUsers()
        try await importDailySpend()
        try await noteSkippedTables()
        return report
    }

    /// The table's rows, or none when this LiteLLM version has no such table.
    func rows(_ table: String) async throws -> [JSONObject] {
        tables.contains(table) ? try await source.rows(of: table) : []
    }

    /// Writes `record` unless it equals what is stored, and counts what happened. An existing
    /// record keeps its spend where that is larger than LiteLLM's: spend is never lowered.
    mutating func save<Record: LimitedRecord>(_ record: Record, existing: Record?, kind: String) async throws {
        var record = record
        if let existing {
            record.limits.spend = max(existing.limits.spend, record.limits.spend)
            if existing == record {
                report.record(kind) { $0.unchanged += 1 }
            } else {
                try await store.update(record)
                report.record(kind) {
                    $0.updated += 1
                    $0.updatedIDs.append(record.recordID)
                }
            }
        } else {
            try await store.insert(record)
            report.record(kind) { $0.created += 1 }
        }
    }

    /// Tables that hold data this import leaves alone, said rather than skipped silently.
    mutating func noteSkippedTables() async throws {
        if tables.contains(LiteLLMTables.proxyModels) {
            let count = try await source.count(of: LiteLLMTables.proxyModels)
            if count > 0 {
                report.note(
                    "\(LiteLLMTables.proxyModels): \(count) model\(count == 1 ? "" : "s") added through LiteLLM's UI or /model/new \(count == 1 ? "is" : "are") not imported "
                        + "(their litellm_params are encrypted with LITELLM_SALT_KEY); add them to the config's model_list "
                        + "or through /model/new")
            }
        }
        for (table, why) in LiteLLMTables.notImported where tables.contains(table) {
            let count = try await source.count(of: table)
            if count > 0 { report.note("\(table): \(count) row\(count == 1 ? "" : "s") not imported (\(why))") }
        }
        if tables.contains(LiteLLMTables.spendLogs) {
            let count = try await source.count(of: LiteLLMTables.spendLogs)
            if count > 0 {
                report.note(
                    "\(LiteLLMTables.spendLogs): \(count) per-request row\(count == 1 ? " is" : "s are") not imported; the budgets' spend and the "
                        + "daily rollups carry their totals")
            }
        }
    }
}
