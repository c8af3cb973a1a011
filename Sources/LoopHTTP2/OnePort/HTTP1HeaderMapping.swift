import LoopHTTP1

/// HTTP/1.1 messages to HTTP/2 header lists and back (RFC 9113 §8.2.2, §8.3; RFC 9112 §3.2,
/// §7.6.1), for ``HTTP1Bridge``. I/O-free.
enum HTTP1HeaderMapping {
    /// Fields that describe one HTTP/1.1 connection and never travel in HTTP/2 (RFC 9113
    /// §8.2.2), plus Host (it becomes `:authority`) and the h2c upgrade's own fields.
    /// `name` is lower-case. By length, then by comparison: no hashing per field.
    static func isConnectionSpecific(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: return name == "host"
        case 6: return name == "expect"
        case 7: return name == "upgrade"
        case 10: return name == "connection" || name == "keep-alive"
        case 14: return name == "http2-settings"
        case 16: return name == "proxy-connection"
        case 17: return name == "transfer-encoding"
        default: return false
        }
    }

    /// `name` with ASCII letters in lower case; the same string (no copy) when it has none in
    /// upper case, as HTTP/2 names and most clients' already are.
    static func lowercasedName(_ name: String) -> String {
        name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? name.lowercased() : name
    }

    /// The HTTP/2 header list of a request: pseudo-headers first, then the fields with
    /// lower-case names, without connection-specific ones (and those the Connection field
    /// names), `te` only as "trailers".
    static func requestHeaders(_ head: HTTP1RequestHead, scheme: String) -> [HPACKHeader] {
        var authority = head.host ?? ""
        var path = head.target
        // Absolute-form (RFC 9112 §3.2.2): the target's authority wins over Host.
        if path.utf8.first != UInt8(ascii: "/"), let schemeEnd = Self.authorityStart(path) {
            let rest = path[schemeEnd...]
            let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            authority = String(rest[..<slash])
            let remainder = rest[slash...]
            path = remainder.isEmpty ? "/" : (remainder.first == "?" ? "/" + remainder : String(remainder))
        }
        var list: [HPACKHeader] = []
        list.reserveCapacity(head.fields.count + 4)
        list.append(HPACKHeader(":method", head.method))
        list.append(HPACKHeader(":scheme", scheme))
        list.append(HPACKHeader(":path", path))
        if !authority.isEmpty { list.append(HPACKHeader(":authority", authority)) }
        let named = head.fields.contains("connection")
            ? head.fields.values("connection").flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces.lowercased() } : []
        for field in head.fields {
            let name = lowercasedName(field.name)
            if isConnectionSpecific(name) || (!named.isEmpty && named.contains(name)) { continue }
            if name == "te" {
                if HTTP1Fields.equalIgnoringCase(String(field.value.trimmingSpaces), "trailers") { list.append(HPACKHeader("te", "trailers")) }
                continue
            }
            list.append(HPACKHeader(name, field.value))
        }
        return list
    }

    /// Where the authority of an absolute-form target starts (past "scheme://").
    private static func authorityStart(_ target: String) -> String.Index? {
        var index = target.startIndex
        while index < target.endIndex {
            let character = target[index]
            if character == ":" {
                let rest = target[index...]
                return rest.hasPrefix("://") ? target.index(index, offsetBy: 3) : nil
            }
            guard character.isLetter || character.isNumber || character == "+" || character == "-" || character == "." else { return nil }
            index = target.index(after: index)
        }
        return nil
    }

    /// A request's trailer fields for HTTP/2: lower-case, no pseudo or connection-specific ones.
    static func trailers(_ fields: HTTP1Fields) -> [HPACKHeader] {
        fields.compactMap { field in
            let name = lowercasedName(field.name)
            return isConnectionSpecific(name) || name == "te" || name == "content-length" ? nil : HPACKHeader(name, field.value)
        }
    }

    /// An HTTP/2 response head as HTTP/1.1: the status, the fields (without `content-length`,
    /// which the encoder writes from `contentLength`), and the content length if one was given.
    static func responseHead(_ list: [HPACKHeader]) -> (head: HTTP1ResponseHead, contentLength: Int?)? {
        var status: Int?
        var fields = HTTP1Fields()
        fields.reserveCapacity(list.count)
        var contentLength: Int?
        for header in list {
            if header.name == ":status" {
                status = Int(header.value)
            } else if header.name == "content-length" {
                contentLength = Int(header.value)
            } else if header.name.utf8.first != UInt8(ascii: ":") {
                fields.add(header.name, header.value)
            }
        }
        guard let status, (100...999).contains(status) else { return nil }
        return (HTTP1ResponseHead(status: status, fields: fields), contentLength)
    }

    /// Trailers for a chunked HTTP/1.1 body.
    static func responseTrailers(_ list: [HPACKHeader]) -> HTTP1Fields {
        var fields = HTTP1Fields()
        for header in list where header.name.utf8.first != UInt8(ascii: ":") { fields.add(header.name, header.value) }
        return fields
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (optional whitespace, RFC 9110 §5.6.3).
    var trimmingSpaces: Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}
