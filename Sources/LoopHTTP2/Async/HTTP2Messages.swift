import Loop

/// A request head: pseudo-headers pulled out, regular headers in order.
public struct HTTP2RequestHead: Sendable, Equatable {
    public var method: String
    public var path: String
    public var scheme: String
    public var authority: String
    /// Regular (non-pseudo) headers.
    public var headers: [HPACKHeader]

    public init(method: String, path: String, scheme: String = "http", authority: String = "", headers: [HPACKHeader] = []) {
        self.method = method
        self.path = path
        self.scheme = scheme
        self.authority = authority
        self.headers = headers
    }

    init(decoding list: [HPACKHeader]) {
        var head = HTTP2RequestHead(method: "", path: "")
        head.headers.reserveCapacity(list.count)
        for header in list {
            // Regular headers (most of the list) by their first byte; only pseudo-headers
            // are compared by name.
            guard header.name.utf8.first == UInt8(ascii: ":") else {
                head.headers.append(header)
                continue
            }
            switch header.name {
            case ":method": head.method = header.value
            case ":path": head.path = header.value
            case ":scheme": head.scheme = header.value
            case ":authority": head.authority = header.value
            default: break
            }
        }
        self = head
    }

    /// The header list on the wire: pseudo-headers first (RFC 9113 §8.3).
    var headerList: [HPACKHeader] {
        var list = [HPACKHeader(":method", method), HPACKHeader(":scheme", scheme), HPACKHeader(":path", path)]
        if !authority.isEmpty { list.append(HPACKHeader(":authority", authority)) }
        list.append(contentsOf: headers)
        return list
    }

    /// The first value of the header `name` (lower-case). For `cookie`, every cookie field
    /// joined with "; ": HTTP/2 clients may split cookies into separate fields, and RFC 9113
    /// §8.2.3 asks for them to be put back together before an application sees them.
    public func header(_ name: String) -> String? {
        guard name == "cookie" else { return headers.first { $0.name == name }?.value }
        let crumbs = headers.filter { $0.name == "cookie" }.map(\.value)
        return crumbs.isEmpty ? nil : crumbs.joined(separator: "; ")
    }
}

/// A response head.
public struct HTTP2ResponseHead: Sendable, Equatable {
    public var status: Int
    /// Regular (non-pseudo) headers.
    public var headers: [HPACKHeader]

    public init(status: Int, headers: [HPACKHeader] = []) {
        self.status = status
        self.headers = headers
    }

    init(decoding list: [HPACKHeader]) {
        var head = HTTP2ResponseHead(status: 0)
        for header in list {
            if header.name == ":status" {
                head.status = Int(header.value) ?? 0
            } else if header.name.utf8.first != UInt8(ascii: ":") {
                head.headers.append(header)
            }
        }
        self = head
    }

    var headerList: [HPACKHeader] {
        // One allocation: `[status] + headers` makes a one-element array, then grows it.
        var list: [HPACKHeader] = []
        list.reserveCapacity(headers.count + 1)
        list.append(HPACKHeader(":status", String(status)))
        list.append(contentsOf: headers)
        return list
    }

    /// The first value of the header `name` (lower-case).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// A stream ended by RST_STREAM.
public struct HTTP2StreamResetError: Error, Equatable, CustomStringConvertible {
    public let code: HTTP2ErrorCode
    public init(code: HTTP2ErrorCode) { self.code = code }
    public var description: String { "HTTP2StreamResetError: the stream was reset with \(code)" }
}

/// A body larger than the caller allowed.
public struct HTTP2BodyTooLargeError: Error, Equatable, CustomStringConvertible {
    public let limit: Int
    public var description: String { "HTTP2BodyTooLargeError: the body exceeds \(limit) bytes" }
}
