import FuzzSupport
import Loop
import LoopHTTP1

/// Fuzzes `HTTP1ResponseParser`: responses split anywhere, with small limits, to requests of
/// methods the input picks (so HEAD and CONNECT are reached).
///
/// Input: a chunk size (0: one chunk), a limit byte (the status line, field bytes and body
/// limits are scaled from it), a method byte (two bits per request, four requests: GET,
/// HEAD, POST, CONNECT), then the bytes of one or more pipelined responses; EOF
/// (`finish()`) after the last.
///
/// Invariants: no crash; the parts and the error are the same whether the bytes arrive at
/// once or in chunks; parts come in order (head, body pieces, end; an interim 1xx head only
/// where a head may come); no body for HEAD, 1xx, 204, 304; no body past its limit; every
/// error is 502 and final; after a protocol switch nothing more is parsed.
enum HTTP1ResponseParserFuzzer {
    static let methods = ["GET", "HEAD", "POST", "CONNECT"]

    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let chunkSize = Int(input.byte())
        let scale = Int(input.byte() & 0x3F) + 1
        let methodBits = input.byte()
        var limits = HTTP1Limits()
        limits.maxStatusLineLength = scale * 16
        limits.maxFieldBytes = scale * 32
        limits.maxFields = scale
        limits.maxBodySize = scale * 64
        let requests = (0..<4).map { methods[Int(methodBits >> ($0 * 2)) & 3] }
        let bytes = input.buffer(count: input.remainingCount)

        let whole = parse([bytes], requests: requests, limits: limits)
        var chunks: [ByteBuffer] = []
        var remaining = bytes
        while remaining.readableBytes > 0 {
            chunks.append(remaining.readSlice(length: min(max(chunkSize, 1), remaining.readableBytes))!)
        }
        let split = parse(chunks, requests: requests, limits: limits)
        FuzzCheck.check(whole.parts == split.parts && whole.error == split.error,
                        "whole input gave \(whole.parts) and \(String(describing: whole.error)), chunks of \(chunkSize) gave \(split.parts) and \(String(describing: split.error))")
    }

    struct Outcome {
        var parts: [String] = []
        var error: HTTP1ParseError?
    }

    static func parse(_ chunks: [ByteBuffer], requests: [String], limits: HTTP1Limits) -> Outcome {
        var parser = HTTP1ResponseParser(limits: limits)
        for method in requests { parser.expectResponse(to: method) }
        var outcome = Outcome()
        var input = ByteBuffer()
        var inBody = false
        var bodiless = false
        var bodyBytes = 0
        var answered = 0
        func check(_ part: HTTP1ResponsePart) {
            switch part {
            case .head(let head):
                FuzzCheck.check(!inBody, "a head inside a body")
                FuzzCheck.check((100...599).contains(head.status), "status \(head.status)")
                outcome.parts.append("head \(head.status) \(head.fields.count) \(head.framing)")
                if head.isInformational && head.status != 101 { return }
                let method = requests[answered]
                answered += 1
                inBody = true
                bodyBytes = 0
                bodiless = method == "HEAD" || head.isInformational || head.status == 204 || head.status == 304
                    || (method == "CONNECT" && (200..<300).contains(head.status))
                FuzzCheck.check(!bodiless || head.framing == .none, "framing \(head.framing) for \(method) → \(head.status)")
            case .body(let bytes):
                FuzzCheck.check(inBody, "a body piece outside a response")
                FuzzCheck.check(!bodiless, "a body in a bodiless response")
                bodyBytes += bytes.readableBytes
                FuzzCheck.check(bodyBytes <= limits.maxBodySize, "a body of \(bodyBytes) past the limit \(limits.maxBodySize)")
            case .end(let trailers):
                FuzzCheck.check(inBody, "an end outside a response")
                inBody = false
                outcome.parts.append("end \(bodyBytes) \(trailers.count)")
            }
        }
        func failed(_ error: HTTP1ParseError) -> Outcome {
            FuzzCheck.check(error.status == 502, "status \(error.status)")
            outcome.error = error
            var again = ByteBuffer(string: "HTTP/1.1 204 No Content\r\n\r\n")
            FuzzCheck.check((try? parser.next(&again)) == nil, "a part parsed after an error")
            return outcome
        }
        for var chunk in chunks {
            input.writeBuffer(&chunk)
            do {
                while let part = try parser.next(&input) { check(part) }
            } catch {
                return failed(error)
            }
        }
        do {
            if let part = try parser.finish() { check(part) }
        } catch {
            return failed(error)
        }
        FuzzCheck.check(!inBody || parser.hasSwitchedProtocols, "a body left open after finish()")
        return outcome
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1ResponseParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HTTP1ResponseParserFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
