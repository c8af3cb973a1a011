import Foundation
import Glibc
import InteropTestSupport
import Testing

/// A server out of file descriptors (accept(2) failing with EMFILE) pauses accepting instead
/// of spinning on its still-readable listening socket (ServerSocketChannel.pauseAccepting):
/// the release of descriptors lets new clients in again. Run against the HTTP2Server example
/// under `prlimit --nofile`, so only that process is short of descriptors.
@Suite(.serialized) struct AcceptBackoffTests {
    /// utime + stime of `pid` in clock ticks (/proc/PID/stat fields 14 and 15).
    private func cpuTicks(_ pid: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        // After the command name: field 3 is at index 0, so 14 and 15 are at 11 and 12.
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    @Test func aServerOutOfDescriptorsPausesAcceptingAndRecovers() async throws {
        let binary = try locateHTTP2ServerBinary()
        let curl = try Peer.curl.locate()
        let process = try BackgroundProcess("/usr/bin/prlimit", ["--nofile=64", binary, "--host", "127.0.0.1", "--port", "0", "--threads", "1"],
                                            name: "HTTP2Server (64 descriptors)")
        try await withBackgroundProcess(process) { process in
            let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
                guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
                return Int(text[range].split(separator: ":").last!)
            }
            let pid = process.process.processIdentifier
            // More connections than the server has descriptors: the rest wait in the backlog.
            var sockets: [Int32] = []
            defer { for fd in sockets { close(fd) } }
            for _ in 0..<100 {
                let fd = connectRawTCP(port)
                if fd >= 0 { sockets.append(fd) }
            }
            try await Task.sleep(for: .milliseconds(300))
            let before = cpuTicks(pid)
            try await Task.sleep(for: .seconds(1))
            let after = cpuTicks(pid)
            guard let before, let after else {
                Issue.record("no /proc/\(pid)/stat for the server")
                return
            }
            // Spinning on accept costs a whole core (about 100 ticks a second); pausing, nothing.
            #expect(after - before < 20, "the server used \(after - before) ticks of CPU in 1 s while out of descriptors")
            #expect(process.isRunning, "HTTP2Server died: \(process.exitDescription)\n\(process.log.suffix(3000))")
            // Descriptors come back: a new client is served within the longest pause (1 s).
            for fd in sockets { close(fd) }
            sockets = []
            let result = try await runProcess(curl, ["--http2-prior-knowledge", "-s", "-m", "5", "http://127.0.0.1:\(port)/hello"], timeout: 10)
            #expect(result.stdout == "Hello, world!", "curl exited \(result.status): \(result.stdout) \(result.stderr)")
        }
    }
}
