package node

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/params"

	"github.com/veloxlabs/velox/client"
	"github.com/veloxlabs/velox/settlement"
)

// fastNode starts a node on the tiny test circuit with a funded account
// whose key is set, and returns it with that account's wallet and client.
// It shares the key cache of the package's other node tests.
func fastNode(tb testing.TB) (*Node, *client.Wallet, *client.Client) {
	tb.Helper()
	keyDir := os.Getenv("VELOX_TEST_KEYS")
	if keyDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		keyDir = filepath.Join(base, "velox", "test-keys")
	}
	const chainID = 9
	cfg := Config{
		DataDir: tb.TempDir(), RPCAddr: "127.0.0.1:0", ChainID: chainID, Slots: 8, Depth: 4, KeyDir: keyDir,
		BlockTime: 2 * time.Millisecond, BatchTimeout: time.Second, SendTimeout: 20 * time.Second,
		MaxBodyBytes: 64 << 10, MaxBatchItems: 20,
		L1:   L1Config{EmbeddedBlockTime: 100 * time.Millisecond, Confirmations: 2, PollInterval: 100 * time.Millisecond},
		NATS: NATSConfig{Addr: "127.0.0.1:0"},
	}
	n, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			tb.Error(err)
		}
	})
	c, err := client.Dial(ctx, "http://"+n.RPCAddr())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	w, err := client.NewWallet(settlement.DevKey(1), chainID)
	if err != nil {
		tb.Fatal(err)
	}
	rollup := settlement.NewRollup(n.L1(), n.Deployment().Rollup)
	five := new(big.Int).Mul(big.NewInt(5), big.NewInt(params.Ether))
	if _, err := rollup.Deposit(ctx, settlement.NewAccount(w.Eth), w.Address, five); err != nil {
		tb.Fatal(err)
	}
	for {
		if bal, err := c.Balance(ctx, w.Address); err == nil && bal.Cmp(five) == 0 {
			break
		}
		if ctx.Err() != nil {
			tb.Fatal("the deposit did not arrive on L2")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c.SetKey(ctx, w); err != nil {
		tb.Fatal(err)
	}
	return n, w, c
}

// recorded is what a client sees of a response.
type recorded struct {
	status            int
	contentType, size string
	transferEncoding  string
	body              string
	fast              bool // served by fastSend
}

// serveBoth serves req with the fast path in front of go-ethereum, as the
// node does, and with go-ethereum alone; mk makes a fresh copy of req.
func serveBoth(n *Node, mk func() *http.Request) (fast, geth recorded) {
	w := httptest.NewRecorder()
	fast.fast = true
	if r := n.fastSend(w, mk()); r != nil {
		fast.fast = false
		n.rpc.ServeHTTP(w, r)
	}
	g := httptest.NewRecorder()
	n.rpc.ServeHTTP(g, mk())
	return recordOf(w, fast.fast), recordOf(g, false)
}

func recordOf(w *httptest.ResponseRecorder, fast bool) recorded {
	h := w.Result().Header
	return recorded{status: w.Code, contentType: h.Get("Content-Type"), size: h.Get("Content-Length"),
		transferEncoding: h.Get("Transfer-Encoding"), body: w.Body.String(), fast: fast}
}

// TestFastSendMatchesGeth sends each request down the fast path and down
// go-ethereum's and requires the same response, byte for byte; the fast
// path must take the requests it is meant to take.
func TestFastSendMatchesGeth(t *testing.T) {
	n, w, c := fastNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The recipient exists, so that the valid transfers below have
	// receipts of the same shape.
	to := common.Address{0x42}
	idx, nonce := transferOnce(t, ctx, c, w, to)
	sign := func(amount *big.Int, nonce uint32) []byte {
		t.Helper()
		raw, err := w.Transfer(idx, to, amount, big.NewInt(1000), nonce)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	transfer := func(amount *big.Int, nonce uint32) string { return hexutil.Encode(sign(amount, nonce)) }
	bad := sign(big.NewInt(10), nonce)
	bad[len(bad)-1] ^= 1
	badSig := hexutil.Encode(bad)
	overdraft := transfer(new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether)), nonce)
	noAccount, _ := w.Transfer(15, to, big.NewInt(10), big.NewInt(1000), 0)

	call := func(id, params string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"velox_sendTransaction","params":` + params + `}`
	}
	huge := call("1", `["0x`+strings.Repeat("00", 64<<10)+`"]`)
	const js = "application/json"
	cases := []struct {
		name, method, ctype, body string
		chunked                   bool // no Content-Length
		fast                      bool
	}{
		{"bad signature", "POST", js, call("1", `["`+badSig+`"]`), false, true},
		{"insufficient balance (error data)", "POST", js, call("1", `["`+overdraft+`"]`), false, true},
		{"unknown account (error data)", "POST", js, call("1", `["`+hexutil.Encode(noAccount)+`"]`), false, true},
		{"truncated transaction", "POST", js, call("1", `["`+badSig[:40]+`"]`), false, true},
		{"malformed hex", "POST", js, call("1", `["0xzz"]`), false, true},
		{"odd-length hex", "POST", js, call("1", `["0x123"]`), false, true},
		{"no 0x prefix", "POST", js, call("1", `["1234"]`), false, true},
		{"empty string", "POST", js, call("1", `[""]`), false, true},
		{"empty transaction", "POST", js, call("1", `["0x"]`), false, true},
		{"escaped hex", "POST", js, call("1", `["0x\u0030\u0030"]`), false, true},
		{"number instead of string", "POST", js, call("1", `[123]`), false, true},
		{"object argument", "POST", js, call("1", `[{"raw":"0x00"}]`), false, true},
		{"null argument", "POST", js, call("1", `[null]`), false, true},
		{"null argument and more", "POST", js, call("1", `[null, 1]`), false, true},
		{"params missing", "POST", js, `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction"}`, false, true},
		{"params null", "POST", js, call("1", `null`), false, true},
		{"params empty", "POST", js, call("1", `[]`), false, true},
		{"params empty with spaces", "POST", js, call("1", "[ \n ]"), false, true},
		{"too many params", "POST", js, call("1", `["`+badSig+`", "0x"]`), false, true},
		{"too many params, first bad", "POST", js, call("1", `["0xzz", "0x"]`), false, true},
		{"params object", "POST", js, call("1", `{"raw":"`+badSig+`"}`), false, true},
		{"params string", "POST", js, call("1", `"`+badSig+`"`), false, true},
		{"params number", "POST", js, call("1", `7`), false, true},
		{"id large number", "POST", js, call("123456789012345678901234567890", `["0x"]`), false, true},
		{"id float", "POST", js, call("-1.5e3", `["0x"]`), false, true},
		{"id string", "POST", js, call(`"abc"`, `["0x"]`), false, true},
		{"id string escaped", "POST", js, call(`"a\"b\u00e9<>&\/"`, `["0x"]`), false, true},
		{"id null", "POST", js, call("null", `["0x"]`), false, true},
		{"id true", "POST", js, call("true", `["0x"]`), false, true},
		{"id object", "POST", js, call(`{"a":1}`, `["0x"]`), false, false},
		{"id array", "POST", js, call(`[1]`, `["0x"]`), false, false},
		{"id missing (notification)", "POST", js, `{"jsonrpc":"2.0","method":"velox_sendTransaction","params":["` + badSig + `"]}`, false, false},
		{"extra fields", "POST", js, `{"foo":[1,{"b":2}],"jsonrpc":"2.0","ID":7,"Method":"eth_chainId","id":1,"result":3,"error":null,"method":"velox_sendTransaction","params":["0x"]}`, false, true},
		{"repeated keys", "POST", js, `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[],"id":"two","method":"velox_sendTransaction","params":["0x"]}`, false, true},
		{"escaped key", "POST", js, `{"jsonrpc":"2.0","\u0069d":5,"method":"velox_sendTransaction","params":["0x"]}`, false, true},
		{"empty key", "POST", js, `{"jsonrpc":"2.0","":0,"id":1,"method":"velox_sendTransaction","params":["0x"]}`, false, true},
		{"whitespace around", "POST", js, "\r\n\t {\n  \"jsonrpc\" : \"2.0\" ,\n  \"id\" : 1 ,\n  \"method\" : \"velox_sendTransaction\" ,\n  \"params\" : [ \"0x\" ]\n}\n\n", false, true},
		{"uppercase content type with charset", "POST", "Application/JSON; charset=utf-8", call("1", `["0x"]`), false, true},
		{"chunked body", "POST", js, call("1", `["0x"]`), true, true},
		{"escaped method", "POST", js, `{"jsonrpc":"2.0","id":1,"method":"velox\u005fsendTransaction","params":["0x"]}`, false, false},
		{"other method", "POST", js, `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`, false, false},
		{"wrong version", "POST", js, `{"jsonrpc":"1.0","id":1,"method":"velox_sendTransaction","params":["0x"]}`, false, false},
		{"no version", "POST", js, `{"id":1,"method":"velox_sendTransaction","params":["0x"]}`, false, false},
		{"batch", "POST", js, `[` + call("1", `["`+badSig+`"]`) + `]`, false, false},
		{"invalid JSON", "POST", js, call("1", `[`), false, false},
		{"trailing garbage", "POST", js, call("1", `["0x"]`) + `x`, false, false},
		{"two objects", "POST", js, call("1", `["0x"]`) + call("2", `["0x"]`), false, false},
		{"null body", "POST", js, `null`, false, false},
		{"empty body", "POST", js, ``, false, false},
		{"body over the limit", "POST", js, huge, false, false},
		{"body over the limit, chunked", "POST", js, huge, true, false},
		{"other accepted content type", "POST", "application/json-rpc", call("1", `["0x"]`), false, false},
		{"text content type", "POST", "text/plain", call("1", `["0x"]`), false, false},
		{"no content type", "POST", "", call("1", `["0x"]`), false, false},
		{"GET", "GET", js, "", false, false},
		{"GET with body", "GET", js, call("1", `["0x"]`), false, false},
		{"PUT", "PUT", js, call("1", `["0x"]`), false, false},
		{"OPTIONS", "OPTIONS", js, "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mk := func() *http.Request {
				var body io.Reader = strings.NewReader(tc.body)
				if tc.chunked {
					body = io.MultiReader(body) // hides the length
				}
				r := httptest.NewRequest(tc.method, "/", body)
				if tc.ctype != "" {
					r.Header.Set("Content-Type", tc.ctype)
				}
				return r
			}
			fast, geth := serveBoth(n, mk)
			t.Logf("HTTP %d %.200s", geth.status, geth.body)
			if fast.fast != tc.fast {
				t.Errorf("fast path taken: %v, want %v", fast.fast, tc.fast)
			}
			fast.fast = false
			if fast != geth {
				t.Errorf("responses differ:\nfast %+v\ngeth %+v", fast, geth)
			}

			// The node's listener gives the same answer (the hook is in place).
			req, err := http.NewRequestWithContext(ctx, tc.method, "http://"+n.RPCAddr()+"/", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			live, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.chunked {
				return // sent with a length here; compared above
			}
			if resp.StatusCode != geth.status || string(live) != geth.body || resp.Header.Get("Content-Type") != geth.contentType {
				t.Errorf("over HTTP: %d %q %.300s, want %d %q %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), live,
					geth.status, geth.contentType, geth.body)
			}
		})
	}

	// Valid transactions: one down each path (consecutive nonces), then
	// each again, which both paths refuse as a duplicate.
	next := transfer(big.NewInt(10), nonce)
	after := transfer(big.NewInt(10), nonce+1)
	post := func(body string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Content-Type", js)
			return r
		}
	}
	fw := httptest.NewRecorder()
	if r := n.fastSend(fw, post(call("7", `["`+next+`"]`))()); r != nil {
		t.Fatal("the fast path did not take a valid transaction")
	}
	gw := httptest.NewRecorder()
	n.rpc.ServeHTTP(gw, post(call("7", `["`+after+`"]`))())
	fast, geth := recordOf(fw, true), recordOf(gw, false)
	if fast.status != geth.status || fast.contentType != geth.contentType || fast.transferEncoding != geth.transferEncoding {
		t.Fatalf("valid transaction: fast %+v, geth %+v", fast, geth)
	}
	var fv, gv map[string]any
	if err := json.Unmarshal([]byte(fast.body), &fv); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(geth.body), &gv); err != nil {
		t.Fatal(err)
	}
	if fs, gs := shape(fv), shape(gv); !reflect.DeepEqual(fs, gs) {
		t.Fatalf("valid transaction: shapes differ:\nfast %v\ngeth %v", fs, gs)
	}
	for _, v := range []map[string]any{fv, gv} {
		res, _ := v["result"].(map[string]any)
		rec, _ := res["receipt"].(map[string]any)
		if v["jsonrpc"] != "2.0" || v["id"] != 7.0 || rec["status"] != "ok" {
			t.Fatalf("valid transaction: %v", v)
		}
	}
	// The fast path's result is what go-ethereum would have encoded.
	var pre PreconfirmationJSON
	if err := json.Unmarshal(must(json.Marshal(fv["result"])), &pre); err != nil {
		t.Fatal(err)
	}
	if want := `{"jsonrpc":"2.0","id":7,"result":` + string(must(json.Marshal(&pre))) + `}`; fast.body != want {
		t.Fatalf("valid transaction:\n%s\nwant\n%s", fast.body, want)
	}
	for _, raw := range []string{next, after} {
		fast, geth := serveBoth(n, post(call(`"again"`, `["`+raw+`"]`)))
		if !fast.fast || !strings.Contains(geth.body, "duplicate") {
			t.Errorf("replay: fast %v, geth %s", fast.fast, geth.body)
		}
		fast.fast = false
		if fast != geth {
			t.Errorf("replay: responses differ:\nfast %+v\ngeth %+v", fast, geth)
		}
	}
}

// cpuTime returns the CPU time the process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// shape lists the paths of v's members with the JSON types of their values.
func shape(v any) []string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(prefix+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(prefix+"[]", e)
			}
		default:
			out = append(out, prefix+":"+reflect.TypeOf(v).String())
		}
	}
	walk("", v)
	sort.Strings(out)
	return out
}

// BenchmarkSendPath measures the CPU a velox_sendTransaction call costs in
// the RPC layer, fast path against go-ethereum's, on calls that change no
// state: an empty transaction (refused at once, so nearly all the cost is
// the RPC layer) and a transfer with a bad signature (refused by the
// sequencer after the signature check).
func BenchmarkSendPath(b *testing.B) {
	n, w, c := fastNode(b)
	acc, err := c.Account(context.Background(), w.Address)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := w.Transfer(uint32(acc.Index), common.Address{0x42}, big.NewInt(10), big.NewInt(1000), uint32(acc.Nonce))
	if err != nil {
		b.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	for _, tx := range []struct{ name, hex string }{{"empty", "0x"}, {"badSignature", hexutil.Encode(raw)}} {
		body := []byte(`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["` + tx.hex + `"]}`)
		for _, path := range []struct {
			name  string
			serve func(http.ResponseWriter, *http.Request)
		}{
			{"fast", func(w http.ResponseWriter, r *http.Request) {
				if n.fastSend(w, r) != nil {
					b.Fatal("fell back")
				}
			}},
			{"geth", n.rpc.ServeHTTP},
			// The cost of the harness (request, recorder) and of the
			// idle node, to subtract from both.
			{"baseline", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"error":0}`))
			}},
		} {
			b.Run(tx.name+"/"+path.name, func(b *testing.B) {
				b.ReportAllocs()
				start := cpuTime(b)
				for b.Loop() {
					r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					w := httptest.NewRecorder()
					path.serve(w, r)
					if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"error"`) {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
				// Wall time hides the work go-ethereum does on other
				// goroutines; the process's CPU time does not.
				b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// transferOnce sends one transfer from w to to (so that to exists and
// later transfers to it have receipts of one shape) and returns w's
// account index and next nonce.
func transferOnce(t *testing.T, ctx context.Context, c *client.Client, w *client.Wallet, to common.Address) (idx, nonce uint32) {
	t.Helper()
	if _, err := c.Transfer(ctx, w, to, big.NewInt(10), big.NewInt(1000)); err != nil {
		t.Fatal(err)
	}
	acc, err := c.Account(ctx, w.Address)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(acc.Index), uint32(acc.Nonce)
}
