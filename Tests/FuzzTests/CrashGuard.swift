import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes a crash or a hang in a fuzz target say which input caused it.
///
/// A trap (Swift's runtime checks: overflow, bad index, `Int(Double.nan)`) ends the test process,
/// so no `Issue` can be recorded. Each running target keeps its current input in a slot; a
/// signal handler prints every busy slot in base64 (with async-signal-safe `write` only), then
/// puts back the previous handler (the Swift backtracer) and returns, so the faulting
/// instruction traps again and the usual backtrace follows. A watchdog thread does the same
/// for an input that runs longer than `SPANWAY_FUZZ_HANG_SECONDS`, then aborts.
enum CrashGuard {
    struct Slot {
        var name: UnsafeMutablePointer<CChar>?
        var buffer: UnsafeMutablePointer<UInt8>?
        var capacity = 0
        var length = 0
        var startedNanos: UInt64 = 0
        var busy = false
    }

    static let slotCount = 64
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<Slot> = {
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: slotCount)
        slots.initialize(repeating: Slot(), count: slotCount)
        return slots
    }()
    private static let lock = NSLock()
    /// Indexed by signal number: read from the handler, so no dictionary (no hashing, no locks).
    nonisolated(unsafe) static let previousActions: UnsafeMutablePointer<sigaction> = {
        let actions = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        actions.initialize(repeating: sigaction(), count: 65)
        return actions
    }()
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]

    private static let installed: Void = {
        _ = slots
        for signal in signals {
            var action = sigaction()
            #if os(Linux)
                action.__sigaction_handler.sa_handler = crashHandler
                action.sa_flags = Int32(SA_ONSTACK)
            #else
                action.__sigaction_u.__sa_handler = crashHandler
                action.sa_flags = SA_ONSTACK
            #endif
            sigaction(signal, &action, previousActions + Int(signal))
        }
        let watchdog = Thread { watch() }
        watchdog.name = "fuzz-watchdog"
        watchdog.start()
    }()

    /// Takes a free slot for the calling thread's target. The fuzz loops are synchronous, so the
    /// thread stays the same until `releaseSlot`; it gets an alternate signal stack so a stack
    /// overflow can still be reported.
    static func claimSlot(name: String) -> Int {
        _ = installed
        ensureAlternateStack()
        lock.lock()
        defer { lock.unlock() }
        for index in 0..<slotCount where !slots[index].busy {
            slots[index].name = strdup(name)
            slots[index].length = 0
            slots[index].startedNanos = now()
            slots[index].busy = true
            return index
        }
        // More than 64 targets at once: run unguarded rather than fail.
        return -1
    }

    static func releaseSlot(_ index: Int) {
        guard index >= 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        slots[index].busy = false
        free(slots[index].name)
        slots[index].name = nil
    }

    static func record(_ input: [UInt8], in index: Int) {
        guard index >= 0 else { return }
        if slots[index].capacity < input.count {
            let capacity = max(input.count, 2 * slots[index].capacity)
            // Keep the old buffer alive: the handler may be reading it on another thread.
            slots[index].length = 0
            slots[index].buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            slots[index].capacity = capacity
        }
        input.withUnsafeBufferPointer { source in
            if let base = source.baseAddress, let buffer = slots[index].buffer {
                buffer.update(from: base, count: source.count)
            }
        }
        slots[index].length = input.count
        slots[index].startedNanos = now()
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private static func ensureAlternateStack() {
        var current = stack_t()
        sigaltstack(nil, &current)
        guard current.ss_flags & Int32(SS_DISABLE) != 0 else { return }
        let size = 256 * 1024
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        stack.ss_size = size
        stack.ss_flags = 0
        sigaltstack(&stack, nil)
    }

    private static func watch() {
        let limit = UInt64(FuzzSettings.hangSeconds * 1e9)
        while true {
            sleep(1)
            let time = now()
            for index in 0..<slotCount
            where slots[index].busy && time > slots[index].startedNanos
                && time - slots[index].startedNanos > limit
            {
                write(2, "\nFUZZ HANG: one input ran longer than SPANWAY_FUZZ_HANG_SECONDS\n")
                dumpSlots()
                abort()
            }
        }
    }

    // MARK: async-signal-safe output

    static func write(_ fd: Int32, _ text: StaticString) {
        _ = text.withUTF8Buffer { buffer in
            #if canImport(Glibc)
                Glibc.write(fd, buffer.baseAddress, buffer.count)
            #else
                Darwin.write(fd, buffer.baseAddress, buffer.count)
            #endif
        }
    }

    static func writeRaw(_ pointer: UnsafeRawPointer, _ count: Int) {
        #if canImport(Glibc)
            _ = Glibc.write(2, pointer, count)
        #else
            _ = Darwin.write(2, pointer, count)
        #endif
    }

    /// Every busy slot: its target name and its input in base64, without allocating.
    static func dumpSlots() {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let table = alphabet.utf8Start
        for index in 0..<slotCount where slots[index].busy {
            write(2, "FUZZ in-flight input of target '")
            if let name = slots[index].name { writeRaw(name, strlen(name)) }
            write(2, "' (base64; keep it in Tests/FuzzTests/Crashes/<target>/):\n")
            guard let buffer = slots[index].buffer else {
                write(2, "(empty)\n")
                continue
            }
            let length = slots[index].length
            var out: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
            var offset = 0
            while offset < length {
                let b0 = buffer[offset]
                let b1: UInt8 = offset + 1 < length ? buffer[offset + 1] : 0
                let b2: UInt8 = offset + 2 < length ? buffer[offset + 2] : 0
                out.0 = table[Int(b0 >> 2)]
                out.1 = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                out.2 = offset + 1 < length ? table[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "=")
                out.3 = offset + 2 < length ? table[Int(b2 & 0x3F)] : UInt8(ascii: "=")
                withUnsafeBytes(of: &out) { writeRaw($0.baseAddress!, 4) }
                offset += 3
            }
            write(2, "\n")
        }
    }
}

/// Prints the in-flight inputs, then hands the signal back to whoever had it before.
private func crashHandler(_ signal: Int32) {
    CrashGuard.write(2, "\nFUZZ CRASH: a fatal signal in a fuzz target\n")
    CrashGuard.dumpSlots()
    sigaction(signal, CrashGuard.previousActions + Int(signal), nil)
    // Returning re-runs the faulting instruction, which now reaches the previous handler. An
    // abort() raised the signal itself, so raise it again.
    if signal == SIGABRT { raise(signal) }
}
