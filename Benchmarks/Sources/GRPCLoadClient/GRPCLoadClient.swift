// A gRPC unary load generator on Loop's client (LoopGRPC's GRPCChannel), for grpc_bench.py.
//
// Opens C connections (one GRPCChannel each), runs N concurrent callers spread over them (caller i
// uses connection i mod C), each calling the method again as soon as its previous call returns,
// until COUNT calls are done (after WARMUP untimed calls). Requests are pre-encoded bytes sent
// with ByteBufferCodec, so no protobuf work is done on the client. A call counts as an error when
// it throws (a status other than OK, or a transport failure) or its response message has not
// the expected length (--expect-bytes).
//
// Usage:
//   GRPCLoadClient --port P [--host 127.0.0.1] [--path /grpc.testing.TestService/UnaryCall]
//                  --request-hex HEX [--expect-bytes K] [--connections 8] [--concurrency 100]
//                  [--count 100000] [--warmup 2000] [--threads 1] [--server-pid PID]
// Prints one line:
//   RESULT calls=... errors=... seconds=... calls_per_sec=... mean_us=... p50_us=... p99_us=...
//          [server_cpu_sec=...]
// server_cpu_sec is the server's utime+stime (/proc/PID/stat) across the timed window.
import Glibc
import Loop
import LoopGRPC
import Synchronization

func flag(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    let prefix = name + "="
    return arguments.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
}

/// Writes a line straight to a file descriptor (1 or 2), unbuffered.
func writeLine(_ fd: Int32, _ text: String) {
    var bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

func fail(_ message: String) -> Never {
    writeLine(2, "GRPCLoadClient: \(message)")
    exit(2)
}

func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
        guard let byte = UInt8(hex[index..<next], radix: 16) else { fail("bad --request-hex") }
        out.append(byte)
        index = next
    }
    return out
}

/// utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15, all threads).
func cpuSeconds(pid: Int) -> Double? {
    let fd = open("/proc/\(pid)/stat", O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
    guard count > 0 else { return nil }
    let line = String(decoding: buffer[..<count], as: UTF8.self)
    guard let paren = line.lastIndex(of: ")") else { return nil }
    let fields = line[line.index(after: paren)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Counts the calls still to start, shared by the callers.
final class Remaining: Sendable {
    let value: Atomic<Int>
    init(_ count: Int) { value = Atomic(count) }
    /// Takes one call; false when none is left.
    func take() -> Bool { value.subtract(1, ordering: .relaxed).oldValue > 0 }
}

struct Outcome: Sendable {
    var latencies: [Int64] = []  // nanoseconds
    var errors = 0
    var firstError: String?
}

struct Load: Sendable {
    let channels: [GRPCChannel]
    let path: String
    let request: ByteBuffer
    let expectBytes: Int?
    let concurrency: Int

    /// Runs `total` calls with `concurrency` callers.
    func run(total: Int) async -> Outcome {
        let remaining = Remaining(total)
        let callers = min(concurrency, total)
        return await withTaskGroup(of: Outcome.self) { tasks in
            for caller in 0..<callers {
                let channel = channels[caller % channels.count]
                tasks.addTask { [path, request, expectBytes] in
                    var outcome = Outcome()
                    outcome.latencies.reserveCapacity(total / callers + 1)
                    let clock = ContinuousClock()
                    while remaining.take() {
                        let start = clock.now
                        do {
                            let response = try await channel.unary(
                                path: path, request: request, serializer: ByteBufferCodec(),
                                deserializer: ByteBufferCodec(), options: GRPCCallOptions())
                            if let expectBytes, response.message.readableBytes != expectBytes {
                                outcome.errors += 1
                                if outcome.firstError == nil {
                                    outcome.firstError =
                                        "response of \(response.message.readableBytes) bytes, expected \(expectBytes)"
                                }
                            }
                        } catch {
                            outcome.errors += 1
                            if outcome.firstError == nil { outcome.firstError = "\(error)" }
                        }
                        let elapsed = start.duration(to: clock.now)
                        outcome.latencies.append(
                            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
                    }
                    return outcome
                }
            }
            var all = Outcome()
            all.latencies.reserveCapacity(total)
            for await outcome in tasks {
                all.latencies.append(contentsOf: outcome.latencies)
                all.errors += outcome.errors
                if all.firstError == nil { all.firstError = outcome.firstError }
            }
            return all
        }
    }
}

@main
struct GRPCLoadClient {
    static func main() async {
        let host = flag("--host") ?? "127.0.0.1"
        guard let port = flag("--port").flatMap({ Int($0) }) else { fail("--port is required") }
        guard let requestHex = flag("--request-hex") else { fail("--request-hex is required") }
        let connections = max(1, Int(flag("--connections") ?? "") ?? 8)
        let count = max(1, Int(flag("--count") ?? "") ?? 100_000)
        let warmup = max(0, Int(flag("--warmup") ?? "") ?? 2000)
        let threads = max(1, Int(flag("--threads") ?? "") ?? 1)
        let serverPID = flag("--server-pid").flatMap { Int($0) }

        let group = EventLoopGroup(numberOfThreads: threads)
        var configuration = GRPCChannelConfiguration()
        configuration.userAgent = "loop-grpc-load/1.0"
        let channels = (0..<connections).map { _ in
            GRPCChannel(host: host, port: port, group: group, configuration: configuration)
        }
        let load = Load(
            channels: channels, path: flag("--path") ?? "/grpc.testing.TestService/UnaryCall",
            request: ByteBuffer(bytes: bytes(hex: requestHex)), expectBytes: flag("--expect-bytes").flatMap { Int($0) },
            concurrency: max(1, Int(flag("--concurrency") ?? "") ?? 100))

        for channel in channels {
            do { try await channel.connect() } catch { fail("cannot connect to \(host):\(port): \(error)") }
        }
        if warmup > 0 { _ = await load.run(total: warmup) }
        let cpuBefore = serverPID.flatMap { cpuSeconds(pid: $0) }
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = await load.run(total: count)
        let elapsed = start.duration(to: clock.now)
        let cpuAfter = serverPID.flatMap { cpuSeconds(pid: $0) }
        for channel in channels { await channel.close() }

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        outcome.latencies.sort()
        let latencies = outcome.latencies
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return .nan }
            let index = min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)
            return Double(latencies[max(0, index)]) / 1000
        }
        let mean = latencies.isEmpty ? Double.nan : Double(latencies.reduce(0, +)) / Double(latencies.count) / 1000
        var line = "RESULT calls=\(latencies.count) errors=\(outcome.errors) seconds=\(seconds) "
        line += "calls_per_sec=\(Double(latencies.count) / seconds) "
        line += "mean_us=\(mean) p50_us=\(percentile(0.50)) p99_us=\(percentile(0.99))"
        if let cpuBefore, let cpuAfter { line += " server_cpu_sec=\(cpuAfter - cpuBefore)" }
        writeLine(1, line)
        if let firstError = outcome.firstError { writeLine(2, "GRPCLoadClient: first error: \(firstError)") }
        exit(outcome.errors == 0 ? 0 : 1)
    }
}
