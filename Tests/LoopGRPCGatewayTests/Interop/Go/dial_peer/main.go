// dial_peer: a grpc-go (1.33, Debian) client for issue #10's one-port tests: many calls to
// loop.demo.v1.Greetings, each on a connection of its own, counted by how they ended. Against
// cmux with its plain HTTP2HeaderField matcher (cmux_server -match=plain) every call fails:
// grpc-go waits for the server's SETTINGS, cmux waits for the client's HEADERS.
//
// Built by scripts/install-grpc-peers.sh into $LOOP_PEERS_DIR/bin/dial_peer, in GOPATH mode,
// against the Go code that script generates from
// Sources/examples/GatewayDemo/Protos/loop/demo/v1/greetings.proto (package loopdemo/greetings).
//
//	dial_peer -addr=127.0.0.1:PORT [-dials=100] [-deadline=3s] [-kind=unary|stream|both]
//	          [-concurrency=10] [-connect_timeout=0]
//
//	  unary   SayHello{name: "dial-<i>"}; the reply must be "Hello, dial-<i>!".
//	  stream  StreamHellos{name: "dial-<i>", count: 3}; exactly 3 replies
//	          "Hello, dial-<i>! #<k>" with sequence k = 1, 2, 3, then OK.
//	  both    -dials unary calls and -dials stream calls (2 × -dials connections).
//
// Every call gets a fresh grpc.Dial (insecure, not blocking: the connection is made for the
// call), a -deadline from before the dial to the end of the call, and the connection is
// closed after it; at most -concurrency calls run at once.
//
// How a call fails against a server that never sends its SETTINGS depends on which of two
// timers fires first. grpc-go 1.33 gives a new connection max(MinConnectTimeout, first
// backoff) = 20 s by default to receive the server's SETTINGS; when that passes first, the
// connection fails with "timed out waiting for server handshake" and the call (not
// wait-for-ready) with UNAVAILABLE and that message. With the default 20 s, a 3 s deadline
// passes first: DEADLINE_EXCEEDED "context deadline exceeded". -connect_timeout=1s
// (grpc.WithConnectParams MinConnectTimeout; 0 keeps grpc-go's default; grpc-go waits at
// least its first 1 s backoff) shows the handshake error within a 3 s deadline and changes
// nothing against a server that answers. Prints one line per outcome,
// sorted by name, then the totals, and exits 0 (2 on bad flags):
//
//	RESULT <OK|CODE_NAME|WRONG_REPLY> <count> <the first error message of that outcome>
//	TOTAL ok=<n> failed=<m>
//
// CODE_NAME is the canonical status name (UNAVAILABLE, DEADLINE_EXCEEDED, ...); WRONG_REPLY
// is a call that ended OK with replies other than the expected ones. OK lines carry no
// message.
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
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "loopdemo/greetings"
)

var (
	addr           = flag.String("addr", "127.0.0.1:8080", "server address host:port")
	dials          = flag.Int("dials", 100, "calls to make (per kind), each on a fresh connection")
	deadline       = flag.Duration("deadline", 3*time.Second, "deadline of each call, its dial included")
	kind           = flag.String("kind", "unary", "unary, stream or both")
	concurrency    = flag.Int("concurrency", 10, "calls (connections) in flight at once")
	connectTimeout = flag.Duration("connect_timeout", 0, "grpc-go's MinConnectTimeout: how long a new connection waits for the server's SETTINGS (0: grpc-go's default, 20 s)")
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

// outcome is how one call ended: "OK", a status name or "WRONG_REPLY", and a message.
type outcome struct{ name, message string }

func failed(err error) outcome {
	st := status.Convert(err)
	name, known := codeNames[st.Code()]
	if !known {
		name = fmt.Sprintf("CODE_%d", st.Code())
	}
	return outcome{name, st.Message()}
}

func call(kind string, i int) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	options := []grpc.DialOption{grpc.WithInsecure()}
	if *connectTimeout > 0 {
		options = append(options, grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: *connectTimeout}))
	}
	conn, err := grpc.DialContext(ctx, *addr, options...)
	if err != nil {
		return failed(err)
	}
	defer conn.Close()
	client := pb.NewGreetingsClient(conn)
	name := fmt.Sprintf("dial-%d", i)
	if kind == "unary" {
		reply, err := client.SayHello(ctx, &pb.HelloRequest{Name: name})
		if err != nil {
			return failed(err)
		}
		if want := "Hello, " + name + "!"; reply.Message != want {
			return outcome{"WRONG_REPLY", fmt.Sprintf("SayHello replied %q, want %q", reply.Message, want)}
		}
		return outcome{"OK", ""}
	}
	stream, err := client.StreamHellos(ctx, &pb.StreamHellosRequest{Name: name, Count: 3})
	if err != nil {
		return failed(err)
	}
	received := 0
	for {
		reply, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return failed(err)
		}
		received++
		want := fmt.Sprintf("Hello, %s! #%d", name, received)
		if reply.Message != want || reply.Sequence != int64(received) {
			return outcome{"WRONG_REPLY", fmt.Sprintf("StreamHellos reply %d was %q (sequence %d), want %q (sequence %d)",
				received, reply.Message, reply.Sequence, want, received)}
		}
	}
	if received != 3 {
		return outcome{"WRONG_REPLY", fmt.Sprintf("StreamHellos sent %d replies, want 3", received)}
	}
	return outcome{"OK", ""}
}

func main() {
	flag.Parse()
	var kinds []string
	switch *kind {
	case "unary", "stream":
		kinds = []string{*kind}
	case "both":
		kinds = []string{"unary", "stream"}
	default:
		fmt.Fprintln(os.Stderr, "dial_peer: -kind must be unary, stream or both")
		os.Exit(2)
	}
	if *dials < 0 || *concurrency < 1 {
		fmt.Fprintln(os.Stderr, "dial_peer: -dials must be >= 0 and -concurrency >= 1")
		os.Exit(2)
	}

	type job struct {
		kind string
		i    int
	}
	var mu sync.Mutex
	counts := map[string]int{}
	firstMessage := map[string]string{}
	jobs := make(chan job)
	var workers sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				result := call(j.kind, j.i)
				mu.Lock()
				if counts[result.name] == 0 {
					firstMessage[result.name] = result.message
				}
				counts[result.name]++
				mu.Unlock()
			}
		}()
	}
	for i := 1; i <= *dials; i++ {
		for _, k := range kinds {
			jobs <- job{k, i}
		}
	}
	close(jobs)
	workers.Wait()

	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	sort.Strings(names)
	ok, failures := 0, 0
	for _, name := range names {
		if name == "OK" {
			ok = counts[name]
			fmt.Printf("RESULT OK %d\n", ok)
			continue
		}
		failures += counts[name]
		fmt.Printf("RESULT %s %d %s\n", name, counts[name], firstMessage[name])
	}
	fmt.Printf("TOTAL ok=%d failed=%d\n", ok, failures)
}
