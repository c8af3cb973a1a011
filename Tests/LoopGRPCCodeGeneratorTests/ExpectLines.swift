import Testing

/// Expects `actual == expected`, and on a mismatch also reports the first line that differs,
/// so a failure in a long generated file points at the place.
func expectLines(
    _ actual: String,
    _ expected: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual != expected else { return }
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    for index in 0..<max(actualLines.count, expectedLines.count) {
        let actualLine = index < actualLines.count ? String(actualLines[index]) : "<end of text>"
        let expectedLine = index < expectedLines.count ? String(expectedLines[index]) : "<end of text>"
        if actualLine != expectedLine {
            Issue.record(
                "line \(index + 1) differs:\n  actual:   \(actualLine)\n  expected: \(expectedLine)",
                sourceLocation: sourceLocation
            )
            break
        }
    }
    #expect(actual == expected, sourceLocation: sourceLocation)
}
