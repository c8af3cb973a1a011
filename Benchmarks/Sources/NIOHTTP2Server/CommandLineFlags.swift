/// `--name value` (or `--name=value`) pairs from the command line.
struct CommandLineFlags {
    private let arguments: [String]
    init(_ arguments: [String]) { self.arguments = arguments }

    func value(_ flag: String) -> String? {
        if let index = arguments.firstIndex(of: flag), index + 1 < arguments.count { return arguments[index + 1] }
        let prefix = flag + "="
        return arguments.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}
