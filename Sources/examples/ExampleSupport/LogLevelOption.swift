import ArgumentParser

/// `--log-level LEVEL`: log through swift-log to standard error at LEVEL and above (the
/// libraries log nothing without it).
public struct LogLevelOption: ParsableArguments {
    /// swift-log's levels, by name.
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    @Option(help: ArgumentHelp("Log to standard error at this level and above: trace, debug, info, notice, warning, error or critical (default: no log).",
                               valueName: "level"))
    public var logLevel: String?

    public init() {}

    public func validate() throws {
        if let logLevel, !Self.levels.contains(logLevel) {
            throw ValidationError("--log-level must be one of \(Self.levels.joined(separator: ", ")), got \(logLevel.debugDescription)")
        }
    }
}
