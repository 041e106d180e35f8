import Telemetry
import TelemetryTesting
import Testing

@testable import Sinks

/// The gateway's own resources and load on `/metrics`, under the standard `process_*` names.
@Suite struct ProcessMetricsTests {
    @Test func rendersProcessFiguresAndRequestsInFlight() throws {
        let figures = ProcessFigures(
            cpuSeconds: 12.5, residentMemoryBytes: 52_428_800, virtualMemoryBytes: 1_073_741_824, openFileDescriptors: 17,
            maxFileDescriptors: 65_536, startTimeSeconds: 1_800_000_000)
        let text = PrometheusSink().render(sinks: [], inFlight: 3, process: figures)
        let metrics = try MetricsExposition(String(decoding: text, as: UTF8.self))
        #expect(try metrics.value(of: "spanway_requests_in_flight") == 3)
        #expect(try metrics.value(of: "process_cpu_seconds_total") == 12.5)
        #expect(try metrics.value(of: "process_resident_memory_bytes") == 52_428_800)
        #expect(try metrics.value(of: "process_virtual_memory_bytes") == 1_073_741_824)
        #expect(try metrics.value(of: "process_open_fds") == 17)
        #expect(try metrics.value(of: "process_max_fds") == 65_536)
        #expect(try metrics.value(of: "process_start_time_seconds") == 1_800_000_000)
    }

    #if os(Linux)
        /// Read from `/proc/self`: this test process has memory, has used CPU, holds descriptors
        /// and started before now.
        @Test func readsThisProcess() throws {
            let figures = try #require(ProcessFigures.current())
            #expect(figures.residentMemoryBytes > 1_000_000 && figures.virtualMemoryBytes >= figures.residentMemoryBytes)
            #expect(figures.cpuSeconds > 0)
            #expect(figures.openFileDescriptors >= 3)
            #expect((figures.maxFileDescriptors ?? 0) >= figures.openFileDescriptors)
            let started = try #require(figures.startTimeSeconds)
            #expect(started > 1_700_000_000 && started <= WallClock.nowSeconds() + 1)
        }

        /// A command name may hold spaces and parentheses; fields are counted after the last `)`.
        @Test func statFieldsSkipTheCommandName() throws {
            let fields = try #require(ProcessFigures.statFields("42 (my (odd) name) S 1 42 42 0 -1"))
            #expect(fields.prefix(3) == ["S", "1", "42"])
        }
    #endif
}
