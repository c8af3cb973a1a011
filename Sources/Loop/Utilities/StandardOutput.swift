import CLibev

/// Makes standard output line-buffered, so a server's banner appears at once when piped.
public func lineBufferStandardOutput() {
    clibev_line_buffer_stdout()
}
