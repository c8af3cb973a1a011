import LoopGRPC
import Tracing

/// Reads trace context (W3C `traceparent` and `tracestate`, or whatever the bootstrapped
/// instrument propagates) from a call's metadata: the carrier a server hands to
/// `Instrument.extract`.
///
/// ```swift
/// var serviceContext = ServiceContext.topLevel
/// InstrumentationSystem.instrument.extract(context.requestMetadata, into: &serviceContext, using: GRPCMetadataExtractor())
/// ```
public struct GRPCMetadataExtractor: Extractor {
    public init() {}

    /// The first text value of `key` (the W3C format allows one `traceparent`).
    public func extract(key: String, from carrier: GRPCMetadata) -> String? {
        carrier[key]
    }
}

/// Writes trace context into a call's metadata: the carrier a client hands to
/// `Instrument.inject`. A value replaces any the metadata already had for its key, so a
/// request carries one `traceparent`, the one of its own span.
///
/// ```swift
/// var options = GRPCCallOptions()
/// InstrumentationSystem.instrument.inject(ServiceContext.current ?? .topLevel, into: &options.metadata, using: GRPCMetadataInjector())
/// ```
public struct GRPCMetadataInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout GRPCMetadata) {
        carrier.replace(key, value)
    }
}
