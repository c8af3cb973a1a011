/// Accumulates generated Swift source line by line, with four-space indentation.
struct SourceWriter {
    /// The text written so far.
    private(set) var text = ""
    private var indentation = 0

    /// Lines longer than this are split where the writer offers a choice (see
    /// ``declaration(_:parameters:suffix:)``).
    static let lineLimit = 100

    /// Writes one line at the current indentation; an empty line has no trailing spaces.
    mutating func line(_ content: String = "") {
        if !content.isEmpty {
            text += String(repeating: "    ", count: indentation)
            text += content
        }
        text += "\n"
    }

    /// Writes `comment` as `///` documentation comments (blank trailing lines dropped).
    mutating func documentation(_ comment: String) {
        // "\r\n" is one Character in Swift: split on every kind of line break.
        var lines = comment.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        while let last = lines.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) {
            lines.removeLast()
        }
        for commentLine in lines {
            line("///" + String(commentLine))
        }
    }

    /// Writes `head(parameters)suffix` on one line when it fits in ``lineLimit``, otherwise
    /// with one parameter a line.
    mutating func declaration(_ head: String, parameters: [String], suffix: String) {
        let oneLine = head + "(" + parameters.joined(separator: ", ") + ")" + suffix
        if String(repeating: "    ", count: indentation).count + oneLine.count <= Self.lineLimit {
            line(oneLine)
            return
        }
        line(head + "(")
        indented {
            for (index, parameter) in parameters.enumerated() {
                $0.line(parameter + (index == parameters.count - 1 ? "" : ","))
            }
        }
        line(")" + suffix)
    }

    /// Runs `body` one level deeper.
    mutating func indented(_ body: (inout SourceWriter) -> Void) {
        indentation += 1
        body(&self)
        indentation -= 1
    }
}
