import Glibc
import Loop

/// Reads files under a root directory; refuses paths that climb out of it.
struct StaticFiles: Sendable {
    let root: String

    func read(_ relativePath: String) -> ByteBuffer? {
        let parts = relativePath.split(separator: "/")
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        let path = root + "/" + parts.joined(separator: "/")
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= 64 << 20 else { return nil }
        var buffer = ByteBuffer(capacity: Int(info.st_size))
        while true {
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 65_536) { raw in
                max(0, Glibc.read(fd, raw.baseAddress, raw.count))
            }
            if count == 0 { break }
        }
        return buffer
    }
}
