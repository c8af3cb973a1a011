/// A header block that cannot be decoded. Each is a COMPRESSION_ERROR connection error
/// (RFC 9113 §4.3) except `headerListTooLarge`, which refuses only the stream.
public enum HPACKError: Error, Equatable, CustomStringConvertible {
    /// The block ended inside a representation.
    case truncated
    /// An integer does not fit the decoder's limit (RFC 7541 §5.1).
    case integerOverflow
    /// An index of 0 or past the static and dynamic tables (RFC 7541 §2.3.3).
    case invalidIndex(Int)
    /// The Huffman string contains the EOS symbol (RFC 7541 §5.2).
    case huffmanEOS
    /// The Huffman padding is longer than 7 bits or not the EOS prefix (RFC 7541 §5.2).
    case invalidHuffmanPadding
    /// A dynamic table size update after the first field of a block (RFC 7541 §4.2).
    case tableSizeUpdateNotAtStart
    /// A dynamic table size update above the limit we announced (RFC 7541 §6.3).
    case tableSizeUpdateTooLarge(requested: Int, maximum: Int)
    /// The decoded header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2).
    case headerListTooLarge(maximum: Int)
    /// A string literal longer than the decoder accepts.
    case stringTooLong(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .truncated: return "HPACKError.truncated: the header block ends inside a field"
        case .integerOverflow: return "HPACKError.integerOverflow: an integer in the header block is too large"
        case .invalidIndex(let index): return "HPACKError.invalidIndex: no header table entry \(index)"
        case .huffmanEOS: return "HPACKError.huffmanEOS: a Huffman string contains the EOS symbol"
        case .invalidHuffmanPadding: return "HPACKError.invalidHuffmanPadding: a Huffman string has invalid padding"
        case .tableSizeUpdateNotAtStart:
            return "HPACKError.tableSizeUpdateNotAtStart: a dynamic table size update follows a header field"
        case .tableSizeUpdateTooLarge(let requested, let maximum):
            return "HPACKError.tableSizeUpdateTooLarge: dynamic table size \(requested) exceeds the limit of \(maximum)"
        case .headerListTooLarge(let maximum):
            return "HPACKError.headerListTooLarge: the header list exceeds \(maximum) bytes"
        case .stringTooLong(let length, let maximum):
            return "HPACKError.stringTooLong: a \(length)-byte string exceeds the limit of \(maximum)"
        }
    }
}
