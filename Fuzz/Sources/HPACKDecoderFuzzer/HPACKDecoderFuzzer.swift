import FuzzSupport
import Loop
import LoopHTTP2

/// Fuzzes `HPACKDecoder` (RFC 7541) over a sequence of header blocks sharing one dynamic
/// table, as the blocks of one connection do.
///
/// Input: a control byte (bits 0-1: the table size limit we announce, 0 / 64 / 256 / 4096;
/// bits 2-3: SETTINGS_MAX_HEADER_LIST_SIZE, 64 / 1024 / 16,384 / 65,536), then blocks, each
/// a 16-bit length and that many bytes.
///
/// Invariants: no crash; the dynamic table stays within its maximum and the maximum within
/// the announced limit; a decoded list is within the list limit; every decoded list,
/// encoded again by `HPACKEncoder`, decodes to the same fields (a second decoder follows
/// the encoder's table across blocks). An oversized list leaves the table in step (the
/// stream is refused, the connection goes on); any other error ends the run.
enum HPACKDecoderFuzzer {
    static let tableSizes = [0, 64, 256, 4096]
    static let listSizes = [64, 1024, 16_384, 65_536]

    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let tableSize = tableSizes[Int(control & 3)]
        let listSize = listSizes[Int(control >> 2 & 3)]
        var decoder = HPACKDecoder(maximumTableSize: 4096, maximumHeaderListSize: listSize)
        decoder.setMaximumTableSizeLimit(tableSize)
        var encoder = HPACKEncoder(maximumTableSize: 4096)
        var echo = HPACKDecoder(maximumTableSize: 4096, maximumHeaderListSize: Int.max / 2, maximumStringLength: Int.max / 2)

        while input.remainingCount > 0 {
            let block = input.buffer(count: Int(input.uint16()))
            let headers: [HPACKHeader]
            do {
                headers = try decoder.decode(block)
            } catch HPACKError.headerListTooLarge {
                checkTable(decoder)
                continue
            } catch {
                return
            }
            checkTable(decoder)
            // The limit counts octets on the wire (RFC 7541 §4.1); a String counts UTF-8, and
            // each octet that is not UTF-8 becomes U+FFFD, three bytes: at most three times.
            let size = headers.reduce(0) { $0 + $1.size }
            FuzzCheck.check(size <= 3 * listSize, "decoded a list of \(size) bytes past three times the limit of \(listSize)")

            var encoded = ByteBuffer()
            encoder.encode(headers, into: &encoded)
            let again: [HPACKHeader]
            do {
                again = try echo.decode(encoded)
            } catch {
                FuzzCheck.check(false, "HPACKEncoder's block for \(headers) does not decode: \(error)")
                return
            }
            FuzzCheck.check(again.map(\.name) == headers.map(\.name) && again.map(\.value) == headers.map(\.value),
                            "round trip changed \(headers) into \(again)")
        }
    }

    static func checkTable(_ decoder: HPACKDecoder) {
        FuzzCheck.check(decoder.dynamicTableSize <= decoder.dynamicTableMaximumSize
                            && decoder.dynamicTableMaximumSize <= decoder.maximumTableSizeLimit,
                        "table of \(decoder.dynamicTableSize) bytes, maximum \(decoder.dynamicTableMaximumSize), limit \(decoder.maximumTableSizeLimit)")
        FuzzCheck.check(decoder.dynamicTableCount <= decoder.dynamicTableMaximumSize / 32,
                        "\(decoder.dynamicTableCount) entries in a table of at most \(decoder.dynamicTableMaximumSize) bytes")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHPACKDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HPACKDecoderFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
