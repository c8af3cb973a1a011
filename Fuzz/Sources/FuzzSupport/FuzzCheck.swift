/// Invariant checks: a broken invariant is a finding, so it must crash the process for
/// libFuzzer to record the input (`precondition` would be compiled out in -Ounchecked, and
/// its message is less telling).
public enum FuzzCheck {
    public static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                             file: StaticString = #fileID, line: UInt = #line) {
        guard !condition() else { return }
        fatalError("fuzz invariant broken: \(message())", file: file, line: line)
    }
}
