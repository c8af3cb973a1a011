/// The static table (RFC 7541 Appendix A): 61 entries, index 1 first.
enum HPACKStaticTable {
    static let entries: [(name: String, value: String)] = [
        (":authority", ""),
        (":method", "GET"),
        (":method", "POST"),
        (":path", "/"),
        (":path", "/index.html"),
        (":scheme", "http"),
        (":scheme", "https"),
        (":status", "200"),
        (":status", "204"),
        (":status", "206"),
        (":status", "304"),
        (":status", "400"),
        (":status", "404"),
        (":status", "500"),
        ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"),
        ("accept-language", ""),
        ("accept-ranges", ""),
        ("accept", ""),
        ("access-control-allow-origin", ""),
        ("age", ""),
        ("allow", ""),
        ("authorization", ""),
        ("cache-control", ""),
        ("content-disposition", ""),
        ("content-encoding", ""),
        ("content-language", ""),
        ("content-length", ""),
        ("content-location", ""),
        ("content-range", ""),
        ("content-type", ""),
        ("cookie", ""),
        ("date", ""),
        ("etag", ""),
        ("expect", ""),
        ("expires", ""),
        ("from", ""),
        ("host", ""),
        ("if-match", ""),
        ("if-modified-since", ""),
        ("if-none-match", ""),
        ("if-range", ""),
        ("if-unmodified-since", ""),
        ("last-modified", ""),
        ("link", ""),
        ("location", ""),
        ("max-forwards", ""),
        ("proxy-authenticate", ""),
        ("proxy-authorization", ""),
        ("range", ""),
        ("referer", ""),
        ("refresh", ""),
        ("retry-after", ""),
        ("server", ""),
        ("set-cookie", ""),
        ("strict-transport-security", ""),
        ("transfer-encoding", ""),
        ("user-agent", ""),
        ("vary", ""),
        ("via", ""),
        ("www-authenticate", ""),
    ]

    /// The static entries named `name`: the index of the first and how many there are (entries
    /// sharing a name are adjacent). Found by length and last byte, then compared by value:
    /// no string hashing on the encoder's hot path.
    static func entries(named name: String) -> (first: Int, count: Int)? {
        let utf8 = name.utf8
        let length = utf8.count
        guard length > 0 && length < 32, let last = utf8.last else { return nil }
        for candidate in nameBuckets[length << 7 | Int(last & 0x7F)] where entries[Int(candidate.first) - 1].name == name {
            return (Int(candidate.first), Int(candidate.count))
        }
        return nil
    }

    private static let nameBuckets: [[(first: UInt8, count: UInt8)]] = {
        var buckets = [[(first: UInt8, count: UInt8)]](repeating: [], count: 32 << 7)
        var index = 0
        while index < entries.count {
            let name = entries[index].name
            var count = 1
            while index + count < entries.count && entries[index + count].name == name { count += 1 }
            let key = name.utf8.count << 7 | Int(name.utf8.last! & 0x7F)
            buckets[key].append((UInt8(index + 1), UInt8(count)))
            index += count
        }
        return buckets
    }()
}
