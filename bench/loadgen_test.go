package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// cannedRequests returns n prepared requests for the server at url.
func cannedRequests(url string, n int) [][]byte {
	reqs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = postRequest(strings.TrimPrefix(url, "http://"), []byte(`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x00"]}`))
	}
	return reqs
}

// TestLoadgen runs the load generator child (this test binary re-executed,
// see TestMain) against a server answering every request as the node
// answers a preconfirmed transaction.
func TestLoadgen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"status":"ok"}}`))
	}))
	defer srv.Close()
	const n, rate, warmup = 200, 1000, 20
	g, err := runLoadgen(t.Context(), srv.URL, cannedRequests(srv.URL, n), rate)
	if err != nil {
		t.Fatal(err)
	}
	r := rateStats(g, warmup)
	if r.sent != n || r.ok != n || r.errors != 0 || r.firstErr != nil {
		t.Fatalf("sent %d, ok %d, %d errors (first %v), want all %d ok", r.sent, r.ok, r.errors, r.firstErr, n)
	}
	for i, l := range g.Latency {
		if l <= 0 || g.SendDelay[i] < 0 || g.SendDelay[i] >= l {
			t.Fatalf("request %d: latency %v, sent %v after its schedule", i, time.Duration(l), time.Duration(g.SendDelay[i]))
		}
	}
	if r.fromSend50 <= 0 || r.fromSend50 > r.p50 || r.sendDelay99 < r.sendDelay50 {
		t.Fatalf("from the send p50 %v (from the schedule %v); send delay p50 %v p99 %v", r.fromSend50, r.p50, r.sendDelay50, r.sendDelay99)
	}
	// The schedule spans (n-1)/rate: the last response comes after it.
	if span := time.Duration(g.LastDone); span < (n-1)*time.Second/rate || r.tps <= 0 || r.p50 <= 0 || r.p999 < r.p50 {
		t.Fatalf("last response at %v, %.0f tx/s, p50 %v, p999 %v", span, r.tps, r.p50, r.p999)
	}
}

// TestLoadgenFails checks that a child that fails is an error carrying
// its reason.
func TestLoadgenFails(t *testing.T) {
	_, err := runLoadgen(t.Context(), "https://127.0.0.1:1", [][]byte{[]byte("x")}, 100)
	if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("got %v, want the child's error about https", err)
	}
}

// TestLoadgenCancel checks that the child is killed when the context ends,
// here while it waits for a server that never answers.
func TestLoadgenCancel(t *testing.T) {
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hold }))
	defer srv.Close()
	defer close(hold)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := runLoadgen(ctx, srv.URL, cannedRequests(srv.URL, 10), 100)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("returned after %v", d)
	}
}
