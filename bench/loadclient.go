package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// loadClient is the load generator's HTTP/1.1 client: POSTs of prepared
// request bytes over a pool of keep-alive connections, one request per
// connection at a time. It does what net/http's Transport does for this
// one case with a fraction of its CPU (no per-connection read and write
// goroutines, no header maps): the generator, though a process of its
// own, shares the machine's cores with the node, so every microsecond it
// spends is one the node does not get.
type loadClient struct {
	addr string
	// open holds a token per open connection (at most its capacity);
	// idle holds the open connections not in use.
	open    chan struct{}
	idle    chan *loadConn
	timeout time.Duration
}

type loadConn struct {
	c net.Conn
	r *bufio.Reader
}

// newLoadClient returns a client for POSTs to the http:// URL u over at
// most conns connections; a request finding all of them busy waits for
// one.
func newLoadClient(u string, conns int) (*loadClient, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	if pu.Scheme != "http" {
		return nil, fmt.Errorf("bench: load client speaks plain HTTP, not %q", pu.Scheme)
	}
	return &loadClient{addr: pu.Host, open: make(chan struct{}, conns), idle: make(chan *loadConn, conns),
		timeout: 30 * time.Second}, nil
}

// postRequest returns the bytes of a POST of the JSON body to host (as in
// an http:// URL), for loadClient.do: prepare requests once, before the
// timed run.
func postRequest(host string, body []byte) []byte {
	return fmt.Appendf(nil, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		host, len(body), body)
}

// do sends a prepared request and returns the response's status code and
// body.
func (lc *loadClient) do(ctx context.Context, req []byte) (int, []byte, error) {
	var conn *loadConn
	select {
	case conn = <-lc.idle:
	case lc.open <- struct{}{}:
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", lc.addr)
		if err != nil {
			<-lc.open
			return 0, nil, err
		}
		conn = &loadConn{c: c, r: bufio.NewReaderSize(c, 4096)}
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	code, body, keep, err := conn.roundTrip(req, lc.timeout)
	if err != nil || !keep {
		conn.c.Close()
		<-lc.open
		return code, body, err
	}
	lc.idle <- conn // never blocks: idle holds at most the open ones
	return code, body, nil
}

// roundTrip writes req and reads one response (Content-Length framed, as
// the node's server sends them). keep reports whether the connection can
// be reused.
func (c *loadConn) roundTrip(req []byte, timeout time.Duration) (code int, body []byte, keep bool, err error) {
	if err := c.c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, nil, false, err
	}
	if _, err := c.c.Write(req); err != nil {
		return 0, nil, false, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	f := bytes.Fields(line)
	if len(f) < 2 || !bytes.HasPrefix(f[0], []byte("HTTP/1.")) {
		return 0, nil, false, fmt.Errorf("bench: bad status line %q", line)
	}
	if code, err = strconv.Atoi(string(f[1])); err != nil {
		return 0, nil, false, fmt.Errorf("bench: bad status line %q", line)
	}
	length, keep := -1, true
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return code, nil, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return code, nil, false, fmt.Errorf("bench: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return code, nil, false, errors.New("bench: chunked responses are not supported")
		}
	}
	if length < 0 {
		body, err = io.ReadAll(c.r)
		return code, body, false, err
	}
	body = make([]byte, length)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return code, nil, false, err
	}
	return code, body, keep, nil
}

// close closes the idle connections.
func (lc *loadClient) close() {
	for {
		select {
		case c := <-lc.idle:
			c.c.Close()
			<-lc.open
		default:
			return
		}
	}
}
