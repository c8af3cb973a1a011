// compression_peer: a grpc-go (1.33, Debian) peer for Loop's gzip message-compression tests.
//
// Built by scripts/install-grpc-peers.sh into $LOOP_PEERS_DIR/bin/compression_peer, in GOPATH
// mode, against the grpc.testing messages of grpc-go's interop/grpc_testing package.
//
// Client mode (exit 0 when every check passes, 1 otherwise; one "PASS name" or
// "FAIL name: reason" line per check):
//
//	compression_peer -mode=client -addr=127.0.0.1:PORT [-expect_compressed_response=true]
//
//	  unary_gzip             UnaryCall with a gzip-compressed request (zeros, -payload bytes)
//	                         asking for -payload bytes back; the response must have that size
//	                         and, unless -expect_compressed_response=false, arrive with
//	                         grpc-encoding gzip and a compressed message.
//	  server_streaming_gzip  StreamingOutputCall (gzip request) for 31415, 9, 2653, 58979
//	                         bytes; four responses of those sizes, the stream in gzip and
//	                         its large messages compressed.
//
// Server mode (prints "listening on PORT" once it accepts connections; -port=0 picks one):
//
//	compression_peer -mode=server -port=N [-host=127.0.0.1] [-force_gzip] [-require_gzip]
//
//	  Serves grpc.testing.TestService EmptyCall, UnaryCall, StreamingOutputCall,
//	  StreamingInputCall and FullDuplexCall with the gzip codec registered. grpc-go 1.33 has
//	  no per-call SetSendCompressor: it answers in the encoding the request used (gzip
//	  request, gzip response). -force_gzip compresses every response with gzip instead
//	  (the deprecated RPCCompressor option: it does so even if the client did not list gzip
//	  in grpc-accept-encoding). -require_gzip fails every call but EmptyCall whose request
//	  did not carry grpc-encoding gzip with INVALID_ARGUMENT. Like the interop server, it
//	  honours response_size, response_parameters (size, interval_us) and response_status,
//	  and echoes x-grpc-test-echo-initial (headers) and x-grpc-test-echo-trailing-bin.
//	  Every call ends with trailers telling what the server saw:
//	    x-loop-request-encoding: the request's grpc-encoding ("identity" when absent)
//	    x-loop-compressed-messages: "C/N", C of the N request messages were compressed
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

const (
	maxMessageSize = 8 << 20
	// The 5-byte gRPC message prefix (compressed flag + length) counted in WireLength.
	messagePrefix   = 5
	echoInitialKey  = "x-grpc-test-echo-initial"
	echoTrailingKey = "x-grpc-test-echo-trailing-bin"
)

var (
	mode                     = flag.String("mode", "", "client or server")
	addr                     = flag.String("addr", "127.0.0.1:50051", "client: server address host:port")
	host                     = flag.String("host", "127.0.0.1", "server: address to listen on")
	port                     = flag.Int("port", 0, "server: port to listen on (0 picks a free one)")
	payloadSize              = flag.Int("payload", 1000, "client: unary request and response payload size")
	timeout                  = flag.Duration("timeout", 10*time.Second, "client: deadline for connecting and for each call")
	expectCompressedResponse = flag.Bool("expect_compressed_response", true, "client: require gzip-compressed responses")
	forceGzip                = flag.Bool("force_gzip", false, "server: compress every response with gzip")
	requireGzip              = flag.Bool("require_gzip", false, "server: reject requests not sent with grpc-encoding gzip")
)

// wireRecord collects what the stats handler saw of one call.
type wireRecord struct {
	mu          sync.Mutex
	encoding    string // grpc-encoding of the received headers
	received    []messageSize
	sent        []messageSize
	sawInHeader bool
}

type messageSize struct{ length, wire int }

func (m messageSize) compressed() bool { return m.wire-messagePrefix != m.length }

func (r *wireRecord) snapshot() (encoding string, received, sent []messageSize) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.encoding, append([]messageSize(nil), r.received...), append([]messageSize(nil), r.sent...)
}

type recordKey struct{}

func recordFrom(ctx context.Context) *wireRecord {
	r, _ := ctx.Value(recordKey{}).(*wireRecord)
	return r
}

// wireStats fills the *wireRecord found in the call's context. The client puts one there
// before each call; on the server TagRPC adds one to every call.
type wireStats struct{ server bool }

func (s wireStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	if s.server {
		return context.WithValue(ctx, recordKey{}, &wireRecord{})
	}
	return ctx
}

func (s wireStats) HandleRPC(ctx context.Context, event stats.RPCStats) {
	r := recordFrom(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := event.(type) {
	case *stats.InHeader:
		r.sawInHeader = true
		r.encoding = e.Compression
	case *stats.InPayload:
		r.received = append(r.received, messageSize{e.Length, e.WireLength})
	case *stats.OutPayload:
		r.sent = append(r.sent, messageSize{e.Length, e.WireLength})
	}
}

func (wireStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (wireStats) HandleConn(context.Context, stats.ConnStats)                       {}

func main() {
	flag.Parse()
	switch *mode {
	case "client":
		os.Exit(runClient())
	case "server":
		os.Exit(runServer())
	default:
		fmt.Fprintln(os.Stderr, "usage: compression_peer -mode=client -addr=HOST:PORT | -mode=server -port=N")
		os.Exit(2)
	}
}

// ---- client ----

func describe(err error) string {
	st := status.Convert(err)
	return fmt.Sprintf("status %s (%d): %q", st.Code(), int(st.Code()), st.Message())
}

func zeros(n int) *testpb.Payload {
	return &testpb.Payload{Type: testpb.PayloadType_COMPRESSABLE, Body: make([]byte, n)}
}

func runClient() int {
	dialCtx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := grpc.DialContext(dialCtx, *addr,
		grpc.WithInsecure(),
		grpc.WithBlock(),
		grpc.WithStatsHandler(wireStats{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)))
	if err != nil {
		fmt.Printf("FAIL connect: %s: %v\n", *addr, err)
		return 1
	}
	defer conn.Close()
	client := testpb.NewTestServiceClient(conn)

	failed := 0
	for _, check := range []struct {
		name string
		run  func(testpb.TestServiceClient) error
	}{
		{"unary_gzip", unaryGzip},
		{"server_streaming_gzip", serverStreamingGzip},
	} {
		if err := check.run(client); err != nil {
			fmt.Printf("FAIL %s: %v\n", check.name, err)
			failed++
		} else {
			fmt.Printf("PASS %s\n", check.name)
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// checkResponseEncoding verifies the responses came back gzip-compressed: the grpc-encoding
// response header and the compressed flag of each message at least minCompressed bytes long
// (a server may leave tiny messages uncompressed).
func checkResponseEncoding(r *wireRecord, minCompressed int) error {
	encoding, received, sent := r.snapshot()
	for i, m := range sent {
		if !m.compressed() {
			return fmt.Errorf("request message %d (%d bytes) left this client uncompressed", i, m.length)
		}
	}
	if !*expectCompressedResponse {
		return nil
	}
	if encoding != gzip.Name {
		return fmt.Errorf("response grpc-encoding is %q, want %q", encoding, gzip.Name)
	}
	for i, m := range received {
		if m.length >= minCompressed && !m.compressed() {
			return fmt.Errorf("response message %d (%d bytes) was not compressed", i, m.length)
		}
	}
	return nil
}

func unaryGzip(client testpb.TestServiceClient) error {
	record := &wireRecord{}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), recordKey{}, record), *timeout)
	defer cancel()
	size := *payloadSize
	resp, err := client.UnaryCall(ctx, &testpb.SimpleRequest{
		ResponseType: testpb.PayloadType_COMPRESSABLE,
		ResponseSize: int32(size),
		Payload:      zeros(size),
	}, grpc.UseCompressor(gzip.Name))
	if err != nil {
		return fmt.Errorf("UnaryCall failed with %s", describe(err))
	}
	if got := len(resp.GetPayload().GetBody()); got != size {
		return fmt.Errorf("response payload is %d bytes, want %d", got, size)
	}
	return checkResponseEncoding(record, 0)
}

func serverStreamingGzip(client testpb.TestServiceClient) error {
	record := &wireRecord{}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), recordKey{}, record), *timeout)
	defer cancel()
	sizes := []int{31415, 9, 2653, 58979}
	req := &testpb.StreamingOutputCallRequest{ResponseType: testpb.PayloadType_COMPRESSABLE}
	for _, s := range sizes {
		req.ResponseParameters = append(req.ResponseParameters, &testpb.ResponseParameters{Size: int32(s)})
	}
	stream, err := client.StreamingOutputCall(ctx, req, grpc.UseCompressor(gzip.Name))
	if err != nil {
		return fmt.Errorf("StreamingOutputCall failed to start with %s", describe(err))
	}
	var got []int
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("StreamingOutputCall failed after %d responses with %s", len(got), describe(err))
		}
		got = append(got, len(resp.GetPayload().GetBody()))
	}
	if fmt.Sprint(got) != fmt.Sprint(sizes) {
		return fmt.Errorf("response payload sizes %v, want %v", got, sizes)
	}
	return checkResponseEncoding(record, 1000)
}

// ---- server ----

type testServer struct {
	testpb.UnimplementedTestServiceServer
}

// echoMetadata answers the interop spec's echo keys: x-grpc-test-echo-initial back in the
// response headers, x-grpc-test-echo-trailing-bin back in the trailers.
func echoMetadata(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	if values := md.Get(echoInitialKey); len(values) > 0 {
		grpc.SetHeader(ctx, metadata.Pairs(echoInitialKey, values[0]))
	}
	if values := md.Get(echoTrailingKey); len(values) > 0 {
		grpc.SetTrailer(ctx, metadata.Pairs(echoTrailingKey, values[0]))
	}
}

// finish sets the trailers that report what the server saw of the request.
func finish(ctx context.Context) {
	r := recordFrom(ctx)
	if r == nil {
		return
	}
	encoding, received, _ := r.snapshot()
	if encoding == "" {
		encoding = "identity"
	}
	compressed := 0
	for _, m := range received {
		if m.compressed() {
			compressed++
		}
	}
	grpc.SetTrailer(ctx, metadata.Pairs(
		"x-loop-request-encoding", encoding,
		"x-loop-compressed-messages", strconv.Itoa(compressed)+"/"+strconv.Itoa(len(received))))
}

func checkRequestEncoding(ctx context.Context) error {
	if !*requireGzip {
		return nil
	}
	encoding := ""
	if r := recordFrom(ctx); r != nil {
		encoding, _, _ = r.snapshot()
	}
	if encoding != gzip.Name {
		return status.Errorf(codes.InvalidArgument, "expected a gzip-compressed request, got grpc-encoding %q", encoding)
	}
	return nil
}

func responseStatus(s *testpb.EchoStatus) error {
	if s == nil || s.GetCode() == 0 {
		return nil
	}
	return status.Error(codes.Code(s.GetCode()), s.GetMessage())
}

func (testServer) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	echoMetadata(ctx)
	defer finish(ctx)
	return &testpb.Empty{}, nil
}

func (testServer) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	echoMetadata(ctx)
	defer finish(ctx)
	if err := checkRequestEncoding(ctx); err != nil {
		return nil, err
	}
	if err := responseStatus(req.GetResponseStatus()); err != nil {
		return nil, err
	}
	if req.GetResponseSize() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "negative response_size %d", req.GetResponseSize())
	}
	return &testpb.SimpleResponse{Payload: zeros(int(req.GetResponseSize()))}, nil
}

func sendResponses(stream interface {
	Send(*testpb.StreamingOutputCallResponse) error
}, params []*testpb.ResponseParameters) error {
	for _, p := range params {
		if p.GetIntervalUs() > 0 {
			time.Sleep(time.Duration(p.GetIntervalUs()) * time.Microsecond)
		}
		if p.GetSize() < 0 {
			return status.Errorf(codes.InvalidArgument, "negative response size %d", p.GetSize())
		}
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: zeros(int(p.GetSize()))}); err != nil {
			return err
		}
	}
	return nil
}

func (testServer) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	ctx := stream.Context()
	echoMetadata(ctx)
	defer finish(ctx)
	if err := checkRequestEncoding(ctx); err != nil {
		return err
	}
	if err := sendResponses(stream, req.GetResponseParameters()); err != nil {
		return err
	}
	return responseStatus(req.GetResponseStatus())
}

func (testServer) StreamingInputCall(stream testpb.TestService_StreamingInputCallServer) error {
	ctx := stream.Context()
	echoMetadata(ctx)
	defer finish(ctx)
	if err := checkRequestEncoding(ctx); err != nil {
		return err
	}
	total := 0
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
		}
		if err != nil {
			return err
		}
		total += len(req.GetPayload().GetBody())
	}
}

func (testServer) FullDuplexCall(stream testpb.TestService_FullDuplexCallServer) error {
	ctx := stream.Context()
	echoMetadata(ctx)
	defer finish(ctx)
	if err := checkRequestEncoding(ctx); err != nil {
		return err
	}
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := responseStatus(req.GetResponseStatus()); err != nil {
			return err
		}
		if err := sendResponses(stream, req.GetResponseParameters()); err != nil {
			return err
		}
	}
}

func runServer() int {
	listener, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "compression_peer: listen: %v\n", err)
		return 1
	}
	options := []grpc.ServerOption{
		grpc.StatsHandler(wireStats{server: true}),
		grpc.MaxRecvMsgSize(maxMessageSize),
		grpc.MaxSendMsgSize(maxMessageSize),
	}
	if *forceGzip {
		options = append(options, grpc.RPCCompressor(grpc.NewGZIPCompressor()))
	}
	server := grpc.NewServer(options...)
	testpb.RegisterTestServiceServer(server, testServer{})
	fmt.Printf("listening on %d\n", listener.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "compression_peer: serve: %v\n", err)
		return 1
	}
	return 0
}
