package destinationtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Server is a Receiver served on 127.0.0.1 for the duration of a test.
type Server struct {
	*Receiver
	// Secret is the signing secret clients must use ("whsec_<base64>").
	Secret string
	ts     *httptest.Server
}

// New starts a contract server for t; it stops when the test ends.
// Contract violations fail the test through t.Errorf (unless
// opts.AllowViolations). With an empty opts.Secret a random whsec_ secret is
// generated.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Secret == "" {
		opts.Secret = NewSecret()
	}
	r, err := newReceiver(opts, t.Errorf)
	if err != nil {
		t.Fatalf("destinationtest: %v", err)
	}
	s := &Server{Receiver: r, Secret: opts.Secret, ts: httptest.NewServer(r)}
	t.Cleanup(s.Close)
	return s
}

// URL returns the server's base URL (http://127.0.0.1:port); every path
// accepts deliveries.
func (s *Server) URL() string { return s.ts.URL }

// Close releases held requests and stops the server. It is called when the
// test ends and may be called earlier.
func (s *Server) Close() {
	s.Receiver.Close()
	s.ts.Close()
}

// CloseClientConnections closes every open connection to the server, as a
// crashing or restarting receiver would.
func (s *Server) CloseClientConnections() { s.ts.CloseClientConnections() }

// NewSecret returns a random Standard Webhooks secret: "whsec_" followed by
// the base64 of 24 random bytes.
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// Serve listens on addr and serves a Receiver until the returned server is
// shut down. It is meant for subprocess tests and demos; violations are
// written to opts.Log (or standard error). An empty opts.Secret accepts
// unsigned requests. The server's Handler is the *Receiver, for its
// accessors; Shutdown releases requests it holds.
func Serve(addr string, opts Options) (*http.Server, error) {
	r, err := NewReceiver(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Addr: ln.Addr().String(), Handler: r, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(r.Close)
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

// ServeTest serves h on 127.0.0.1 until the test ends and returns its base
// URL and a function that stops it earlier: for vendor contract servers'
// New.
func ServeTest(t testing.TB, h http.Handler) (url string, stop func()) {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL, ts.Close
}

// ServeAddr serves h on addr (e.g. 127.0.0.1:0) until stop is called: for
// vendor contract servers' Serve, in demos and subprocess tests. Server
// errors are not logged.
func ServeAddr(addr string, h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil { // requests still held (a timeout fault): cut them
			_ = srv.Close()
		}
	}, nil
}
