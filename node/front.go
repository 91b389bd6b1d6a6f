package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The RPC port's HTTP/1.1 front end.
//
// Why: at 5,000 tx/s a CPU profile put net/http's own work per
// velox_sendTransaction (request parsing into header maps, a background
// read goroutine, a context, the response header's copy) at about 10 µs
// of CPU and 3 KB of garbage, a quarter of the node's allocations and so
// of its garbage collections, which set the latency tail.
//
// How: the front end accepts the connections and reads each request's
// head itself. A request it takes is served by the fast path (sendCall)
// and answered on the connection, which stays with the front end. At the
// first request it does not take, it hands the connection, with every
// byte it has read of it replayed first, to the net/http server of
// go-ethereum's handler, /metrics and /health, which keeps it from then
// on. It takes only
//   - "POST / HTTP/1.1" with exactly one Host, one Content-Length within
//     MaxBodyBytes and no Transfer-Encoding, Expect or Upgrade header;
//   - Content-Type application/json (parameters allowed, as fastSend);
//   - Connection absent, keep-alive or close;
//   - a head within frontMaxHead bytes in lines ending in CRLF, without
//     folded lines, and header names without spaces;
//   - a body that sendCall answers.
// Everything else (WebSocket, other methods and paths, HTTP/1.0, batches,
// other calls, malformed or unusual requests) meets net/http exactly as if
// the front end were not there: net/http reads the same bytes, so its
// limits and errors apply unchanged.

const (
	// frontMaxHead bounds the request head the front end reads; longer
	// heads go to net/http (which allows 1 MB).
	frontMaxHead = 8 << 10
	// Timeouts as the net/http server's: waiting for a request, and
	// reading one.
	frontIdleTimeout = 2 * time.Minute
	frontReadTimeout = 10 * time.Second
)

// front serves the RPC listener (see the top of the file).
type front struct {
	n  *Node
	ln net.Listener
	// handoff is the listener the net/http server accepts handed-over
	// connections from.
	handoff *handoffListener

	// handed counts the connections handed to net/http.
	handed atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]bool // the front end's connections: true while serving a request
	closed bool
	wg     sync.WaitGroup
}

func newFront(n *Node, ln net.Listener) *front {
	return &front{n: n, ln: ln, conns: map[net.Conn]bool{},
		handoff: &handoffListener{addr: ln.Addr(), ch: make(chan net.Conn), done: make(chan struct{})}}
}

// serve accepts connections until the listener is closed.
func (f *front) serve() {
	var backoff time.Duration
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if f.isClosed() {
				return
			}
			// As net/http: out of file descriptors, say; retry.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			f.n.log.Warn("RPC accept", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !f.track(c, false) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.serveConn(c)
		}()
	}
}

func (f *front) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// track records c's state; false if the front end is closed (the caller
// then closes c).
func (f *front) track(c net.Conn, active bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = active
	return true
}

func (f *front) forget(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// close stops accepting, closes the idle connections and waits (until
// ctx is done) for the requests being served; their connections then
// close. The handed-over connections are net/http's to close.
func (f *front) close(ctx context.Context) {
	f.mu.Lock()
	f.closed = true
	for c, active := range f.conns {
		if !active {
			c.Close()
		}
	}
	f.mu.Unlock()
	f.ln.Close()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		f.mu.Lock()
		for c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	}
}

// serveConn serves c's requests until one goes to net/http, c fails or
// closes, or the front end closes.
func (f *front) serveConn(c net.Conn) {
	br := bufio.NewReaderSize(c, 4096)
	handed := false
	defer func() {
		f.forget(c)
		if !handed {
			c.Close()
		}
	}()
	raw := frontBufs.Get().(*[]byte)
	defer func() {
		if cap(*raw) <= maxPooledBody {
			frontBufs.Put(raw)
		}
	}()
	for {
		if c.SetReadDeadline(time.Now().Add(frontIdleTimeout)) != nil {
			return
		}
		if _, err := br.Peek(1); err != nil {
			return
		}
		if !f.track(c, true) {
			return
		}
		if c.SetReadDeadline(time.Now().Add(frontReadTimeout)) != nil {
			return
		}
		var req frontRequest
		var err error
		*raw, req, err = readFrontRequest(br, (*raw)[:0], f.n.cfg.MaxBodyBytes)
		if err != nil {
			return // the connection failed or timed out mid-request
		}
		var resp []byte
		ok := req.take
		if ok {
			resp, ok = f.n.sendCall(context.Background(), (*raw)[req.head:])
		}
		if !ok {
			handed = f.handOver(c, bytes.Clone(*raw), br)
			return
		}
		err = writeFrontResponse(c, resp, req.close)
		putResponseBuf(resp)
		if err != nil || req.close || !f.track(c, false) {
			return
		}
	}
}

// handOver gives c to the net/http server, which reads consumed and then
// the rest of c through br. It returns false if the server is gone (the
// caller closes c).
func (f *front) handOver(c net.Conn, consumed []byte, br *bufio.Reader) bool {
	f.forget(c)
	// net/http sets the deadlines it wants; ours must not linger (a
	// WebSocket connection lives for hours).
	if c.SetDeadline(time.Time{}) != nil {
		return false
	}
	pc := &prefixConn{Conn: c, r: io.MultiReader(bytes.NewReader(consumed), br)}
	select {
	case f.handoff.ch <- pc:
		f.handed.Add(1)
		return true
	case <-f.handoff.done:
		return false
	}
}

// frontBufs recycles the front end's request buffers (head and body).
var frontBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// frontRequest is what the front end read of a request: raw[:head] is its
// head, raw[head:] its body.
type frontRequest struct {
	head int
	// take is set if the front end serves the request (the head
	// qualifies; the body is still to be checked).
	take bool
	// close is set if the client asked to close the connection after the
	// response.
	close bool
}

var crlf = []byte("\r\n")

// readFrontRequest appends c's next request to raw: its head, and if the
// front end takes it, its body. A request it does not take is read only
// as far as needed to decide, so that net/http reads the rest. An error
// means the connection failed.
func readFrontRequest(br *bufio.Reader, raw []byte, limit int) ([]byte, frontRequest, error) {
	var req frontRequest
	// untaken returns what was read so far, for net/http to judge.
	untaken := func() ([]byte, frontRequest, error) { return raw, frontRequest{head: len(raw)}, nil }
	line, err := br.ReadSlice('\n')
	raw = append(raw, line...)
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return untaken()
		}
		return raw, req, err
	}
	if string(line) != "POST / HTTP/1.1\r\n" {
		return untaken() // net/http parses the rest
	}
	take := true
	var hosts, lengths int
	length := -1
	contentType := false
	for {
		if len(raw) > frontMaxHead {
			return untaken()
		}
		line, err = br.ReadSlice('\n')
		raw = append(raw, line...)
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return untaken()
			}
			return raw, req, err
		}
		if !bytes.HasSuffix(line, crlf) {
			return untaken()
		}
		line = line[:len(line)-2]
		if len(line) == 0 {
			break // end of the head
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !isToken(name) || !isFieldValue(value) {
			// Folded lines, spaces before the colon, control
			// characters: net/http's to reject.
			return untaken()
		}
		value = bytes.Trim(value, " \t")
		switch {
		case asciiEqualFold(name, "Host"):
			hosts++
		case asciiEqualFold(name, "Content-Length"):
			lengths++
			length = parseLength(value)
		case asciiEqualFold(name, "Content-Type"):
			contentType = isJSONType(value)
		case asciiEqualFold(name, "Connection"):
			switch {
			case asciiEqualFold(value, "close"):
				req.close = true
			case asciiEqualFold(value, "keep-alive"):
			default:
				take = false
			}
		case asciiEqualFold(name, "Transfer-Encoding"), asciiEqualFold(name, "Expect"), asciiEqualFold(name, "Upgrade"):
			take = false
		}
		if !take {
			return untaken()
		}
	}
	req.head = len(raw)
	if hosts != 1 || lengths != 1 || length < 0 || length > limit || !contentType {
		return untaken()
	}
	n := len(raw)
	raw = slices.Grow(raw, length)[:n+length]
	if k, err := io.ReadFull(br, raw[n:]); err != nil {
		return raw[:n+k], req, err
	}
	req.take = true
	return raw, req, nil
}

// isToken reports whether b is a non-empty HTTP token (a header name).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isFieldValue reports whether b holds no control character but tabs.
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// parseLength parses a Content-Length value: decimal digits only, as
// net/http requires; -1 if it is not one.
func parseLength(v []byte) int {
	if len(v) == 0 || len(v) > 9 {
		return -1
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// isJSONType reports whether a Content-Type value is application/json, as
// fastSend decides it.
func isJSONType(v []byte) bool {
	if asciiEqualFold(v, "application/json") {
		return true
	}
	if !bytes.ContainsRune(v, ';') {
		return false
	}
	mt, _, err := mime.ParseMediaType(string(v))
	return err == nil && mt == "application/json"
}

// asciiEqualFold reports whether b equals s ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// writeFrontResponse writes a 200 response with the JSON body, as
// net/http writes fastSend's.
func writeFrontResponse(c net.Conn, body []byte, closeAfter bool) error {
	bp := frontBufs.Get().(*[]byte)
	b := append((*bp)[:0], "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: "...)
	b = append(b, httpDate()...)
	if closeAfter {
		b = append(b, "\r\nConnection: close"...)
	}
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	if err := c.SetWriteDeadline(time.Now().Add(frontReadTimeout)); err != nil {
		return err
	}
	_, err := c.Write(b)
	if cap(b) <= maxPooledBody {
		*bp = b[:0]
		frontBufs.Put(bp)
	}
	return err
}

// dateCache holds the Date header value of the current second.
var dateCache atomic.Pointer[struct {
	sec int64
	v   string
}]

// httpDate returns the current time in HTTP's format, formatted once a
// second.
func httpDate() string {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.v
	}
	d := &struct {
		sec int64
		v   string
	}{now.Unix(), now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.v
}

// prefixConn is a connection whose reads return r's bytes: the bytes the
// front end read, then the rest of the connection.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// handoffListener is the net.Listener the net/http server accepts the
// front end's handed-over connections from.
type handoffListener struct {
	addr net.Addr
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
