import Loop
import Testing
@testable import LoopHTTP2

/// grpc.health.v1.Health/Check as raw HTTP/2 (HTTP2HealthProbe).
@Suite struct HTTP2HealthProbeTests {
    private let head = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc")]

    @Test func theRequestIsAGRPCPostWithAnEmptyMessage() {
        let request = HTTP2HealthProbe.requestHead(authority: "127.0.0.1:50051")
        #expect(request.map(\.description) == [
            ":method: POST", ":scheme: http", ":path: /grpc.health.v1.Health/Check", ":authority: 127.0.0.1:50051",
            "content-type: application/grpc", "te: trailers",
        ])
        #expect(HTTP2HeaderValidation.requestProblem(request) == nil)
        #expect(Array(HTTP2HealthProbe.requestBody.readableBytesView) == [0, 0, 0, 0, 0])
    }

    @Test func servingIsMessage0801AndStatus0() {
        var probe = HTTP2HealthProbe()
        probe.receiveHeaders(head, endStream: false)
        probe.receiveData(ByteBuffer(bytes: [0, 0, 0, 0, 2]))
        probe.receiveData(ByteBuffer(bytes: [0x08, 0x01]))   // split anywhere
        #expect(probe.verdict == nil)
        probe.receiveHeaders([HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(probe.verdict == .serving)
    }

    @Test func notServingUnknownOrFailedCallsAreNotServing() {
        var notServing = HTTP2HealthProbe()
        notServing.receiveHeaders(head, endStream: false)
        notServing.receiveData(ByteBuffer(bytes: [0, 0, 0, 0, 2, 0x08, 0x02]))
        notServing.receiveHeaders([HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(notServing.verdict == .notServing("status is not SERVING (response bytes 00 00 00 00 02 08 02)"))

        var trailersOnly = HTTP2HealthProbe()
        trailersOnly.receiveHeaders(head + [HPACKHeader("grpc-status", "12")], endStream: true)
        #expect(trailersOnly.verdict == .notServing("grpc-status 12"))

        var http = HTTP2HealthProbe()
        http.receiveHeaders([HPACKHeader(":status", "503")], endStream: true)
        #expect(http.verdict == .notServing("HTTP status 503"))

        var reset = HTTP2HealthProbe()
        reset.receiveHeaders(head, endStream: false)
        reset.failed("stream reset (CANCEL)")
        reset.receiveHeaders([HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(reset.verdict == .notServing("stream reset (CANCEL)"))
    }
}
