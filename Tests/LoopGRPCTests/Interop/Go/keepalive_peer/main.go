// keepalive_peer: a grpc-go (1.33, Debian) peer for Loop's keepalive and connection-age
// tests (gRFC A8 client-side keepalive, A9 server-side connection management), configured
// with grpc-go's own keepalive.ClientParameters, ServerParameters and EnforcementPolicy. It
// watches its connections' frames (a tap under grpc-go decodes the bytes each way with
// golang.org/x/net/http2) and prints what the tests assert on.
//
// Built by scripts/install-grpc-peers.sh into $LOOP_PEERS_DIR/bin/keepalive_peer, in GOPATH
// mode, against the grpc.testing messages of grpc-go's interop/grpc_testing package.
//
// Client mode: dials with keepalive.ClientParameters, makes one EmptyCall, then makes no
// call and waits (with -permit_without_stream its keepalive PINGs go out while idle) until
// the server sends GOAWAY or -deadline passes; exits 0 either way (2 when the call fails).
//
//	keepalive_peer -mode=client -addr=127.0.0.1:PORT [-time=10s] [-timeout=20s]
//	               [-permit_without_stream=true] [-deadline=60s]
//
// grpc-go raises a Time below 10 s to 10 s.
//
// Server mode: serves grpc.testing.TestService (EmptyCall, UnaryCall) with
// keepalive.ServerParameters and keepalive.EnforcementPolicy (a zero duration is grpc-go's
// default), prints "listening on PORT" once it accepts connections (-port=0 picks one), and
// runs until killed.
//
//	keepalive_peer -mode=server [-host=127.0.0.1] [-port=0] [-min_time=5m]
//	               [-permit_without_stream=false] [-time=2h] [-timeout=20s]
//	               [-max_age=0] [-max_age_grace=0]
//
// grpc-go raises a server Time below 1 s to 1 s.
//
// Both modes print one line per frame of interest, as it crosses the connection:
//
//	CONN <n> OPEN
//	CONN <n> SENT|RECV PING t=<ms>               a PING (not an ACK); SENT: by this program
//	CONN <n> SENT|RECV PING_ACK t=<ms>
//	CONN <n> SENT|RECV GOAWAY <CODE> "<debug>" t=<ms>
//	CONN <n> CLOSED t=<ms>
//
// where <n> counts the connections from 1, t is milliseconds since that connection opened,
// and <CODE> is the HTTP/2 name (NO_ERROR, ENHANCE_YOUR_CALM, ...). The client ends with
// "CALL OK" or "CALL FAILED <error>" after its EmptyCall, and "DONE goaway" or
// "DONE deadline".
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/keepalive"
)

var (
	mode                = flag.String("mode", "", "client or server")
	addr                = flag.String("addr", "127.0.0.1:50051", "client: server address host:port")
	host                = flag.String("host", "127.0.0.1", "server: address to listen on")
	port                = flag.Int("port", 0, "server: port to listen on (0 picks a free one)")
	kaTime              = flag.Duration("time", 0, "keepalive Time (client: 10s if 0; server: grpc-go's 2h if 0)")
	kaTimeout           = flag.Duration("timeout", 0, "keepalive Timeout (0: grpc-go's 20s)")
	permitWithoutStream = flag.Bool("permit_without_stream", false, "client: ClientParameters.PermitWithoutStream; server: EnforcementPolicy.PermitWithoutStream")
	minTime             = flag.Duration("min_time", 0, "server: EnforcementPolicy.MinTime (0: grpc-go's 5m)")
	maxAge              = flag.Duration("max_age", 0, "server: ServerParameters.MaxConnectionAge (0: infinite)")
	maxAgeGrace         = flag.Duration("max_age_grace", 0, "server: ServerParameters.MaxConnectionAgeGrace (0: infinite)")
	deadline            = flag.Duration("deadline", 60*time.Second, "client: how long to wait for a GOAWAY")
)

// MARK: Output

var printMu sync.Mutex

func say(format string, args ...interface{}) {
	printMu.Lock()
	defer printMu.Unlock()
	fmt.Printf(format+"\n", args...)
}

// MARK: The tap: every connection's bytes, decoded each way

var connections int32

type tap struct {
	net.Conn
	id     int32
	opened time.Time
	// Each direction's copy goes through its pipe under its lock, and the pipes close only
	// once the copy in progress is through: grpc-go closes a connection right behind its
	// last write (a GOAWAY), and that GOAWAY must still be decoded.
	inMu, outMu sync.Mutex
	in, out     *io.PipeWriter
	closeOne    sync.Once
}

// watch wraps conn; isServer says which side this program is (a server reads the client
// preface first, a client writes it).
func watch(conn net.Conn, isServer bool) net.Conn {
	t := &tap{Conn: conn, id: atomic.AddInt32(&connections, 1), opened: time.Now()}
	inReader, inWriter := io.Pipe()
	outReader, outWriter := io.Pipe()
	t.in, t.out = inWriter, outWriter
	say("CONN %d OPEN", t.id)
	go t.decode(inReader, "RECV", isServer)
	go t.decode(outReader, "SENT", !isServer)
	return t
}

func (t *tap) ms() int64 { return time.Since(t.opened).Milliseconds() }

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.inMu.Lock()
		_, _ = t.in.Write(p[:n])
		t.inMu.Unlock()
	}
	if err != nil {
		t.finish()
	}
	return n, err
}

func (t *tap) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if n > 0 {
		t.outMu.Lock()
		_, _ = t.out.Write(p[:n])
		t.outMu.Unlock()
	}
	return n, err
}

func (t *tap) Close() error {
	t.finish()
	return t.Conn.Close()
}

func (t *tap) finish() {
	t.closeOne.Do(func() {
		say("CONN %d CLOSED t=%d", t.id, t.ms())
		t.inMu.Lock()
		t.in.Close()
		t.inMu.Unlock()
		t.outMu.Lock()
		t.out.Close()
		t.outMu.Unlock()
	})
}

// decode prints the PING and GOAWAY frames in one direction; after anything it cannot
// decode it only drains, so the connection never waits on the tap.
func (t *tap) decode(r *io.PipeReader, direction string, preface bool) {
	defer io.Copy(io.Discard, r)
	if preface {
		if _, err := io.ReadFull(r, make([]byte, len(http2.ClientPreface))); err != nil {
			return
		}
	}
	framer := http2.NewFramer(nil, r)
	framer.SetMaxReadFrameSize(1 << 24)
	for {
		frame, err := framer.ReadFrame()
		if err != nil {
			return
		}
		switch f := frame.(type) {
		case *http2.PingFrame:
			if f.IsAck() {
				say("CONN %d %s PING_ACK t=%d", t.id, direction, t.ms())
			} else {
				say("CONN %d %s PING t=%d", t.id, direction, t.ms())
			}
		case *http2.GoAwayFrame:
			say("CONN %d %s GOAWAY %s %q t=%d", t.id, direction, f.ErrCode, string(f.DebugData()), t.ms())
			if direction == "RECV" {
				goAwayOnce.Do(func() { close(goAwayReceived) })
			}
		}
	}
}

type tappedListener struct{ net.Listener }

func (l tappedListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return watch(conn, true), nil
}

// MARK: Client

// goAwayReceived closes at the first GOAWAY a client reads.
var (
	goAwayReceived = make(chan struct{})
	goAwayOnce     sync.Once
)

func runClient() int {
	dialer := func(ctx context.Context, address string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", address)
		if err != nil {
			return nil, err
		}
		return watch(conn, false), nil
	}
	interval := *kaTime
	if interval == 0 {
		interval = 10 * time.Second
	}
	conn, err := grpc.Dial(*addr, grpc.WithInsecure(), grpc.WithContextDialer(dialer),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: interval, Timeout: *kaTimeout, PermitWithoutStream: *permitWithoutStream}))
	if err != nil {
		say("CALL FAILED %v", err)
		return 2
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err = testpb.NewTestServiceClient(conn).EmptyCall(ctx, &testpb.Empty{})
	cancel()
	if err != nil {
		say("CALL FAILED %v", err)
		return 2
	}
	say("CALL OK")
	outcome := "deadline"
	select {
	case <-goAwayReceived:
		outcome = "goaway"
	case <-time.After(*deadline):
	}
	// The taps print from goroutines of their own: let them catch up with what crossed (the
	// PING that the GOAWAY answers) before the last line.
	time.Sleep(200 * time.Millisecond)
	say("DONE %s", outcome)
	return 0
}

// MARK: Server

type testServer struct {
	testpb.UnimplementedTestServiceServer
}

func (testServer) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (testServer) UnaryCall(_ context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.GetResponseSize())}}, nil
}

func runServer() int {
	listener, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "keepalive_peer: %v\n", err)
		return 1
	}
	server := grpc.NewServer(
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time: *kaTime, Timeout: *kaTimeout, MaxConnectionAge: *maxAge, MaxConnectionAgeGrace: *maxAgeGrace,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: *minTime, PermitWithoutStream: *permitWithoutStream}),
	)
	testpb.RegisterTestServiceServer(server, testServer{})
	say("listening on %d", listener.Addr().(*net.TCPAddr).Port)
	if err := server.Serve(tappedListener{listener}); err != nil {
		fmt.Fprintf(os.Stderr, "keepalive_peer: %v\n", err)
		return 1
	}
	return 0
}

func main() {
	flag.Parse()
	switch *mode {
	case "client":
		os.Exit(runClient())
	case "server":
		os.Exit(runServer())
	default:
		fmt.Fprintln(os.Stderr, "keepalive_peer: -mode must be client or server")
		os.Exit(2)
	}
}
