import ArgumentParser
import Glibc

/// The checks the example programs' options share; each throws a `ValidationError`, which
/// ArgumentParser prints with the usage and turns into exit status 64.
public enum ExampleValidation {
    /// A port to listen on: 0 (the kernel picks one) through 65535.
    public static func listenPort(_ port: Int, flag: String = "--port") throws {
        guard (0...65535).contains(port) else {
            throw ValidationError("\(flag) must be in 0...65535 (0: the kernel picks one), got \(port)")
        }
    }

    /// A port to connect to: 1 through 65535.
    public static func connectPort(_ port: Int, flag: String = "--port") throws {
        guard (1...65535).contains(port) else { throw ValidationError("\(flag) must be in 1...65535, got \(port)") }
    }

    /// A positive count (threads, for example), if given.
    public static func positive(_ value: Int?, flag: String) throws {
        if let value, value < 1 { throw ValidationError("\(flag) must be at least 1, got \(value)") }
    }

    /// A host name or address: not empty.
    public static func host(_ host: String, flag: String = "--host") throws {
        guard !host.isEmpty else { throw ValidationError("\(flag) must not be empty") }
    }

    /// A file the program must read (a certificate or key): it exists and is readable.
    public static func readableFile(_ path: String, flag: String) throws {
        guard access(path, R_OK) == 0 else {
            throw ValidationError("\(flag) \(path): \(String(cString: strerror(errno)))")
        }
    }
}
