/// HTTP semantics rules for header lists (RFC 9113 §8.2, §8.3): a list that breaks them is
/// malformed, a stream error of type PROTOCOL_ERROR (§8.1.1).
enum HTTP2HeaderValidation {
    private static let connectionSpecific: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]
    private static let requestPseudo: Set<String> = [":method", ":scheme", ":path", ":authority", ":protocol"]

    /// Checks a request head; returns why it is malformed, or nil.
    static func requestProblem(_ headers: [HPACKHeader]) -> String? {
        var seen = Set<String>()
        var regularSeen = false
        var method: String?
        var path: String?
        var scheme: String?
        for header in headers {
            if let problem = fieldProblem(header) { return problem }
            if header.name.hasPrefix(":") {
                guard !regularSeen else { return "pseudo-header \(header.name) after a regular header (RFC 9113 §8.3)" }
                guard requestPseudo.contains(header.name) else { return "unknown request pseudo-header \(header.name) (RFC 9113 §8.3)" }
                guard seen.insert(header.name).inserted else { return "duplicate \(header.name) (RFC 9113 §8.3.1)" }
                switch header.name {
                case ":method": method = header.value
                case ":path": path = header.value
                case ":scheme": scheme = header.value
                default: break
                }
            } else {
                regularSeen = true
            }
        }
        guard let method else { return "request without :method (RFC 9113 §8.3.1)" }
        if method == "CONNECT" && !seen.contains(":protocol") { return nil }
        guard scheme != nil else { return "request without :scheme (RFC 9113 §8.3.1)" }
        guard let path, !path.isEmpty else { return "request without a non-empty :path (RFC 9113 §8.3.1)" }
        return nil
    }

    /// Checks a response head or a trailer block.
    static func responseProblem(_ headers: [HPACKHeader], isTrailers: Bool) -> String? {
        var regularSeen = false
        var status = false
        for header in headers {
            if let problem = fieldProblem(header) { return problem }
            if header.name.hasPrefix(":") {
                guard !isTrailers else { return "pseudo-header \(header.name) in trailers (RFC 9113 §8.1)" }
                guard !regularSeen else { return "pseudo-header \(header.name) after a regular header (RFC 9113 §8.3)" }
                guard header.name == ":status", !status else { return "unexpected response pseudo-header \(header.name) (RFC 9113 §8.3.2)" }
                status = true
            } else {
                regularSeen = true
            }
        }
        if !isTrailers && !status { return "response without :status (RFC 9113 §8.3.2)" }
        return nil
    }

    /// Trailers of a request (no pseudo-headers allowed).
    static func requestTrailersProblem(_ headers: [HPACKHeader]) -> String? {
        responseProblem(headers, isTrailers: true)
    }

    /// The content-length of a head, nil when absent; differing or invalid values make the
    /// message malformed (RFC 9110 §8.6, RFC 9113 §8.1.1).
    static func contentLength(_ headers: [HPACKHeader], streamID: UInt32) throws(HTTP2ProtocolError) -> Int? {
        var length: Int?
        for header in headers where header.name == "content-length" {
            for part in header.value.split(separator: ",", omittingEmptySubsequences: false) {
                let text = part.trimmingSpaces
                guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                      let value = Int(text), length == nil || length == value else {
                    throw .stream(streamID, .protocolError, "invalid content-length \"\(header.value)\" (RFC 9113 §8.1.1)")
                }
                length = value
            }
        }
        return length
    }

    private static func fieldProblem(_ header: HPACKHeader) -> String? {
        for byte in header.name.utf8 where byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
            return "upper-case header name \(header.name) (RFC 9113 §8.2.1)"
        }
        if connectionSpecific.contains(header.name) { return "connection-specific header \(header.name) (RFC 9113 §8.2.2)" }
        if header.name == "te" && header.value != "trailers" { return "te header other than \"trailers\" (RFC 9113 §8.2.2)" }
        return nil
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
