import ArgumentParser

/// What parsing `arguments` as `T` ends with when it fails: the message the program would
/// print and its exit status. Nil when the arguments parse.
func failure<T: ParsableArguments>(_ type: T.Type, _ arguments: [String]) -> (message: String, status: Int32)? {
    do {
        _ = try T.parse(arguments)
        return nil
    } catch {
        return (T.fullMessage(for: error), T.exitCode(for: error).rawValue)
    }
}

/// The exit status ArgumentParser gives bad input (EX_USAGE).
let usageStatus = ExitCode.validationFailure.rawValue
