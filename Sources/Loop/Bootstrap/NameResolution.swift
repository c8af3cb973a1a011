import CLibev
import Glibc

/// Looks host names up off the event loops: `getaddrinfo` blocks for as long as DNS takes,
/// so each lookup runs on a short-lived thread of its own and completes on the loop.
enum NameResolution {
    /// The addresses of `host` (numeric ones without a thread), on `loop`.
    static func resolveAll(
        host: String, port: Int, on loop: EventLoop,
        using resolver: @escaping @Sendable (String, Int) throws -> [SocketAddress]
    ) -> EventLoopFuture<[SocketAddress]> {
        guard (0...65535).contains(port) else { return loop.makeFailedFuture(SocketAddressError.invalidPort(port)) }
        if let numeric = try? SocketAddress(ipAddress: host, port: port) { return loop.makeSucceededFuture([numeric]) }
        let promise = loop.makePromise(of: [SocketAddress].self)
        let code = startDetachedThread {
            promise.completeWith(Result { try resolver(host, port) })
        }
        if code != 0 { promise.fail(IOError(errnoCode: code, operation: "start a thread to resolve '\(host)'")) }
        return promise.futureResult
    }

    private final class ThreadBody {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached thread; returns pthread_create's error (0 when started).
    private static func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Int32 {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var handle = pthread_t()
        let rc = pthread_create(&handle, &attributes, { raw in
            clibev_set_thread_name("loop-resolver")
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        if rc != 0 { Unmanaged<ThreadBody>.fromOpaque(box).release() }
        return rc
    }
}
