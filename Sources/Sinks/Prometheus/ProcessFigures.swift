#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The gateway process's own resources, under the names every Prometheus client library uses
/// for them (`process_cpu_seconds_total`, `process_resident_memory_bytes`, …), read from `/proc`
/// at scrape time. Linux only: elsewhere `current()` is nil and the series are left out.
public struct ProcessFigures: Sendable, Equatable {
    public var cpuSeconds: Double
    public var residentMemoryBytes: Double
    public var virtualMemoryBytes: Double
    public var openFileDescriptors: Int
    public var maxFileDescriptors: Int?
    public var startTimeSeconds: Double?

    public init(
        cpuSeconds: Double, residentMemoryBytes: Double, virtualMemoryBytes: Double, openFileDescriptors: Int,
        maxFileDescriptors: Int?, startTimeSeconds: Double?
    ) {
        self.cpuSeconds = cpuSeconds
        self.residentMemoryBytes = residentMemoryBytes
        self.virtualMemoryBytes = virtualMemoryBytes
        self.openFileDescriptors = openFileDescriptors
        self.maxFileDescriptors = maxFileDescriptors
        self.startTimeSeconds = startTimeSeconds
    }

    public static func current() -> ProcessFigures? {
        #if os(Linux)
            guard let stat = read("/proc/self/stat"), let fields = statFields(stat) else { return nil }
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            let page = Double(sysconf(Int32(_SC_PAGESIZE)))
            // Fields after the command name, from `state` (field 3 of proc(5)) on.
            guard ticks > 0, fields.count > 21, let user = Double(fields[11]), let system = Double(fields[12]),
                let virtual = Double(fields[20]), let resident = Double(fields[21])
            else { return nil }
            var limit = rlimit()
            let maxDescriptors = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(limit.rlim_cur) : nil
            var start: Double?
            if let started = Double(fields[19]), let boot = bootTime() { start = boot + started / ticks }
            return ProcessFigures(
                cpuSeconds: (user + system) / ticks, residentMemoryBytes: resident * page, virtualMemoryBytes: virtual,
                openFileDescriptors: openDescriptors(), maxFileDescriptors: maxDescriptors, startTimeSeconds: start)
        #else
            return nil
        #endif
    }

    #if os(Linux)
        /// The fields of `/proc/self/stat` after `(comm)`, which may itself hold spaces and parentheses.
        static func statFields(_ text: String) -> [Substring]? {
            guard let close = text.lastIndex(of: ")") else { return nil }
            return text[text.index(after: close)...].split(separator: " ")
        }

        /// `btime` of `/proc/stat`: when the machine booted, in seconds since the epoch.
        static func bootTime() -> Double? {
            read("/proc/stat")?.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
        }

        static func openDescriptors() -> Int {
            guard let directory = opendir("/proc/self/fd") else { return 0 }
            defer { closedir(directory) }
            var count = 0
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name != Array(".".utf8) && name != Array("..".utf8) { count += 1 }
            }
            // The directory being read holds one descriptor of its own.
            return max(0, count - 1)
        }

        static func read(_ path: String) -> String? {
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { return nil }
            defer { close(descriptor) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                bytes += buffer[..<count]
                if bytes.count > 1 << 20 { break }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    #endif
}
