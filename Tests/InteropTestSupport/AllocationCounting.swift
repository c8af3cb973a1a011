import Foundation
import Glibc

// Shared support of the allocation-budget tests (LoopHTTP2Tests/Performance,
// LoopGRPCTests/Performance): a release server runs with MallocCounter/malloc_counter.c
// preloaded, which counts the malloc family's calls in a file mapped by both sides, so the
// test reads the counts while the server keeps running. Per request:
//
//     warm-up run; c0; run of N requests; c1; run of 2N requests; c2
//     per request = ((c2 - c1) - (c1 - c0)) / N
//
// Start-up, the warm-up and everything a connection costs once (each run is one h2load
// connection) cancel; what is left is what one more request costs. Counting calls is
// deterministic, unlike timings, so the figure can gate `make test`.

// MARK: The counter

/// Calls of the malloc family in the counted process (the layout of `struct counters` in
/// malloc_counter.c).
public struct MallocCounts: Sendable, Equatable, CustomStringConvertible {
    public var malloc: Int
    public var calloc: Int
    public var realloc: Int
    public var posixMemalign: Int
    public var alignedAlloc: Int
    /// memalign, valloc and pvalloc.
    public var memalign: Int
    /// free of a non-null pointer.
    public var free: Int

    /// Every call that allocates: malloc, calloc, realloc, posix_memalign, aligned_alloc,
    /// memalign, valloc, pvalloc.
    public var allocations: Int { malloc + calloc + realloc + posixMemalign + alignedAlloc + memalign }

    public static func - (lhs: MallocCounts, rhs: MallocCounts) -> MallocCounts {
        MallocCounts(malloc: lhs.malloc - rhs.malloc, calloc: lhs.calloc - rhs.calloc, realloc: lhs.realloc - rhs.realloc,
                     posixMemalign: lhs.posixMemalign - rhs.posixMemalign, alignedAlloc: lhs.alignedAlloc - rhs.alignedAlloc,
                     memalign: lhs.memalign - rhs.memalign, free: lhs.free - rhs.free)
    }

    public var description: String {
        "\(allocations) allocations (malloc \(malloc), calloc \(calloc), realloc \(realloc), posix_memalign \(posixMemalign), "
            + "aligned_alloc \(alignedAlloc), memalign \(memalign)), free \(free)"
    }
}

/// malloc_counter.c compiled (with cc, into a temporary directory) and a counter file for
/// one process. `environment` preloads it; `read()` reads the counts at any moment.
// @unchecked Sendable: immutable after init (paths and the mapped counter file, which the preloaded
// library writes and `read()` only reads).
public final class MallocCounter: @unchecked Sendable {
    /// malloc_counter.c, from the source tree.
    public static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("MallocCounter/malloc_counter.c").path
    private static let cc = Peer(name: "cc", package: "gcc")
    private static let magic: UInt64 = 0x4c6f_6f70_4d61_6c63  // "LoopMalc", written by the library
    private static let fileSize = 4096

    public let library: String
    public let counterFile: String
    private let directory: TemporaryDirectory
    private let mapping: UnsafeMutableRawPointer

    /// Compiles the interposer and creates its counter file.
    public init() async throws {
        let cc = try Self.cc.locate()
        directory = try TemporaryDirectory("malloc-counter")
        library = directory.file("malloc_counter.so")
        counterFile = directory.file("counters")
        do {
            let compiled = try await runProcess(cc, ["-O2", "-Wall", "-shared", "-fPIC", "-o", library, Self.source, "-ldl"], timeout: 60)
            guard compiled.status == 0 else {
                throw InteropError("cc could not compile \(Self.source) (exit \(compiled.status)):\n\(compiled.stdout)\(compiled.stderr)")
            }
            let fd = open(counterFile, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw InteropError("cannot create \(counterFile): errno \(errno)") }
            defer { Glibc.close(fd) }
            guard ftruncate(fd, off_t(Self.fileSize)) == 0 else { throw InteropError("ftruncate \(counterFile): errno \(errno)") }
            guard let mapped = mmap(nil, Self.fileSize, PROT_READ, MAP_SHARED, fd, 0), mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
                throw InteropError("mmap \(counterFile): errno \(errno)")
            }
            mapping = mapped
        } catch {
            directory.remove()
            throw error
        }
    }

    deinit {
        munmap(mapping, Self.fileSize)
        directory.remove()
    }

    /// The environment of a process to count: this process's, with the library preloaded.
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = library
        environment["LOOP_MALLOC_COUNTER_FILE"] = counterFile
        return environment
    }

    /// Whether the counted process has mapped the file (its library's constructor ran).
    public var attached: Bool { word(7) == Self.magic }

    /// The counts so far.
    public func read() -> MallocCounts {
        MallocCounts(malloc: Int(word(0)), calloc: Int(word(1)), realloc: Int(word(2)), posixMemalign: Int(word(3)),
                     alignedAlloc: Int(word(4)), memalign: Int(word(5)), free: Int(word(6)))
    }

    /// The counts once they stopped changing for `quiet` seconds (the server finished with
    /// the connection that just closed), within `timeout` seconds.
    public func readWhenQuiet(quiet: Double = 0.15, timeout: Double = 10) async throws -> MallocCounts {
        let deadline = Date().addingTimeInterval(timeout)
        var last = read()
        var stableSince = Date()
        while Date().timeIntervalSince(stableSince) < quiet {
            guard Date() < deadline else {
                throw InteropError("the counted process kept allocating for \(timeout) s after the load ended (last: \(last))")
            }
            try await Task.sleep(for: .milliseconds(10))
            let now = read()
            if now != last {
                last = now
                stableSince = Date()
            }
        }
        return last
    }

    private func word(_ index: Int) -> UInt64 {
        // Aligned 8-byte loads: the writer's atomic increments are never seen torn.
        mapping.load(fromByteOffset: index * 8, as: UInt64.self)
    }
}

// MARK: Measuring

/// The counts of one measurement: after the warm-up (c0), after N requests (c1), after 2N
/// more (c2).
public struct AllocationMeasurement: Sendable, CustomStringConvertible {
    public let requests: Int
    public let c0: MallocCounts
    public let c1: MallocCounts
    public let c2: MallocCounts
    public let seconds: Double

    /// What one more request costs: ((c2 - c1) - (c1 - c0)) / N.
    public func perRequest(_ metric: (MallocCounts) -> Int) -> Double {
        Double(metric(c2 - c1) - metric(c1 - c0)) / Double(requests)
    }

    /// Allocating calls (all entry points) per request: the figure the budgets assert.
    public var allocationsPerRequest: Double { perRequest(\.allocations) }
    /// malloc calls alone per request: what the benchmarks' callgrind runs count.
    public var mallocsPerRequest: Double { perRequest(\.malloc) }
    public var freesPerRequest: Double { perRequest(\.free) }

    public var description: String {
        String(format: "%.3f allocations per request (malloc alone %.3f, free %.3f); N = %d: N requests %@; 2N requests %@",
               allocationsPerRequest, mallocsPerRequest, freesPerRequest, requests,
               (c1 - c0).description, (c2 - c1).description)
    }
}

/// Runs the measurement: `load(n)` puts n requests through the counted server on one new
/// connection (and throws if any failed). A warm-up of `warmUp` requests, then N, then 2N,
/// reading `counter` after each once the server is quiet.
public func measureAllocations(counter: MallocCounter, requests: Int, warmUp: Int,
                               load: (Int) async throws -> Void) async throws -> AllocationMeasurement {
    let started = Date()
    try await load(warmUp)
    guard counter.attached else {
        throw InteropError("the server never mapped the counter file: was \(counter.library) preloaded (LD_PRELOAD)?")
    }
    let c0 = try await counter.readWhenQuiet()
    try await load(requests)
    let c1 = try await counter.readWhenQuiet()
    try await load(2 * requests)
    let c2 = try await counter.readWhenQuiet()
    return AllocationMeasurement(requests: requests, c0: c0, c1: c1, c2: c2, seconds: Date().timeIntervalSince(started))
}

/// Whether `figure` is within `tolerance` of `budget`, both sides included, compared in
/// hundredths of an allocation after rounding: the measured figure wobbles in the fourth
/// decimal (2.1997, 2.2002), so exactly `tolerance` away decides the same way every run.
public func isWithinBudget(_ figure: Double, budget: Double, tolerance: Double) -> Bool {
    abs((figure * 100).rounded() - (budget * 100).rounded()) <= (tolerance * 100).rounded()
}

// MARK: h2load

/// What h2load reported for one run.
public struct H2loadRun: Sendable {
    public let succeeded: Int
    /// Bytes of DATA payload received ("traffic: ... (N) data").
    public let dataBytes: Int
    public let output: String
}

/// Runs h2load (`arguments` without -n, which is `requests`) under a hard timeout and
/// checks that every request got a 2xx response.
public func runH2load(_ h2load: String, requests: Int, _ arguments: [String], timeout: Double = 60) async throws -> H2loadRun {
    let result = try await runProcess(h2load, ["-n", String(requests)] + arguments, timeout: timeout)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    let expected = "requests: \(requests) total, \(requests) started, \(requests) done, \(requests) succeeded, 0 failed, 0 errored, 0 timeout"
    let statuses = "status codes: \(requests) 2xx, 0 3xx, 0 4xx, 0 5xx"
    guard result.status == 0, lines.contains(expected), lines.contains(statuses) else {
        throw InteropError("h2load -n \(requests) \(arguments.joined(separator: " ")) exited \(result.status), not every request succeeded:\n"
                           + "\(result.stdout.suffix(2000))\(result.stderr.suffix(1000))")
    }
    var dataBytes = -1
    if let traffic = lines.first(where: { $0.hasPrefix("traffic: ") }),
       let range = traffic.range(of: #"\(([0-9]+)\) data"#, options: .regularExpression) {
        dataBytes = Int(traffic[range].dropFirst().prefix { $0.isNumber }) ?? -1
    }
    return H2loadRun(succeeded: requests, dataBytes: dataBytes, output: result.stdout)
}
