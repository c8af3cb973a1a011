import Foundation
import InteropTestSupport
import LoopHTTP2
import Testing

extension InteropTests {
    /// Malformed and abusive frame sequences against the HTTP2Server example, sent by a raw
    /// driver (Scripts/h2_raw_driver.py: raw bytes, HPACK from PyPI `hpack`), with the EXACT
    /// answer read back from the socket asserted here (docs/architecture.md, exact protocol answers). Each case gets
    /// a fresh server; after the abusive connection, the server must still answer a normal
    /// GET /hello on a new connection (curl), and must still be running.
    @Suite struct RawFrameInteropTests {
        /// What the driver reports for one case (see the script's docstring).
        struct DriverResult: Decodable, CustomStringConvertible {
            let `case`: String
            let error: String?
            let frames: [String]?
            let closed: Bool?
            let serverSettings: Bool?
            let firstFrame: String?
            let firstByteMs: Double?
            let goawayDebug: String?
            let sendError: String?
            let readError: String?
            let seconds: Double?

            var description: String {
                "frames \(frames ?? []), closed \(closed.map(String.init) ?? "?"), goaway debug \(goawayDebug.map { "\"\($0)\"" } ?? "none"), "
                    + "first frame \(firstFrame ?? "none"), send error \(sendError ?? "none"), read error \(readError ?? "none")"
                    + (error.map { ", driver error \($0)" } ?? "")
            }
        }

        enum Case: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case settingsFirst = "settings_first"
            case invalidPreface = "invalid_preface"
            case dataOnStream0 = "data_on_stream_0"
            case headersOnEvenStream = "headers_on_even_stream"
            case frameTooLarge = "frame_too_large"
            case badInitialWindowSize = "bad_initial_window_size"
            case windowUpdateZeroOnStream = "window_update_zero_on_stream"
            case priorityWrongLength = "priority_wrong_length"
            case continuationFlood = "continuation_flood"
            case rapidReset = "rapid_reset"
            case resetInFlight = "reset_in_flight"
            case pingFlood = "ping_flood"
            case hpackIndexZero = "hpack_index_zero"
            case hpackIndexOutOfRange = "hpack_index_out_of_range"
            case hpackTruncated = "hpack_truncated"
            case uppercaseHeaderName = "uppercase_header_name"
            case oversizedHeaderList = "oversized_header_list"
            case oversizedHeaderField = "oversized_header_field"
            case tooManyStreams = "too_many_streams"

            var testDescription: String { rawValue }

            /// Extra flags for the server.
            var serverArguments: [String] {
                self == .tooManyStreams ? ["--max-streams", "10"] : []
            }
        }

        /// The defaults the example server runs with (only --max-streams is changed, by one case).
        static let defaults = HTTP2Configuration(role: .server)

        static let decoder: JSONDecoder = {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return decoder
        }()

        /// The exact frames (the driver's summaries, housekeeping left out) and whether the
        /// server closed the connection, per case. nil: the case is checked by hand below.
        static func expected(_ testCase: Case) -> (frames: [String], closed: Bool)? {
            switch testCase {
            // Connection errors: GOAWAY with the RFC's code, then the server closes (RFC 9113 §5.4.1).
            case .invalidPreface: return (["GOAWAY(0,PROTOCOL_ERROR)"], true)            // §3.4
            case .dataOnStream0: return (["GOAWAY(0,PROTOCOL_ERROR)"], true)             // §6.1
            case .headersOnEvenStream: return (["GOAWAY(0,PROTOCOL_ERROR)"], true)       // §5.1.1
            case .frameTooLarge: return (["GOAWAY(0,FRAME_SIZE_ERROR)"], true)           // §4.2
            case .badInitialWindowSize: return (["GOAWAY(0,FLOW_CONTROL_ERROR)"], true)  // §6.5.2
            case .continuationFlood: return (["GOAWAY(0,ENHANCE_YOUR_CALM)"], true)      // CONTINUATION flood
            case .hpackIndexZero, .hpackIndexOutOfRange, .hpackTruncated:
                return (["GOAWAY(0,COMPRESSION_ERROR)"], true)                           // §4.3
            // Stream errors: RST_STREAM on that stream only; the connection stays open (§5.4.2).
            case .windowUpdateZeroOnStream: return (["RST_STREAM(1,PROTOCOL_ERROR)"], false)    // §6.9
            case .priorityWrongLength: return (["RST_STREAM(1,FRAME_SIZE_ERROR)"], false)       // §6.3
            case .uppercaseHeaderName: return (["RST_STREAM(1,PROTOCOL_ERROR)"], false)         // §8.2.1, §8.1.1
            // A header list over SETTINGS_MAX_HEADER_LIST_SIZE (many fields, or one huge
            // field): 431 (RFC 6585, RFC 9113 §10.5.1), and stream 3 on the same connection
            // is served.
            case .oversizedHeaderList, .oversizedHeaderField:
                return (["HEADERS(1,:status=431,END_STREAM)", "HEADERS(3,:status=200)", "DATA(3,13,END_STREAM)"], false)
            // --max-streams 10: the 11th concurrent stream (id 21) is refused (§5.1.2); stream 1
            // then completes (POST /echo of 3 bytes).
            case .tooManyStreams:
                return (["RST_STREAM(21,REFUSED_STREAM)", "HEADERS(1,:status=200)", "DATA(1,3,END_STREAM)"], false)
            // Stream 1 is reset by the client in the same write as its HEADERS: it is closed, so
            // the server sends nothing on it (§5.1 "closed": no frames but PRIORITY; §5.4.2: no
            // RST_STREAM in response to RST_STREAM); stream 3 is served normally.
            case .resetInFlight:
                return (["HEADERS(3,:status=200)", "DATA(3,13,END_STREAM)"], false)
            case .settingsFirst, .rapidReset, .pingFlood:
                return nil
            }
        }

        @Test(arguments: Case.allCases)
        func serverAnswersExactly(_ testCase: Case) async throws {
            let python = try await locatePythonWithHPACK()
            let curl = try Peer.curl.locate()
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/h2_raw_driver.py").path
            try await withDemoServer(testCase.serverArguments) { server in
                let run = try await runProcess(python, [script, String(server.port), testCase.rawValue], timeout: 60)
                let line = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
                guard run.status == 0, let result = try? RawFrameInteropTests.decoder.decode(DriverResult.self, from: Data(line.utf8)) else {
                    throw InteropError("[\(testCase.rawValue)] the driver failed (status \(run.status)):\n\(run.stdout)\n\(run.stderr)")
                }
                let name = testCase.rawValue
                #expect(result.error == nil, "[\(name)] \(result.error ?? "")")
                // Every connection starts with the server's SETTINGS (the handshake rule (docs/architecture.md)).
                #expect(result.serverSettings == true, "[\(name)] the server's first frame was \(result.firstFrame ?? "nothing"), not SETTINGS")

                if let expected = RawFrameInteropTests.expected(testCase) {
                    #expect(result.frames == expected.frames, "[\(name)] \(result)")
                    #expect(result.closed == expected.closed,
                            "[\(name)] the server \(expected.closed ? "kept the connection open after its GOAWAY" : "closed the connection"): \(result)")
                }
                switch testCase {
                case .settingsFirst:
                    // We sent nothing at all: the SETTINGS came anyway, and nothing else.
                    #expect(result.frames == [], "[\(name)] \(result)")
                    #expect(result.closed == false, "[\(name)] \(result)")
                    #expect((result.firstByteMs ?? .infinity) < 2000, "[\(name)] the SETTINGS took \(result.firstByteMs.map { "\($0) ms" } ?? "forever")")
                case .pingFlood:
                    // 5,000 PINGs in one burst: acked until the glitch budget is spent (the
                    // client's SETTINGS took one glitch; the budget earns 200 a second back
                    // while the burst is read, hence the small range), then GOAWAY.
                    let burst = RawFrameInteropTests.defaults.glitchBudget.burst
                    let frames = result.frames ?? []
                    #expect(frames.count == 2 && frames.last == "GOAWAY(0,ENHANCE_YOUR_CALM)", "[\(name)] \(result)")
                    let acks = frames.first.flatMap { $0.wholeMatch(of: /PING\(ACK\) x([0-9]+)/) }.flatMap { Int($0.1) }
                    #expect(acks.map { (burst - 1)...(burst + 50) ~= $0 } == true, "[\(name)] PING ACKs: \(frames.first ?? "none")")
                    #expect(result.closed == true, "[\(name)] the server kept the connection open: \(result)")
                    #expect(result.goawayDebug?.contains("PING frames") == true, "[\(name)] GOAWAY debug: \(result.goawayDebug ?? "none")")
                case .rapidReset:
                    // 3,000 × (HEADERS + RST_STREAM) in one burst: the connection ends with
                    // GOAWAY(ENHANCE_YOUR_CALM) once the glitch budget is spent (the SETTINGS
                    // takes one glitch, so stream 2·burst−1 = 1999 at the earliest; the budget
                    // earns 200 a second back while the burst is read, which moves that up).
                    let burst = RawFrameInteropTests.defaults.glitchBudget.burst
                    let last = result.frames?.last ?? ""
                    let goAway = last.wholeMatch(of: /GOAWAY\(([0-9]+),ENHANCE_YOUR_CALM\)/)
                    #expect(goAway != nil, "[\(name)] the last frame is \(last), not GOAWAY(_,ENHANCE_YOUR_CALM): \(result)")
                    if let goAway, let id = Int(goAway.1) {
                        #expect(id >= 2 * burst - 1 && id < 6000, "[\(name)] GOAWAY last stream id \(id)")
                    }
                    #expect(result.goawayDebug?.contains("rapid reset") == true, "[\(name)] GOAWAY debug: \(result.goawayDebug ?? "none")")
                    #expect(result.closed == true, "[\(name)] the server kept the connection open: \(result)")
                    // Before it, at most whole responses to streams whose RST_STREAM had not
                    // arrived yet; never an RST_STREAM in answer to the client's (§5.4.2).
                    let others = (result.frames ?? []).dropLast().filter { !$0.hasPrefix("HEADERS(") && !$0.hasPrefix("DATA(") }
                    #expect(others.isEmpty, "[\(name)] unexpected frames before the GOAWAY: \(others)")
                default:
                    break
                }

                server.expectAlive("after the \(name) connection")
                // The server still serves a normal request on a new connection.
                let hello = try await runProcess(curl, ["-sS", "--http2-prior-knowledge", "--max-time", "10", "\(server.url)/hello"], timeout: 20)
                #expect(hello.status == 0 && hello.stdout == "Hello, world!",
                        "[\(name)] GET /hello on a new connection afterwards: status \(hello.status), body \(hello.stdout), \(hello.stderr)")
            }
        }
    }
}
