// cmux_server: the Go control stack of issue #10 — grpc-go 1.33 and a grpc-gateway 1.6.4
// REST/JSON gateway on ONE port behind github.com/soheilhy/cmux 0.1.5 (all Debian), serving
// loop.demo.v1.Greetings (Sources/examples/GatewayDemo/Protos/loop/demo/v1/greetings.proto)
// with the same behaviour as Loop's GatewayDemo.
//
// Built by scripts/install-grpc-peers.sh into $LOOP_PEERS_DIR/bin/cmux_server, in GOPATH
// mode, against the Go code that script generates from greetings.proto (package
// loopdemo/greetings: protoc-gen-go, protoc-gen-go-grpc, protoc-gen-grpc-gateway 1.6.4).
//
//	cmux_server [-host=127.0.0.1] [-port=0] [-match=plain|matchwithwriters]
//
// Prints "listening on PORT" once it accepts connections (-port=0 picks one) and runs until
// killed. On the one port:
//
//   - HTTP/2 connections whose first HEADERS carry content-type application/grpc go to the
//     grpc-go server. -match=plain (the default) uses
//     cmux.Match(cmux.HTTP2HeaderField("content-type", "application/grpc")): cmux reads the
//     client's HEADERS before the grpc-go server sees the connection, so nobody sends the
//     server's SETTINGS; grpc-go clients since 1.18 wait for those SETTINGS before sending
//     HEADERS, and both sides wait until the client gives up ("timed out waiting for server
//     handshake", or the call's deadline). -match=matchwithwriters uses
//     cmux.MatchWithWriters(cmux.HTTP2MatchHeaderFieldSendSettings(...)), cmux's fix: the
//     matcher itself answers the preface with SETTINGS while it waits for HEADERS.
//   - HTTP/1.x connections (cmux.HTTP1Fast) go to net/http: GET /healthz answers 200 "ok",
//     everything else goes to the grpc-gateway mux, whose routes come from the
//     google.api.http options:
//     GET  /v1/greetings/{name}         SayHello (query parameters fill the other fields)
//     POST /v1/greetings                SayHello, the request as JSON (body "*")
//     GET  /v1/greetings/{name}/stream  StreamHellos (grpc-gateway 1.6.4 answers server
//     streaming with one {"result": ...} object per line, an error as {"error": ...})
//   - Anything else is closed by cmux.
//
// The gateway reaches the gRPC service the way grpc-gateway 1.6.4 offers: through a grpc-go
// client connection (RegisterGreetingsHandlerFromEndpoint) dialing this same port, as the
// usual cmux + grpc-gateway setup does. Version 1.6.4 has no in-process
// Register...HandlerServer (added in 1.14). So with -match=plain the gateway's own connection
// deadlocks too: REST calls wait until that connection's handshake times out (grpc-go's 20 s,
// counted from the start) and then, and at once from then on, end in HTTP 503 with
// {"error":"timed out waiting for server handshake","message":"...","code":14}.
//
// The runtime is Debian's 1.6.4 with one patch by the install script (errorBody's "message"
// field number; see the script's header) so that its error answers work with golang-protobuf
// 1.5. Like everything linking grpc-gateway's runtime, it prints golang-protobuf's three-line
// "WARNING: Package ... protoc-gen-go/generator is deprecated" to standard error at start.
//
// Greetings behaves exactly like GatewayDemo's:
//
//	SayHello: empty name → INVALID_ARGUMENT "name must not be empty"; "forbidden" →
//	  PERMISSION_DENIED "forbidden may not be greeted"; else "<greeting>, <name>!" with
//	  Hello (ENGLISH, LANGUAGE_UNSPECIFIED), Bonjour (FRENCH), Hallo (GERMAN); options.repeat
//	  0 or 1 → once, 2...10 → that many times joined by single spaces, else INVALID_ARGUMENT
//	  "repeat must be between 0 and 10"; options.shout uppercases the whole message;
//	  sequence 0, tags and language copied from the request.
//	StreamHellos: count outside 1...1000 → INVALID_ARGUMENT "count must be between 1 and
//	  1000"; interval_ms outside 0...1000 → INVALID_ARGUMENT "interval_ms must be between 0
//	  and 1000"; empty name → INVALID_ARGUMENT "name must not be empty"; else `count`
//	  replies "Hello, <name>! #<i>" with sequence i (from 1), interval_ms apart (no wait
//	  before the first).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/runtime"
	"github.com/soheilhy/cmux"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "loopdemo/greetings"
)

var (
	host  = flag.String("host", "127.0.0.1", "address to listen on")
	port  = flag.Int("port", 0, "port to listen on (0 picks a free one)")
	match = flag.String("match", "plain", "gRPC matcher: plain (cmux.HTTP2HeaderField, deadlocks grpc-go clients) or matchwithwriters (cmux.HTTP2MatchHeaderFieldSendSettings)")
)

type greetings struct {
	pb.UnimplementedGreetingsServer
}

func (greetings) SayHello(ctx context.Context, request *pb.HelloRequest) (*pb.HelloReply, error) {
	if request.Name == "" {
		return nil, status.Error(codes.InvalidArgument, "name must not be empty")
	}
	if request.Name == "forbidden" {
		return nil, status.Error(codes.PermissionDenied, "forbidden may not be greeted")
	}
	greeting := "Hello"
	switch request.Language {
	case pb.Language_FRENCH:
		greeting = "Bonjour"
	case pb.Language_GERMAN:
		greeting = "Hallo"
	}
	message := greeting + ", " + request.Name + "!"
	if options := request.Options; options != nil {
		repeat := options.Repeat
		if repeat < 0 || repeat > 10 {
			return nil, status.Error(codes.InvalidArgument, "repeat must be between 0 and 10")
		}
		if repeat > 1 {
			copies := make([]string, repeat)
			for i := range copies {
				copies[i] = message
			}
			message = strings.Join(copies, " ")
		}
		if options.Shout {
			message = strings.ToUpper(message)
		}
	}
	return &pb.HelloReply{Message: message, Sequence: 0, Tags: request.Tags, Language: request.Language}, nil
}

func (greetings) StreamHellos(request *pb.StreamHellosRequest, stream pb.Greetings_StreamHellosServer) error {
	if request.Count < 1 || request.Count > 1000 {
		return status.Error(codes.InvalidArgument, "count must be between 1 and 1000")
	}
	if request.IntervalMs < 0 || request.IntervalMs > 1000 {
		return status.Error(codes.InvalidArgument, "interval_ms must be between 0 and 1000")
	}
	if request.Name == "" {
		return status.Error(codes.InvalidArgument, "name must not be empty")
	}
	interval := time.Duration(request.IntervalMs) * time.Millisecond
	for i := int32(1); i <= request.Count; i++ {
		if i > 1 && interval > 0 {
			timer := time.NewTimer(interval)
			select {
			case <-timer.C:
			case <-stream.Context().Done():
				timer.Stop()
				return status.FromContextError(stream.Context().Err()).Err()
			}
		}
		reply := &pb.HelloReply{Message: "Hello, " + request.Name + "! #" + strconv.Itoa(int(i)), Sequence: int64(i)}
		if err := stream.Send(reply); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	flag.Parse()
	if *match != "plain" && *match != "matchwithwriters" {
		fmt.Fprintln(os.Stderr, "cmux_server: -match must be plain or matchwithwriters")
		os.Exit(2)
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "cmux_server: %v\n", err)
		os.Exit(1)
	}
	address := listener.Addr().(*net.TCPAddr)

	mux := cmux.New(listener)
	var grpcListener net.Listener
	if *match == "plain" {
		grpcListener = mux.Match(cmux.HTTP2HeaderField("content-type", "application/grpc"))
	} else {
		grpcListener = mux.MatchWithWriters(cmux.HTTP2MatchHeaderFieldSendSettings("content-type", "application/grpc"))
	}
	httpListener := mux.Match(cmux.HTTP1Fast())

	grpcServer := grpc.NewServer()
	pb.RegisterGreetingsServer(grpcServer, greetings{})

	gateway := runtime.NewServeMux()
	// The gateway's client connection to this very port (see the header comment).
	endpoint := net.JoinHostPort(address.IP.String(), strconv.Itoa(address.Port))
	if err := pb.RegisterGreetingsHandlerFromEndpoint(context.Background(), gateway, endpoint, []grpc.DialOption{grpc.WithInsecure()}); err != nil {
		fmt.Fprintf(os.Stderr, "cmux_server: gateway: %v\n", err)
		os.Exit(1)
	}
	handler := http.NewServeMux()
	handler.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	})
	handler.Handle("/", gateway)
	httpServer := &http.Server{Handler: handler}

	go func() {
		if err := grpcServer.Serve(grpcListener); err != nil {
			fmt.Fprintf(os.Stderr, "cmux_server: grpc: %v\n", err)
		}
	}()
	go func() {
		if err := httpServer.Serve(httpListener); err != nil {
			fmt.Fprintf(os.Stderr, "cmux_server: http: %v\n", err)
		}
	}()
	// os.Stdout is unbuffered: the line is out before Serve.
	fmt.Printf("listening on %d\n", address.Port)
	if err := mux.Serve(); err != nil {
		fmt.Fprintf(os.Stderr, "cmux_server: %v\n", err)
		os.Exit(1)
	}
}
