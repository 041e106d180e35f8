import AsyncHTTPClient
import Foundation
import GatewayTesting
import NIOCore
import NIOPosix
import Telemetry

/// Debian's Prometheus (`/usr/bin/prometheus`) as a child process, scraping one target every
/// second and evaluating rule files every second, with its storage in a temporary directory;
/// and a client for the HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/).
///
/// `with` always stops the process and removes the directory, whatever the body does.
final class PrometheusServer: Sendable {
    static let executable = "/usr/bin/prometheus"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }
    /// The scrape job's name: the `job` label of everything scraped.
    static let job = "spanway"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let baseURL: String
    private let child: ChildProcess
    private let directory: URL
    private let http: HTTPClient

    private init(baseURL: String, child: ChildProcess, directory: URL, http: HTTPClient) {
        self.baseURL = baseURL
        self.child = child
        self.directory = directory
        self.http = http
    }

    /// Starts Prometheus scraping `http://<target>/metrics` with `ruleFiles` loaded and the
    /// feature flags `features` on (e.g. `exemplar-storage`), runs `body` once it answers
    /// `/-/ready`, then stops it.
    static func with<T>(
        scraping target: String, ruleFiles: [String], features: [String] = [], http: HTTPClient,
        _ body: (PrometheusServer) async throws -> T
    ) async throws -> T {
        let server = try await start(scraping: target, ruleFiles: ruleFiles, features: features, http: http)
        let result: T
        do {
            result = try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        return result
    }

    private static func start(scraping target: String, ruleFiles: [String], features: [String], http: HTTPClient)
        async throws -> PrometheusServer
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-prometheus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configPath = directory.appendingPathComponent("prometheus.yml").path
        // JSON strings are valid YAML scalars, and quote any path safely.
        let quoted = { (text: String) in String(decoding: JSONValue.string(text).encoded(), as: UTF8.self) }
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files: [\(ruleFiles.map(quoted).joined(separator: ", "))]
            scrape_configs:
              - job_name: \(job)
                static_configs:
                  - targets: [\(quoted(target))]
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
        // Prometheus takes no port 0, so a free port is found first; another process may take it
        // in between, in which case Prometheus exits and the next attempt picks another.
        var lastOutput = ""
        for _ in 0..<3 {
            let port = try await unusedLoopbackPort()
            let child = try ChildProcess(
                executable: executable,
                arguments: [
                    "--config.file=\(configPath)",
                    "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                    "--web.listen-address=127.0.0.1:\(port)",
                ] + features.map { "--enable-feature=\($0)" },
                environment: ["PATH": "/usr/bin:/bin"])
            let server = PrometheusServer(baseURL: "http://127.0.0.1:\(port)", child: child, directory: directory, http: http)
            do {
                if try await server.becameReady() { return server }
            } catch {
                await server.stop()
                throw error
            }
            lastOutput = child.output
            await server.stopProcess()
        }
        try? FileManager.default.removeItem(at: directory)
        throw Failure(description: "prometheus did not start:\n\(lastOutput)")
    }

    /// True once `/-/ready` answers 200; false if the process exited first.
    private func becameReady() async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !child.process.isRunning { return false }
            var request = HTTPClientRequest(url: baseURL + "/-/ready")
            request.method = .GET
            if let response = try? await http.execute(request, timeout: .seconds(2)), response.status == .ok {
                return true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "prometheus was not ready within 30s:\n\(child.output)")
    }

    /// Stops the process (SIGTERM, then SIGKILL after 10 s) and removes its directory.
    func stop() async {
        await stopProcess()
        try? FileManager.default.removeItem(at: directory)
    }

    private func stopProcess() async {
        let process = child.process
        if process.isRunning { process.terminate() }
        let child = self.child
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await child.exit() }
            group.addTask {
                // In a cancelled test (a time limit) the sleep ends at once and the child is killed.
                try? await Task.sleep(for: .seconds(10))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Everything Prometheus logged so far (for failure messages).
    var output: String { child.output }

    // MARK: HTTP API

    /// `GET`s (or `POST`s a form to) an API path and returns the parsed JSON reply, whatever
    /// its HTTP status: errors come back as `{"status":"error","errorType":…,"error":…}`.
    func api(_ path: String, form: [(String, String)]? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(url: baseURL + path)
        if let form {
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
            let body = form.map { "\(Self.formEncoded($0.0))=\(Self.formEncoded($0.1))" }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        do {
            return try JSONParser.parse(Array(body.readableBytesView))
        } catch {
            throw Failure(description: "\(path) answered \(response.status) with non-JSON: \(String(buffer: body))")
        }
    }

    /// An instant query at the current time.
    func query(_ expression: String) async throws -> PrometheusQueryResult {
        PrometheusQueryResult(try await api("/api/v1/query", form: [("query", expression)]))
    }

    /// An instant query polled until it returns finite data, or its last result after `timeout`.
    /// Scrapes time out after a second under load, and a failed scrape marks every series stale
    /// until the next one: a single query could see no data that is there.
    func dataQuery(_ expression: String, timeout: Duration = .seconds(15)) async -> PrometheusQueryResult {
        var last = PrometheusQueryResult(.null)
        try? await waitUntil("\(expression) returns data", timeout: timeout) {
            last = try await query(expression)
            return last.succeeded && !last.finiteSamples.isEmpty
        }
        return last
    }

    /// The samples of `expression` by the value of `label`: for `sum by (label) (…)` queries.
    func values(_ expression: String, by label: String) async throws -> [String: Double] {
        let result = try await query(expression)
        guard result.succeeded else { throw Failure(description: "\(expression): \(result.error ?? "failed")") }
        var values: [String: Double] = [:]
        for sample in result.samples { values[sample.labels[label] ?? "", default: 0] += sample.value }
        return values
    }

    /// Polls `condition` until it holds; throws after `timeout` with `what` and the log.
    func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "timed out after \(timeout) waiting for: \(what)\nprometheus log:\n\(child.output)")
    }

    /// `application/x-www-form-urlencoded`: everything but unreserved characters percent-encoded.
    static func formEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
