package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// frontRaw is a raw HTTP/1.1 request to the node's port.
func frontRaw(body string, headers ...string) string {
	h := "POST / HTTP/1.1\r\nHost: velox\r\nContent-Type: application/json\r\n"
	h += fmt.Sprintf("Content-Length: %d\r\n", len(body))
	for _, x := range headers {
		h += x + "\r\n"
	}
	return h + "\r\n" + body
}

func sendCallBody(raw []byte) string {
	return `{"jsonrpc":"2.0","id":7,"method":"velox_sendTransaction","params":["` + hexutil.Encode(raw) + `"]}`
}

// frontResponse reads one response from br.
func frontResponse(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestFrontServesAndHandsOver drives the front end over raw connections:
// it serves pipelined calls of velox_sendTransaction itself, hands a
// connection to net/http at its first other request (which net/http then
// serves, followed by more calls on the same connection), honours
// Connection: close, and answers everything it does not take exactly as
// the node's net/http server alone does.
func TestFrontServesAndHandsOver(t *testing.T) {
	n, w, c := fastNode(t)
	ctx := t.Context()
	to := common.Address{0x42}
	idx, nonce := transferOnce(t, ctx, c, w, to)
	transfer := func() string {
		t.Helper()
		raw, err := w.Transfer(idx, to, big.NewInt(10), big.NewInt(1000), nonce)
		if err != nil {
			t.Fatal(err)
		}
		nonce++
		return sendCallBody(raw)
	}
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", n.RPCAddr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		return conn, bufio.NewReader(conn)
	}
	ok := func(resp *http.Response, body string) {
		t.Helper()
		if resp.StatusCode != 200 || !strings.Contains(body, `"result":{"receipt":`) || !strings.Contains(body, `"status":"ok"`) {
			t.Fatalf("want a successful preconfirmation, got %d %s", resp.StatusCode, body)
		}
	}
	handed := n.front.handed.Load()

	conn, br := dial()
	// Two calls in one write (pipelined), answered in order.
	if _, err := io.WriteString(conn, frontRaw(transfer())+frontRaw(transfer())); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, body := frontResponse(t, br)
		ok(resp, body)
		if resp.Close || resp.Header.Get("Date") == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("response header %v", resp.Header)
		}
	}
	if got := n.front.handed.Load(); got != handed {
		t.Fatalf("%d connections handed to net/http, want none", got-handed)
	}
	// Another method: the connection goes to net/http, which answers it
	// and the calls after it.
	if _, err := io.WriteString(conn, frontRaw(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`)); err != nil {
		t.Fatal(err)
	}
	if resp, body := frontResponse(t, br); resp.StatusCode != 200 || strings.TrimSpace(body) != `{"jsonrpc":"2.0","id":1,"result":"0x9"}` {
		t.Fatalf("eth_chainId: %d %q", resp.StatusCode, body)
	}
	if got := n.front.handed.Load(); got != handed+1 {
		t.Fatalf("%d connections handed to net/http, want 1", got-handed)
	}
	if _, err := io.WriteString(conn, frontRaw(transfer())); err != nil {
		t.Fatal(err)
	}
	ok(frontResponse(t, br))

	// Connection: close is honoured.
	conn, br = dial()
	if _, err := io.WriteString(conn, frontRaw(transfer(), "Connection: close")); err != nil {
		t.Fatal(err)
	}
	resp, body := frontResponse(t, br)
	ok(resp, body)
	if !resp.Close {
		t.Fatal("no Connection: close in the response")
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection still open after Connection: close (%v)", err)
	}

	// What the front end does not take, or takes and rejects, is answered
	// as by net/http alone (the node's handler behind httptest's server).
	plain := httptest.NewServer(n.http.Handler)
	defer plain.Close()
	badSig, err := w.Transfer(idx, to, big.NewInt(10), big.NewInt(1000), nonce)
	if err != nil {
		t.Fatal(err)
	}
	badSig[len(badSig)-1] ^= 1
	call := sendCallBody(badSig)
	chunked := fmt.Sprintf("POST / HTTP/1.1\r\nHost: v\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(call), call)
	cases := map[string]string{
		"bad signature":           frontRaw(call),
		"malformed hex":           frontRaw(`{"jsonrpc":"2.0","id":7,"method":"velox_sendTransaction","params":["0xzz"]}`),
		"not JSON":                frontRaw(`{"jsonrpc":`),
		"batch":                   frontRaw(`[` + call + `]`),
		"chunked":                 chunked,
		"oversized body":          strings.Replace(frontRaw(call), fmt.Sprintf("Content-Length: %d", len(call)), "Content-Length: 70000", 1) + strings.Repeat(" ", 70000-len(call)),
		"two lengths":             frontRaw(call, fmt.Sprintf("Content-Length: %d", len(call))),
		"signed length":           strings.Replace(frontRaw(call), "Content-Length: ", "Content-Length: +", 1),
		"no host":                 strings.Replace(frontRaw(call), "Host: velox\r\n", "", 1),
		"two hosts":               frontRaw(call, "Host: other"),
		"HTTP/1.0":                strings.Replace(frontRaw(call), "HTTP/1.1", "HTTP/1.0", 1),
		"text/plain":              strings.Replace(frontRaw(call), "application/json", "text/plain", 1),
		"JSON with charset":       strings.Replace(frontRaw(call), "application/json", "application/json; charset=utf-8", 1),
		"bad media parameters":    strings.Replace(frontRaw(call), "application/json", "application/json; =", 1),
		"folded header":           frontRaw(call, "X-A: a", " folded"),
		"space before colon":      frontRaw(call, "X-A : a"),
		"control in a name":       frontRaw(call, "X-\x01: a"),
		"control in a value":      frontRaw(call, "X-A: a\x01b"),
		"empty name":              frontRaw(call, ": a"),
		"expect 100-continue":     frontRaw(call, "Expect: 100-continue"),
		"connection upgrade":      frontRaw(call, "Connection: upgrade"),
		"GET":                     "GET / HTTP/1.1\r\nHost: v\r\n\r\n",
		"health":                  "GET /health HTTP/1.1\r\nHost: v\r\n\r\n",
		"other path":              strings.Replace(frontRaw(call), "POST / ", "POST /x ", 1),
		"lower-case method":       strings.Replace(frontRaw(call), "POST", "post", 1),
		"bare LF":                 strings.ReplaceAll(frontRaw(call), "\r\n", "\n"),
		"garbage":                 "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
		"long header":             frontRaw(call, "X-Long: "+strings.Repeat("a", 9000)),
		"header-case differences": strings.Replace(frontRaw(call), "Content-Type", "content-TYPE", 1),
	}
	for name, req := range cases {
		got := rawExchange(t, n.RPCAddr(), req)
		want := rawExchange(t, plain.Listener.Addr().String(), req)
		if got != want {
			t.Errorf("%s:\nfront   %q\nnet/http %q", name, got, want)
		}
	}
	// The node still serves.
	if _, err := c.Transfer(ctx, w, to, big.NewInt(10), big.NewInt(1000)); err != nil {
		t.Fatal(err)
	}

	// A request cut short does not block the front end; an idle
	// connection does not hold up the node's stop, which closes it.
	conn, _ = dial()
	if _, err := io.WriteString(conn, frontRaw(transfer())[:200]); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	_, br = dial()
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := n.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("stopping took %v with an idle connection open", d)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection still open after the stop (%v)", err)
	}
}

// rawExchange writes req on a new connection and returns the response's
// status, content type and body, or the read error.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		return "write: " + err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "read: " + err.Error()
	}
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
}

// FuzzFrontRequest checks readFrontRequest against net/http's parser: it
// never reads past the request it decides on, and a request it takes
// net/http reads as the same POST with the same body and the same
// Connection: close. (A request it does not take goes to net/http whole.)
func FuzzFrontRequest(f *testing.F) {
	body := `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x00"]}`
	for _, seed := range []string{
		frontRaw(body),
		frontRaw(body, "Connection: close"),
		frontRaw(body, "Connection: keep-alive", "X-A: b"),
		frontRaw(body) + frontRaw(body),
		strings.Replace(frontRaw(body), "application/json", "application/json; charset=utf-8", 1),
		frontRaw(body, "Content-Length: 3"),
		frontRaw(body, "Transfer-Encoding: chunked"),
		strings.Replace(frontRaw(body), "Host: velox\r\n", "", 1),
		"GET / HTTP/1.1\r\nHost: v\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: v\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 1 << 10
		br := bufio.NewReaderSize(bytes.NewReader(in), 4096)
		raw, req, err := readFrontRequest(br, nil, limit)
		if !bytes.HasPrefix(in, raw) {
			t.Fatalf("raw %q is not a prefix of the input", raw)
		}
		if err != nil || !req.take {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(in)))
		if err != nil {
			t.Fatalf("front end took a request net/http rejects (%v): %q", err, raw)
		}
		got, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatalf("net/http body: %v", err)
		}
		if r.Method != "POST" || r.URL.Path != "/" || r.ProtoMinor != 1 || len(r.TransferEncoding) != 0 {
			t.Fatalf("front end took %s %s HTTP/1.%d %v", r.Method, r.URL, r.ProtoMinor, r.TransferEncoding)
		}
		if !bytes.Equal(got, raw[req.head:]) {
			t.Fatalf("bodies differ: front %q, net/http %q", raw[req.head:], got)
		}
		if r.Close != req.close {
			t.Fatalf("close: front %v, net/http %v", req.close, r.Close)
		}
		if len(raw) > len(in) || len(raw[req.head:]) > limit {
			t.Fatalf("read %d bytes, body %d", len(raw), len(raw)-req.head)
		}
	})
}
