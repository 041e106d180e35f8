// A small deterministic mutation fuzzer that runs inside `swift test`.
//
// Why not libFuzzer: `swift build -sanitize=fuzzer` instruments and rebuilds every dependency
// (NIO, AsyncHTTPClient, GRDB, …), which is too slow for CI on two cores, and its binaries cannot
// share the test build. So each target here is an ordinary Swift Testing test: a seeded
// SplitMix64 drives byte-level mutations (bit flips, inserts, deletes, chunk duplication, corpus
// splices, interesting bytes, integers and tokens, truncation) of the seed corpus in
// `Corpus/<target>/`, for a fixed number of iterations. Without coverage feedback, inputs a target
// accepts are kept as extra seeds, which steers mutations past the first layer of syntax.
//
// Knobs (environment):
//   SPANWAY_FUZZ_ITERATIONS  multiplies every target's iteration count (e.g. 20 for a long local
//                            run, 0.1 for a quick one). Default 1: about a minute in all, debug.
//   SPANWAY_FUZZ_SEED        the base seed (decimal or 0x-hex); default fixed, so runs repeat.
//   SPANWAY_FUZZ_HANG_SECONDS one input running longer than this is a hang (default 30).
// A property failure records an issue naming the seed, the iteration and the input in base64; a
// crash or hang prints the in-flight inputs (see CrashGuard) before the process dies. Keep such
// an input in `Crashes/<target>/`: `CorpusReplayTests` runs every file there on every run.

import Foundation
import Testing

@testable import Proxy

/// The router's seeded SplitMix64, with the draws a fuzzer needs.
struct SplitMix64 {
    private var generator: SeededRandom

    init(seed: UInt64) { generator = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in `0..<bound` (bound > 0); the modulo bias is irrelevant for fuzzing.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    /// A length biased to small values, as real bugs usually need few bytes changed.
    mutating func smallLength(upTo limit: Int) -> Int {
        let cap = max(limit, 1)
        return chance(80) ? 1 + below(min(cap, 8)) : 1 + below(cap)
    }
}

/// Settings read once from the environment.
enum FuzzSettings {
    static let defaultSeed: UInt64 = 0x5350_414E_5741_5921  // "SPANWAY!"

    static let seed: UInt64 = {
        guard let text = ProcessInfo.processInfo.environment["SPANWAY_FUZZ_SEED"], !text.isEmpty else {
            return defaultSeed
        }
        if text.lowercased().hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? defaultSeed }
        return UInt64(text) ?? defaultSeed
    }()

    static let scale: Double = {
        guard let text = ProcessInfo.processInfo.environment["SPANWAY_FUZZ_ITERATIONS"], let value = Double(text),
            value.isFinite, value >= 0
        else { return 1 }
        return value
    }()

    static let hangSeconds: Double = {
        guard let text = ProcessInfo.processInfo.environment["SPANWAY_FUZZ_HANG_SECONDS"], let value = Double(text),
            value.isFinite, value > 0
        else { return 30 }
        return value
    }()

    static func iterations(_ base: Int) -> Int {
        let scaled = (Double(base) * scale).rounded()
        return scaled >= Double(Int32.max) ? Int(Int32.max) : max(0, Int(scaled))
    }

    /// One stream per target, stable across runs and platforms (FNV-1a of the name).
    static func seed(for target: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in target.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return seed ^ hash
    }
}

/// A broken property: what went wrong, for the issue that names the input.
struct PropertyFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Byte-level mutations of corpus entries.
struct Mutator {
    var rng: SplitMix64
    let tokens: [[UInt8]]
    let maxLength: Int

    static let interestingBytes: [UInt8] = [
        0x00, 0x01, 0x7F, 0x80, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFE, 0xFF, 0x09, 0x0A, 0x0D, 0x20,
        UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["),
        UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "0"),
        UInt8(ascii: "9"), UInt8(ascii: "e"), UInt8(ascii: "."), UInt8(ascii: "u"),
    ]

    /// Boundary integers, written big-endian (event-stream lengths) in 1, 2 and 4 bytes.
    static let interestingIntegers: [UInt32] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x0002_0000, 0x0180_0000,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF, 12, 16, 15, 17,
    ]

    /// Text that breaks number, escape and framing code in many parsers.
    static let commonTokens: [String] = [
        "-1", "0", "-0", "1e309", "-1e309", "1e-400", "NaN", "nan", "Infinity", "-inf", "1e300",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "4294967296", "2147483648", "1.7976931348623157e308", "0.1e1", "1E+2", "00", "0x10",
        "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\uD800\\u0041", "\\uZZZZ", "\\", "\"",
        "null", "true", "false", "[]", "{}", "[[[[[[[[", "]]]]]]]]", "{\"a\":", "\u{FEFF}", "\r\n", "\n\n",
    ]

    init(rng: SplitMix64, tokens: [String], maxLength: Int) {
        self.rng = rng
        self.tokens = (Self.commonTokens + tokens).map { Array($0.utf8) }
        self.maxLength = maxLength
    }

    /// One to four stacked mutations of `input`; `pool` supplies splice partners.
    mutating func mutate(_ input: [UInt8], pool: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + rng.below(4)) { mutateOnce(&bytes, pool: pool) }
        if bytes.count > maxLength { bytes.removeLast(bytes.count - maxLength) }
        return bytes
    }

    private mutating func mutateOnce(_ bytes: inout [UInt8], pool: [[UInt8]]) {
        let position = rng.below(bytes.count + 1)
        switch rng.below(12) {
        case 0 where !bytes.isEmpty:  // bit flip
            bytes[rng.below(bytes.count)] ^= 1 << UInt8(rng.below(8))
        case 1 where !bytes.isEmpty:  // random byte
            bytes[rng.below(bytes.count)] = rng.byte()
        case 2:  // insert random bytes
            bytes.insert(contentsOf: (0..<rng.smallLength(upTo: 16)).map { _ in rng.byte() }, at: position)
        case 3 where !bytes.isEmpty:  // delete a range
            let start = rng.below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + rng.smallLength(upTo: 64)))
        case 4 where !bytes.isEmpty:  // duplicate a chunk, sometimes many times (deep nesting, long lines)
            let start = rng.below(bytes.count)
            let chunk = Array(bytes[start..<min(bytes.count, start + rng.smallLength(upTo: 32))])
            let copies = rng.chance(10) ? 1 + rng.below(400) : 1 + rng.below(3)
            bytes.insert(contentsOf: Array(repeating: chunk, count: copies).joined(), at: position)
        case 5 where !pool.isEmpty:  // splice: our prefix, another entry's suffix
            let other = pool[rng.below(pool.count)]
            let cut = rng.below(other.count + 1)
            bytes = Array(bytes[..<position]) + Array(other[cut...])
        case 6:  // interesting byte
            let byte = Self.interestingBytes[rng.below(Self.interestingBytes.count)]
            if !bytes.isEmpty, rng.chance(50) { bytes[rng.below(bytes.count)] = byte } else { bytes.insert(byte, at: position) }
        case 7 where bytes.count >= 4:  // overwrite with an interesting integer (big-endian)
            let value = Self.interestingIntegers[rng.below(Self.interestingIntegers.count)]
            let width = [1, 2, 4][rng.below(3)]
            let start = rng.below(bytes.count - width + 1)
            for i in 0..<width { bytes[start + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * (width - 1 - i))) }
        case 8, 9:  // token from the dictionary, inserted or replacing a few bytes
            let token = tokens[rng.below(tokens.count)]
            if rng.chance(50), position < bytes.count {
                bytes.replaceSubrange(position..<min(bytes.count, position + rng.smallLength(upTo: 8)), with: token)
            } else {
                bytes.insert(contentsOf: token, at: position)
            }
        case 10 where !bytes.isEmpty:  // truncate
            bytes.removeLast(bytes.count - rng.below(bytes.count))
        default:  // swap two bytes
            guard bytes.count >= 2 else { return }
            bytes.swapAt(rng.below(bytes.count), rng.below(bytes.count))
        }
    }
}

/// One fuzz target: where its seeds are, how many iterations, and the property it checks.
struct FuzzTarget: Sendable {
    let name: String
    let iterations: Int
    var tokens: [String] = []
    var maxLength = 16 * 1024
    /// Applied to each mutated input before the property (e.g. recompute event-stream CRCs so
    /// mutations reach the header and payload parsers instead of dying at the checksum).
    var fixup: (@Sendable (inout [UInt8], inout SplitMix64) -> Void)?
    /// Runs one input. Returns whether the input was accepted (parsed, decoded); throws
    /// `PropertyFailure` when a property is broken. Crashes and hangs end the process.
    let check: @Sendable ([UInt8], inout SplitMix64) throws -> Bool

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The files of `Corpus/<name>/` or `Crashes/<name>/`, by name, so the order is stable.
    func files(in folder: String) -> [(name: String, bytes: [UInt8])] {
        let url = Self.directory.appendingPathComponent(folder).appendingPathComponent(name)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().compactMap { file in
            (try? Data(contentsOf: url.appendingPathComponent(file))).map { (file, Array($0)) }
        }
    }

    /// The mutation loop. Stops at the first broken property and returns it with the seed, the
    /// iteration and the input. Synchronous: the caller runs it off the cooperative pool and
    /// records what it returns.
    func run() -> [String] {
        let seeds = files(in: "Corpus").map(\.bytes) + files(in: "Crashes").map(\.bytes)
        var problems = seeds.isEmpty ? ["Corpus/\(name) has no seed files"] : []
        let seed = FuzzSettings.seed(for: name)
        var rng = SplitMix64(seed: seed)
        var mutator = Mutator(rng: SplitMix64(seed: seed ^ 0xA5A5_A5A5_A5A5_A5A5), tokens: tokens, maxLength: maxLength)
        // Accepted inputs become seeds too (bounded, replaced at random once full).
        var pool = seeds.isEmpty ? [[]] : seeds
        let poolLimit = seeds.count + 256
        let slot = CrashGuard.claimSlot(name: name)
        defer { CrashGuard.releaseSlot(slot) }
        let count = FuzzSettings.iterations(iterations)
        let started = ContinuousClock.now
        var accepted = 0
        defer {
            print("fuzz \(name): \(count) inputs, \(accepted) accepted, \(ContinuousClock.now - started)")
        }
        for iteration in 0..<count {
            var input = mutator.mutate(pool[rng.below(pool.count)], pool: pool)
            fixup?(&input, &rng)
            CrashGuard.record(input, in: slot)
            do {
                if try check(input, &rng) {
                    accepted += 1
                    if pool.count < poolLimit { pool.append(input) } else { pool[seeds.count + rng.below(256)] = input }
                }
            } catch {
                problems.append(
                    """
                    fuzz target '\(name)' broke a property: \(error)
                    seed: SPANWAY_FUZZ_SEED=0x\(String(FuzzSettings.seed, radix: 16)) (target seed 0x\(String(seed, radix: 16))), iteration \(iteration)
                    input (base64): \(Data(input).base64EncodedString())
                    """)
                return problems
            }
        }
        return problems
    }

    /// Every corpus and crash file, once, through the same property; returns what broke.
    func replay() -> [String] {
        var problems: [String] = []
        for folder in ["Corpus", "Crashes"] {
            for file in files(in: folder) {
                var rng = SplitMix64(seed: FuzzSettings.defaultSeed)
                var input = file.bytes
                let slot = CrashGuard.claimSlot(name: "\(name) \(folder)/\(file.name)")
                CrashGuard.record(input, in: slot)
                // Replays check the file as stored: no fixup, so a crash input stays that input.
                do {
                    _ = try check(input, &rng)
                } catch {
                    problems.append("\(folder)/\(name)/\(file.name) broke a property: \(error)")
                }
                input.removeAll()
                CrashGuard.releaseSlot(slot)
            }
        }
        return problems
    }
}

extension SplitMix64 {
    /// `bytes` cut into pieces of random sizes (mostly small, sometimes large), as network
    /// reads would split them.
    mutating func pieces(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let length = chance(70) ? 1 + below(16) : 1 + below(max(bytes.count - start, 1))
            let end = min(bytes.count, start + length)
            pieces.append(bytes[start..<end])
            start = end
        }
        return pieces
    }
}
