import InteropTestSupport

/// How many calls ended with each status, by canonical code name ("PERMISSION_DENIED",
/// "CANCELLED", ...): the result of a run of aborted calls, whichever client made them.
/// "PERMISSION_DENIED_WRONG_MESSAGE" counts a PERMISSION_DENIED whose message was not the
/// one the server was asked for; the Loop client counts an error that is not a status as
/// "ERROR <type>".
struct StatusCounts: Sendable, Equatable, CustomStringConvertible {
    private(set) var counts: [String: Int] = [:]
    /// What the client said besides the counts (a peer's standard error), for messages.
    var note = ""

    init(_ counts: [String: Int] = [:]) { self.counts = counts }

    var total: Int { counts.values.reduce(0, +) }

    subscript(name: String) -> Int { counts[name, default: 0] }

    mutating func add(_ name: String, count: Int = 1) { counts[name, default: 0] += count }

    /// "PERMISSION_DENIED 998, CANCELLED 2": the most frequent first (then the note).
    var description: String {
        let text = counts.isEmpty ? "no calls"
            : counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return note.isEmpty ? text : "\(text) (\(note))"
    }

    /// The counts in a peer's output (grpcio_peer.py abort, abort_peer): lines
    /// "STATUS <CODE_NAME> <count>"; any other line is an error.
    init(peerOutput: String) throws {
        for line in peerOutput.split(separator: "\n") where !line.isEmpty {
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "STATUS", let count = Int(words[2]) else {
                throw InteropError("unexpected line in the peer's output: \(line)\nwhole output:\n\(peerOutput.suffix(3000))")
            }
            add(String(words[1]), count: count)
        }
    }
}
