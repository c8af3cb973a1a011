import Testing
import Loop
@testable import LoopHTTP2

/// SETTINGS parameter validation (RFC 9113 §6.5.2) and the parameters we announce.
@Suite struct HTTP2SettingsTests {
    private func applying(_ identifier: UInt16, _ value: UInt32) -> Result<HTTP2Settings, HTTP2ProtocolError> {
        var settings = HTTP2Settings()
        do throws(HTTP2ProtocolError) {
            try settings.apply(HTTP2Setting(identifier, value))
            return .success(settings)
        } catch {
            return .failure(error)
        }
    }

    private func code(_ identifier: UInt16, _ value: UInt32) -> HTTP2ErrorCode? {
        if case .failure(let error) = applying(identifier, value) {
            #expect(error.isConnectionError)
            #expect(error.reason.contains("§6.5.2"))
            return error.code
        }
        return nil
    }

    @Test func defaultsAreTheRFCsInitialValues() {
        let settings = HTTP2Settings()
        #expect(settings.headerTableSize == 4096)
        #expect(settings.enablePush)
        #expect(settings.maxConcurrentStreams == nil)
        #expect(settings.initialWindowSize == 65_535)
        #expect(settings.maxFrameSize == 16_384)
        #expect(settings.maxHeaderListSize == nil)
        #expect(settings.nonDefaultParameters.isEmpty)
    }

    @Test func rfc9113Section6_5_2EnablePushOtherThanZeroOrOneIsProtocolError() {
        #expect(code(HTTP2Setting.enablePush, 2) == .protocolError)
        #expect(code(HTTP2Setting.enablePush, 0xFFFF_FFFF) == .protocolError)
        #expect(code(HTTP2Setting.enablePush, 0) == nil)
        #expect(code(HTTP2Setting.enablePush, 1) == nil)
    }

    @Test func rfc9113Section6_5_2InitialWindowSizeAbove2To31Minus1IsFlowControlError() throws {
        #expect(code(HTTP2Setting.initialWindowSize, 0x8000_0000) == .flowControlError)
        #expect(code(HTTP2Setting.initialWindowSize, 0xFFFF_FFFF) == .flowControlError)
        #expect(try applying(HTTP2Setting.initialWindowSize, 0x7FFF_FFFF).get().initialWindowSize == 0x7FFF_FFFF)
        #expect(try applying(HTTP2Setting.initialWindowSize, 0).get().initialWindowSize == 0)
    }

    @Test func rfc9113Section6_5_2MaxFrameSizeOutsideItsRangeIsProtocolError() throws {
        #expect(code(HTTP2Setting.maxFrameSize, 16_383) == .protocolError)
        #expect(code(HTTP2Setting.maxFrameSize, 0) == .protocolError)
        #expect(code(HTTP2Setting.maxFrameSize, 16_777_216) == .protocolError)
        #expect(try applying(HTTP2Setting.maxFrameSize, 16_384).get().maxFrameSize == 16_384)
        #expect(try applying(HTTP2Setting.maxFrameSize, 16_777_215).get().maxFrameSize == 16_777_215)
    }

    @Test func rfc9113Section6_5_2UnknownSettingsAreIgnored() throws {
        #expect(try applying(0x0A0A, 12345).get() == HTTP2Settings())
        #expect(try applying(0, 0).get() == HTTP2Settings())
    }

    @Test func otherParametersAreTakenAsGiven() throws {
        #expect(try applying(HTTP2Setting.headerTableSize, 0).get().headerTableSize == 0)
        #expect(try applying(HTTP2Setting.maxConcurrentStreams, 0).get().maxConcurrentStreams == 0)
        #expect(try applying(HTTP2Setting.maxHeaderListSize, 100).get().maxHeaderListSize == 100)
    }

    @Test func nonDefaultParametersListOnlyWhatDiffers() {
        var settings = HTTP2Settings()
        settings.enablePush = false
        settings.initialWindowSize = 1 << 20
        settings.maxConcurrentStreams = 100
        #expect(settings.nonDefaultParameters == [HTTP2Setting(HTTP2Setting.enablePush, 0), HTTP2Setting(HTTP2Setting.maxConcurrentStreams, 100),
                                                  HTTP2Setting(HTTP2Setting.initialWindowSize, 1 << 20)])
    }
}
