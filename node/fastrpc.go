package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// The fast path for velox_sendTransaction over HTTP.
//
// Why: CPU bounds the node's throughput, and a CPU profile at 4,000 tx/s on
// two cores put go-ethereum's generic per-call machinery (parsing into its
// message type, a goroutine and contexts per call, reflection to decode the
// argument and call the method, encoding the response) at about 40 µs of
// the ≈400 µs a transaction costs. BenchmarkSendPath measures the RPC layer
// at ≈42 µs of CPU per call through go-ethereum and ≈5 µs here. Of what
// remained, encoding/json was most; the common request and the
// preconfirmation are now read and written by hand (fastjson.go,
// BenchmarkSendCodec), and encoding/json reads only the unusual requests.
//
// What it takes: a POST with Content-Type application/json (any
// parameters), a body within cfg.MaxBodyBytes that is one JSON object with
// "jsonrpc":"2.0", "method":"velox_sendTransaction" spelled without escapes,
// and an "id" that is neither an object nor an array. It answers exactly
// as go-ethereum would, byte for byte: the id echoed as sent, the
// result, the same invalid-params errors for the argument, and the
// method's errors encoded as go-ethereum encodes them.
//
// Everything else goes to go-ethereum untouched, decided before the
// transaction is submitted: batches, other methods, notifications (no id),
// WebSocket, GET, OPTIONS, other content types, bodies that are not valid
// JSON or over the limit, and requests with a deadline (go-ethereum races
// those against a timer).

const (
	sendMethod = `"velox_sendTransaction"`
	// codeDefault is go-ethereum's code for an error that has none.
	codeDefault = -32000
)

// jsonError is a JSON-RPC error object as go-ethereum encodes it.
type jsonError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// fastSend serves r if it is a single velox_sendTransaction call it can
// answer exactly as go-ethereum would, and returns nil. Otherwise it
// returns the request for go-ethereum to serve: r itself, or a shallow
// copy whose body reads again the bytes fastSend consumed.
func (n *Node) fastSend(w http.ResponseWriter, r *http.Request) *http.Request {
	limit := n.cfg.MaxBodyBytes
	if r.Method != http.MethodPost || limit <= 0 || r.ContentLength > int64(limit) {
		return r
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return r
	}
	if _, ok := rpc.ContextRequestTimeout(r.Context()); ok {
		return r
	}
	bp := bodyBufs.Get().(*[]byte)
	body, err := readBody(r, limit, *bp)
	if err != nil || len(body) > limit {
		return rereadBody(r, body) // body escapes: bp is not returned
	}
	resp, ok := n.sendCall(r.Context(), body)
	if !ok {
		return rereadBody(r, body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	_, _ = w.Write(resp) // copies resp: Write does not retain it
	putResponseBuf(resp)
	// Nothing refers to body any more: the id was copied into resp and
	// the transaction decoded out of it.
	if cap(body) <= maxPooledBody {
		*bp = body[:0]
		bodyBufs.Put(bp)
	}
	return nil
}

// sendCall answers body if it is a single velox_sendTransaction call the
// fast path takes (see the top of the file), with a response the caller
// hands to putResponseBuf when written. Otherwise ok is false and nothing
// was submitted.
func (n *Node) sendCall(ctx context.Context, body []byte) (resp []byte, ok bool) {
	id, raw, perr, ok := parseSend(body)
	if !ok {
		return nil, false
	}
	if perr != nil {
		return errorResponse(id, &jsonError{Code: CodeInvalidParams, Message: perr.Error()}), true
	}
	return n.callSend(ctx, id, raw), true
}

// bodyBufs recycles request bodies of velox_sendTransaction (≈500 bytes
// each, read thousands of times a second).
var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 16 << 10

// readBody reads up to limit+1 bytes of r's body into buf (from its
// start, growing it if needed), so that an oversized body shows as one
// byte too long.
func readBody(r *http.Request, limit int, buf []byte) ([]byte, error) {
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1 // room to see EOF without growing
	}
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	buf = buf[:0]
	body := io.LimitReader(r.Body, int64(limit)+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		k, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// rereadBody returns a copy of r whose body yields consumed and then the
// rest of r's body.
func rereadBody(r *http.Request, consumed []byte) *http.Request {
	r2 := r.WithContext(r.Context())
	r2.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(consumed), r.Body), r.Body}
	return r2
}

// parseSend returns the id and the argument of body, or the error that
// go-ethereum would answer for the argument, if body is a call of
// velox_sendTransaction. Most calls take scanSendCall's shortcut; the
// rest are read with encoding/json.
func parseSend(body []byte) (id json.RawMessage, raw hexutil.Bytes, argErr error, ok bool) {
	if id, arg, ok := scanSendCall(body); ok {
		raw, err := decodeArgument(arg)
		return id, raw, err, true
	}
	id, params, ok := parseSendCall(body)
	if !ok {
		return nil, nil, nil, false
	}
	raw, err := sendArgument(params)
	return id, raw, err, true
}

// parseSendCall returns the id and params of body if it is a call of
// velox_sendTransaction that go-ethereum reads the same way: keys are
// matched exactly and the last of repeated keys wins, as in go-ethereum.
func parseSendCall(body []byte) (id, params json.RawMessage, ok bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, nil, false
	}
	if string(m["jsonrpc"]) != `"2.0"` || string(m["method"]) != sendMethod {
		return nil, nil, false
	}
	id, hasID := m["id"]
	if !hasID || id[0] == '{' || id[0] == '[' {
		return nil, nil, false // a notification, or an invalid request
	}
	return id, m["params"], true
}

// sendArgument decodes the single hexutil.Bytes argument from params,
// failing with go-ethereum's invalid-params messages.
func sendArgument(params json.RawMessage) (hexutil.Bytes, error) {
	missing := errors.New("missing value for required argument 0")
	if params == nil || string(params) == "null" {
		return nil, missing
	}
	if params[0] != '[' {
		return nil, errors.New("non-array args")
	}
	var args []json.RawMessage
	if err := json.Unmarshal(params, &args); err != nil {
		return nil, errors.New("non-array args") // unreachable: params is valid JSON
	}
	if len(args) == 0 || string(args[0]) == "null" {
		return nil, missing
	}
	raw, err := decodeArgument(args[0])
	if err != nil {
		return nil, err
	}
	if len(args) > 1 {
		return nil, errors.New("too many arguments, want at most 1")
	}
	return raw, nil
}

// decodeArgument decodes the JSON value arg as the hexutil.Bytes argument,
// failing with go-ethereum's message.
func decodeArgument(arg []byte) (hexutil.Bytes, error) {
	var raw hexutil.Bytes
	if err := raw.UnmarshalJSON(arg); err != nil {
		return nil, fmt.Errorf("invalid argument 0: %v", err)
	}
	return raw, nil
}

// callSend calls SendTransaction and returns the encoded response. Like
// go-ethereum, it turns a panic into an error response.
func (n *Node) callSend(ctx context.Context, id json.RawMessage, raw hexutil.Bytes) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			n.log.Error("velox_sendTransaction crashed", "panic", p)
			resp = errorResponse(id, &jsonError{Code: CodeInternal, Message: "method handler crashed"})
		}
	}()
	pre, err := (&veloxAPI{n}).SendTransaction(ctx, raw)
	if err != nil {
		je := &jsonError{Code: codeDefault, Message: err.Error()}
		// Asserted, not unwrapped with errors.As: go-ethereum does the same.
		if ec, ok := err.(rpc.Error); ok {
			je.Code = ec.ErrorCode()
		}
		if de, ok := err.(rpc.DataError); ok {
			je.Data = de.ErrorData()
		}
		return errorResponse(id, je)
	}
	return resultResponse(id, pre)
}

// resultResponse is message(id, "result", json.Marshal(pre)) in one
// buffer, without encoding/json (appendPreconfirmation).
func resultResponse(id json.RawMessage, pre *PreconfirmationJSON) []byte {
	b := getResponseBuf()
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"result":`...)
	b = appendPreconfirmation(b, pre)
	return append(b, '}')
}

// responseBufs recycles response buffers (a typical preconfirmation is
// ≈1,000 bytes): at thousands of responses a second they were a tenth of
// the node's allocations, and so of its garbage collections.
var responseBufs = sync.Pool{New: func() any { return new([]byte) }}

func getResponseBuf() []byte {
	b := *responseBufs.Get().(*[]byte)
	if cap(b) < 1280 {
		return make([]byte, 0, 1536)
	}
	return b[:0]
}

// putResponseBuf recycles b, which the caller no longer uses.
func putResponseBuf(b []byte) {
	if cap(b) > 64<<10 {
		return // an outlier: let it go
	}
	responseBufs.Put(&b)
}

func errorResponse(id json.RawMessage, je *jsonError) []byte {
	// If the data does not encode, go-ethereum leaves the error out.
	enc, _ := json.Marshal(je)
	return message(id, "error", enc)
}

// message encodes a response with its members in go-ethereum's order,
// leaving out key if value is nil.
func message(id json.RawMessage, key string, value []byte) []byte {
	b := make([]byte, 0, 40+len(id)+len(value))
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	if value != nil {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		b = append(b, value...)
	}
	return append(b, '}')
}
