import LoopGRPC
import LoopGRPCTracing
import Testing
import Tracing

@Suite struct GRPCMetadataCarrierTests {
    @Test func injectorReplacesAndExtractorReadsTheFirstValue() {
        var metadata = GRPCMetadata()
        metadata.add("traceparent", "00-00000000000000000000000000000001-0000000000000001-01")
        metadata.add("x-other", "1")
        GRPCMetadataInjector().inject("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", forKey: "traceparent", into: &metadata)
        #expect(metadata.values("traceparent") == [.string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")])
        #expect(metadata["x-other"] == "1")
        #expect(GRPCMetadataExtractor().extract(key: "traceparent", from: metadata) == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(GRPCMetadataExtractor().extract(key: "tracestate", from: metadata) == nil)
    }
}
