/// One SETTINGS parameter (RFC 9113 §6.5.2).
public struct HTTP2Setting: Hashable, Sendable, CustomStringConvertible {
    public var identifier: UInt16
    public var value: UInt32

    public init(_ identifier: UInt16, _ value: UInt32) {
        self.identifier = identifier
        self.value = value
    }

    public static let headerTableSize: UInt16 = 0x1
    public static let enablePush: UInt16 = 0x2
    public static let maxConcurrentStreams: UInt16 = 0x3
    public static let initialWindowSize: UInt16 = 0x4
    public static let maxFrameSize: UInt16 = 0x5
    public static let maxHeaderListSize: UInt16 = 0x6

    public var description: String {
        let names: [UInt16: String] = [1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS",
                                       4: "INITIAL_WINDOW_SIZE", 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE"]
        return "\(names[identifier] ?? "0x\(String(identifier, radix: 16))")=\(value)"
    }
}

/// The settings one endpoint applies, with RFC 9113 defaults.
public struct HTTP2Settings: Equatable, Sendable {
    public var headerTableSize: UInt32 = 4096
    public var enablePush: Bool = true
    /// nil: unlimited (the RFC's initial value).
    public var maxConcurrentStreams: UInt32? = nil
    public var initialWindowSize: UInt32 = 65_535
    public var maxFrameSize: UInt32 = 16_384
    /// nil: unlimited (the RFC's initial value).
    public var maxHeaderListSize: UInt32? = nil

    public init() {}

    /// Applies one received parameter, validating it (RFC 9113 §6.5.2).
    public mutating func apply(_ setting: HTTP2Setting) throws(HTTP2ProtocolError) {
        switch setting.identifier {
        case HTTP2Setting.headerTableSize: headerTableSize = setting.value
        case HTTP2Setting.enablePush:
            guard setting.value <= 1 else {
                throw HTTP2ProtocolError.connection(.protocolError, "SETTINGS_ENABLE_PUSH is \(setting.value), not 0 or 1 (RFC 9113 §6.5.2)")
            }
            enablePush = setting.value == 1
        case HTTP2Setting.maxConcurrentStreams: maxConcurrentStreams = setting.value
        case HTTP2Setting.initialWindowSize:
            guard setting.value <= 0x7FFF_FFFF else {
                throw HTTP2ProtocolError.connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE \(setting.value) exceeds 2^31-1 (RFC 9113 §6.5.2)")
            }
            initialWindowSize = setting.value
        case HTTP2Setting.maxFrameSize:
            guard setting.value >= 16_384 && setting.value <= 16_777_215 else {
                throw HTTP2ProtocolError.connection(.protocolError, "SETTINGS_MAX_FRAME_SIZE \(setting.value) outside 16384...16777215 (RFC 9113 §6.5.2)")
            }
            maxFrameSize = setting.value
        case HTTP2Setting.maxHeaderListSize: maxHeaderListSize = setting.value
        default: break  // unknown settings are ignored (RFC 9113 §6.5.2)
        }
    }

    /// The parameters that differ from the RFC defaults, for our SETTINGS frame.
    public var nonDefaultParameters: [HTTP2Setting] {
        let defaults = HTTP2Settings()
        var parameters: [HTTP2Setting] = []
        if headerTableSize != defaults.headerTableSize { parameters.append(HTTP2Setting(HTTP2Setting.headerTableSize, headerTableSize)) }
        if enablePush != defaults.enablePush { parameters.append(HTTP2Setting(HTTP2Setting.enablePush, enablePush ? 1 : 0)) }
        if let value = maxConcurrentStreams { parameters.append(HTTP2Setting(HTTP2Setting.maxConcurrentStreams, value)) }
        if initialWindowSize != defaults.initialWindowSize { parameters.append(HTTP2Setting(HTTP2Setting.initialWindowSize, initialWindowSize)) }
        if maxFrameSize != defaults.maxFrameSize { parameters.append(HTTP2Setting(HTTP2Setting.maxFrameSize, maxFrameSize)) }
        if let value = maxHeaderListSize { parameters.append(HTTP2Setting(HTTP2Setting.maxHeaderListSize, value)) }
        return parameters
    }
}
