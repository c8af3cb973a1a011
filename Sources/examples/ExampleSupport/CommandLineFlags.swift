/// `--name value` (or `--name=value`) pairs and bare `--flag`s from the command line, for
/// the example programs.
public struct CommandLineFlags: Sendable {
    private let arguments: [String]

    public init(_ arguments: [String]) { self.arguments = arguments }

    /// The value given for `flag`, if any.
    public func value(_ flag: String) -> String? {
        if let index = arguments.firstIndex(of: flag), index + 1 < arguments.count { return arguments[index + 1] }
        let prefix = flag + "="
        return arguments.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// True when `flag` appears.
    public func has(_ flag: String) -> Bool { arguments.contains(flag) }
}
