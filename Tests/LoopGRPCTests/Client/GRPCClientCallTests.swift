import Testing
import Loop
import LoopHTTP2
@testable import LoopGRPC

/// The client call's response handling, events in and status out (no socket).
@Suite struct GRPCClientCallTests {
    let loop = EventLoop.makeEmbedded()

    func makeCall() -> GRPCClientCall {
        GRPCClientCall(loop: loop, path: "/a.B/C", requestCompression: nil, maxReceiveMessageSize: 1 << 20, maxSendMessageSize: .max,
                       partialMessages: GRPCCallBridgeTests.budget())
    }

    let okHead = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc")]

    func framed(_ text: String) throws -> ByteBuffer {
        try GRPCMessageFramer.frame(ByteBuffer(string: text), serializer: ByteBufferCodec(), compression: nil)
    }

    /// The stream-end rule (docs/architecture.md): complete trailers keep their status whatever RST_STREAM follows.
    @Test(arguments: [HTTP2ErrorCode.noError, .cancel, .internalError, .refusedStream])
    func trailersThenResetKeepsTheTrailersStatus(_ code: HTTP2ErrorCode) throws {
        let call = makeCall()
        call.receiveHeaders(okHead, endStream: false)
        call.receiveData(try framed("reply"), endStream: false)
        call.receiveHeaders([HPACKHeader("grpc-status", "0")], endStream: true)
        call.receiveReset(code)
        call.streamClosed()
        #expect(call.currentStatus == .ok)
    }

    @Test func resetBeforeTrailersMapsTheHTTP2Code() {
        let cases: [(HTTP2ErrorCode, GRPCStatus.Code)] = [
            (.cancel, .cancelled), (.refusedStream, .unavailable), (.enhanceYourCalm, .resourceExhausted),
            (.inadequateSecurity, .permissionDenied), (.noError, .internal), (.protocolError, .internal),
        ]
        for (code, expected) in cases {
            let call = makeCall()
            call.receiveHeaders(okHead, endStream: false)
            call.receiveReset(code)
            #expect(call.currentStatus?.code == expected, "RST_STREAM \(code)")
        }
    }

    /// http-grpc-status-mapping.md: no grpc-status → the HTTP status decides.
    @Test func httpStatusWithoutGRPCStatus() {
        for (status, expected) in [(503, GRPCStatus.Code.unavailable), (429, .unavailable), (404, .unimplemented),
                                   (401, .unauthenticated), (403, .permissionDenied), (400, .internal), (500, .unknown)] {
            let call = makeCall()
            call.receiveHeaders([HPACKHeader(":status", String(status)), HPACKHeader("content-type", "text/html")], endStream: true)
            #expect(call.currentStatus?.code == expected, "HTTP \(status)")
        }
    }

    @Test func trailersOnlyResponse() {
        let call = makeCall()
        call.receiveHeaders(okHead + [HPACKHeader("grpc-status", "5"), HPACKHeader("grpc-message", "not%20here"),
                                      HPACKHeader("x-extra", "1")], endStream: true)
        #expect(call.currentStatus == GRPCStatus(.notFound, "not here"))
        #expect(call.currentStatus?.trailingMetadata["x-extra"] == "1")
    }

    @Test func responseWithoutGRPCStatusIsInternal() throws {
        let call = makeCall()
        call.receiveHeaders(okHead, endStream: false)
        call.receiveHeaders([HPACKHeader("x-other", "1")], endStream: true)
        #expect(call.currentStatus == GRPCStatus(.internal, "the response ended without grpc-status"))
    }

    @Test func nonGRPCContentTypeIsUnknown() {
        let call = makeCall()
        call.receiveHeaders([HPACKHeader(":status", "200"), HPACKHeader("content-type", "text/html")], endStream: false)
        #expect(call.currentStatus == GRPCStatus(.unknown, "the response's content-type \"text/html\" is not gRPC"))
    }

    @Test func unsupportedResponseEncodingIsInternal() {
        let call = makeCall()
        call.receiveHeaders(okHead + [HPACKHeader("grpc-encoding", "snappy")], endStream: false)
        #expect(call.currentStatus == GRPCStatus(.internal, "the server used grpc-encoding \"snappy\", which this client does not support"))
    }

    @Test func endInsideAMessageIsInternal() throws {
        let call = makeCall()
        call.receiveHeaders(okHead, endStream: false)
        var partial = try framed("truncated")
        partial.moveWriterIndex(to: partial.writerIndex - 3)
        call.receiveData(partial, endStream: false)
        call.receiveHeaders([HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(call.currentStatus == GRPCStatus(.internal, "the response ended inside a message"))
    }

    @Test func dataEndingTheStreamWithoutTrailersIsInternal() throws {
        let call = makeCall()
        call.receiveHeaders(okHead, endStream: false)
        call.receiveData(try framed("x"), endStream: true)
        #expect(call.currentStatus == GRPCStatus(.internal, "the response ended without trailers"))
    }

    @Test func closedWithoutStatusIsUnavailable() {
        let call = makeCall()
        call.receiveHeaders(okHead, endStream: false)
        call.streamClosed()
        #expect(call.currentStatus == GRPCStatus(.unavailable, "the connection closed before the call completed"))
    }

    @Test func localCancellationWins() {
        let call = makeCall()
        call.cancel(GRPCStatus(.deadlineExceeded, "late"))
        call.receiveHeaders(okHead + [HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(call.currentStatus == GRPCStatus(.deadlineExceeded, "late"))
    }

    @Test func backoffGrowsWithJitterUpToTheMaximum() {
        let backoff = GRPCBackoff()
        #expect(backoff.delay(attempt: 0, random: 0.5) == .seconds(1))
        #expect(backoff.delay(attempt: 1, random: 0.5) == .milliseconds(1600))
        #expect(backoff.delay(attempt: 0, random: 0) == .milliseconds(800))
        #expect(backoff.delay(attempt: 0, random: 0.999_999) > .milliseconds(1199))
        #expect(backoff.delay(attempt: 50, random: 0.5) == .seconds(120))
        #expect(backoff.delay(attempt: 50, random: 0.999_999) <= .seconds(144))
    }
}
