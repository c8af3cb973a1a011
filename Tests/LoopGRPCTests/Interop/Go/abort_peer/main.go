// abort_peer: a grpc-go (1.33, Debian) client for Loop's proxy tests: many calls that the
// server aborts, counted by the status each one ended with.
//
// Built by scripts/install-grpc-peers.sh into $LOOP_PEERS_DIR/bin/abort_peer, in GOPATH
// mode, against the grpc.testing messages of grpc-go's interop/grpc_testing package.
//
//	abort_peer -addr=127.0.0.1:PORT -kind=bidi|server-streaming [-count=1000] [-concurrency=20]
//	           [-message=TEXT] [-timeout=10s]
//
//	  bidi              FullDuplexCall whose one request carries response_status
//	                    {code: 7 PERMISSION_DENIED, message: -message}; the request side is
//	                    never half-closed (no CloseSend): the call waits for the status.
//	  server-streaming  StreamingOutputCall with the same response_status.
//
// -count calls, at most -concurrency at a time, on one connection. Prints one line per status
// seen, "STATUS <CODE_NAME> <count>" sorted by name, then exits 0 (2 when it cannot connect
// within -timeout). CODE_NAME is the canonical name (PERMISSION_DENIED, CANCELLED, ...);
// a PERMISSION_DENIED whose message is not -message counts as
// PERMISSION_DENIED_WRONG_MESSAGE, and the first such message goes to standard error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

var (
	addr        = flag.String("addr", "127.0.0.1:50051", "server address host:port")
	kind        = flag.String("kind", "bidi", "bidi or server-streaming")
	count       = flag.Int("count", 1000, "calls to make")
	concurrency = flag.Int("concurrency", 20, "calls in flight at once")
	message     = flag.String("message", "aborted by the server (proxy test)", "the status message the server is asked for")
	timeout     = flag.Duration("timeout", 10*time.Second, "deadline for connecting and for each call")
)

// The canonical names of gRPC's status codes (doc/statuscodes.md); grpc-go's String() gives
// CamelCase ones.
var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN",
	codes.InvalidArgument: "INVALID_ARGUMENT", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
	codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED",
	codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED",
	codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS",
	codes.Unauthenticated: "UNAUTHENTICATED",
}

func nameOf(err error) (string, string) {
	if err == nil || err == io.EOF {
		return "OK", ""
	}
	st := status.Convert(err)
	name, known := codeNames[st.Code()]
	if !known {
		name = fmt.Sprintf("CODE_%d", st.Code())
	}
	if st.Code() == codes.PermissionDenied && st.Message() != *message {
		return "PERMISSION_DENIED_WRONG_MESSAGE", st.Message()
	}
	return name, st.Message()
}

// drain receives until the stream ends and returns how it ended (nil for OK).
func drain(recv func() error) error {
	for {
		if err := recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func oneCall(client testpb.TestServiceClient, request *testpb.StreamingOutputCallRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	switch *kind {
	case "bidi":
		stream, err := client.FullDuplexCall(ctx)
		if err != nil {
			return err
		}
		// A failed Send (io.EOF: the call already ended) leaves the status to Recv.
		_ = stream.Send(request)
		// No CloseSend: the request side stays open until the status arrives.
		return drain(func() error { _, err := stream.Recv(); return err })
	default:
		stream, err := client.StreamingOutputCall(ctx, request)
		if err != nil {
			return err
		}
		return drain(func() error { _, err := stream.Recv(); return err })
	}
}

func main() {
	flag.Parse()
	if *kind != "bidi" && *kind != "server-streaming" {
		fmt.Fprintln(os.Stderr, "abort_peer: -kind must be bidi or server-streaming")
		os.Exit(2)
	}
	dialCtx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := grpc.DialContext(dialCtx, *addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fmt.Printf("FAIL connect: %s: %v\n", *addr, err)
		os.Exit(2)
	}
	defer conn.Close()
	client := testpb.NewTestServiceClient(conn)
	request := &testpb.StreamingOutputCallRequest{
		ResponseType:   testpb.PayloadType_COMPRESSABLE,
		ResponseStatus: &testpb.EchoStatus{Code: int32(codes.PermissionDenied), Message: *message},
	}

	var mu sync.Mutex
	counts := map[string]int{}
	firstWrong := ""
	jobs := make(chan struct{})
	var workers sync.WaitGroup
	for i := 0; i < *concurrency; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for range jobs {
				name, detail := nameOf(oneCall(client, request))
				mu.Lock()
				counts[name]++
				if name == "PERMISSION_DENIED_WRONG_MESSAGE" && firstWrong == "" {
					firstWrong = detail
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < *count; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	workers.Wait()

	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("STATUS %s %d\n", name, counts[name])
	}
	if firstWrong != "" {
		fmt.Fprintf(os.Stderr, "abort_peer: a PERMISSION_DENIED message was %q, want %q\n", firstWrong, *message)
	}
}
