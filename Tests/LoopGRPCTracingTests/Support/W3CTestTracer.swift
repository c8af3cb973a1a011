import InMemoryTracing
import Synchronization
import Tracing

/// A tracer for the tests: InMemoryTracer's spans, with W3C ids (32 and 16 lower-case hex
/// digits, never all zero) and W3C propagation (`traceparent: 00-<trace-id>-<parent-id>-01`),
/// as swift-otel's OTelTracer propagates them.
struct W3CTestTracer: Tracer {
    typealias Span = InMemorySpan

    private let inner = InMemoryTracer(idGenerator: .init(nextTraceID: { randomHex(bytes: 16) }, nextSpanID: { randomHex(bytes: 8) }))

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        inner.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let value = extractor.extract(key: "traceparent", from: carrier), let parent = TraceParent(value) else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: parent.traceID, spanID: parent.parentID, parentSpanID: nil)
    }

    var finishedSpans: [FinishedInMemorySpan] { inner.finishedSpans }

    /// The finished spans named `name` of `kind`, once there are `count` of them (waits up to 30 s).
    func spans(_ name: String, _ kind: SpanKind, count: Int = 1) async throws -> [FinishedInMemorySpan] {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let found = finishedSpans.filter { $0.operationName == name && $0.kind == kind }
            if found.count >= count || ContinuousClock.now >= deadline { return found }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A W3C `traceparent` value (www.w3.org/TR/trace-context/#traceparent-header), parsed
/// strictly: version 00, a 32-digit trace id and a 16-digit parent id in lower-case hex,
/// neither all zeros, and 2 digits of flags.
struct TraceParent: Equatable {
    let traceID: String
    let parentID: String
    let flags: String

    init?(_ value: String) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "00",
              Self.isHex(parts[1], digits: 32), Self.isHex(parts[2], digits: 16), Self.isHex(parts[3], digits: 2),
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        (traceID, parentID, flags) = (parts[1], parts[2], parts[3])
    }

    private static func isHex(_ text: String, digits: Int) -> Bool {
        text.utf8.count == digits && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

private func randomHex(bytes: Int) -> String {
    var text = ""
    repeat {
        text = (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0 ... .max)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    } while text.allSatisfy { $0 == "0" }
    return text
}

extension SpanAttributes {
    /// An attribute's value as a string or an integer, for comparisons in tests.
    func string(_ name: String) -> String? {
        guard case .string(let value)? = get(name) else { return nil }
        return value
    }

    func int(_ name: String) -> Int64? {
        switch get(name) {
        case .int64(let value)?: return value
        case .int32(let value)?: return Int64(value)
        default: return nil
        }
    }
}
