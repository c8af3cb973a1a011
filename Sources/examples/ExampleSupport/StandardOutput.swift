import CLibev

/// Makes standard output line-buffered, so a server's banner appears at once when piped
/// (through the C shim: Swift 6 sees Glibc's `stdout` as shared mutable state).
public func lineBufferStandardOutput() {
    clibev_line_buffer_stdout()
}
