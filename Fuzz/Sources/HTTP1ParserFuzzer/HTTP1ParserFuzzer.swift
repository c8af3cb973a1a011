import FuzzSupport
import Loop
import LoopHTTP1

/// Fuzzes `HTTP1RequestParser`: requests split anywhere, with small limits.
///
/// Input: a chunk size (0: one chunk), a limit byte (the request line, field bytes and body
/// limits are scaled from it), then the bytes of one or more pipelined requests.
///
/// Invariants: no crash; the parts and the error are the same whether the bytes arrive at
/// once or in chunks; parts come in order (head, body pieces, end); no body passes its
/// limit; an error's status is one of 400, 413, 414, 431, 501, 505; after an error nothing
/// more is parsed.
enum HTTP1ParserFuzzer {
    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let chunkSize = Int(input.byte())
        let scale = Int(input.byte() & 0x3F) + 1
        var limits = HTTP1Limits()
        limits.maxRequestLineLength = scale * 16
        limits.maxFieldBytes = scale * 32
        limits.maxFields = scale
        limits.maxBodySize = scale * 64
        let bytes = input.buffer(count: input.remainingCount)

        let whole = parse([bytes], limits: limits)
        var chunks: [ByteBuffer] = []
        var remaining = bytes
        while remaining.readableBytes > 0 {
            chunks.append(remaining.readSlice(length: min(max(chunkSize, 1), remaining.readableBytes))!)
        }
        let split = parse(chunks, limits: limits)
        FuzzCheck.check(whole.parts == split.parts && whole.error == split.error,
                        "whole input gave \(whole.parts.count) parts and \(String(describing: whole.error)), chunks of \(chunkSize) gave \(split.parts.count) and \(String(describing: split.error))")
    }

    struct Outcome {
        var parts: [String] = []
        var error: HTTP1ParseError?
    }

    static func parse(_ chunks: [ByteBuffer], limits: HTTP1Limits) -> Outcome {
        var parser = HTTP1RequestParser(limits: limits)
        var outcome = Outcome()
        var input = ByteBuffer()
        var inBody = false
        var bodyBytes = 0
        for var chunk in chunks {
            input.writeBuffer(&chunk)
            do {
                while let part = try parser.next(&input) {
                    switch part {
                    case .head(let head):
                        FuzzCheck.check(!inBody, "a head inside a body")
                        inBody = true
                        bodyBytes = 0
                        outcome.parts.append("head \(head.method) \(head.target) \(head.fields.count) \(head.framing)")
                    case .body(let bytes):
                        FuzzCheck.check(inBody, "a body piece outside a request")
                        bodyBytes += bytes.readableBytes
                        FuzzCheck.check(bodyBytes <= limits.maxBodySize, "a body of \(bodyBytes) past the limit \(limits.maxBodySize)")
                        // Pieces are split differently by chunking: record the total at the end.
                    case .end(let trailers):
                        FuzzCheck.check(inBody, "an end outside a request")
                        inBody = false
                        outcome.parts.append("end \(bodyBytes) \(trailers.count)")
                    }
                }
            } catch {
                FuzzCheck.check([400, 413, 414, 431, 501, 505].contains(error.status), "status \(error.status)")
                outcome.error = error
                var again = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
                FuzzCheck.check((try? parser.next(&again)) == nil, "a part parsed after an error")
                return outcome
            }
        }
        return outcome
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1Parser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HTTP1ParserFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
