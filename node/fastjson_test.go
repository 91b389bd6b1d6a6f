package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// scanAgrees reports whether scanSendCall took body, and an error if it
// took it but read it differently from encoding/json (parseSendCall and
// sendArgument): another id, argument or invalid-params message.
func scanAgrees(body []byte) (took bool, err error) {
	id, arg, ok := scanSendCall(body)
	if !ok {
		return false, nil
	}
	wantID, params, wantOK := parseSendCall(body)
	if !wantOK {
		return true, fmt.Errorf("scanner took %q, which encoding/json declines", body)
	}
	if !bytes.Equal(id, wantID) {
		return true, fmt.Errorf("%q: id %q, want %q", body, id, wantID)
	}
	raw, argErr := decodeArgument(arg)
	wantRaw, wantErr := sendArgument(params)
	if fmt.Sprint(argErr) != fmt.Sprint(wantErr) || !bytes.Equal(raw, wantRaw) || (raw == nil) != (wantRaw == nil) {
		return true, fmt.Errorf("%q: argument %x, %v; want %x, %v", body, raw, argErr, wantRaw, wantErr)
	}
	// parseSend returns what the scanner read.
	pid, praw, perr, pok := parseSend(body)
	if !pok || !bytes.Equal(pid, id) || !bytes.Equal(praw, raw) || fmt.Sprint(perr) != fmt.Sprint(argErr) {
		return true, fmt.Errorf("%q: parseSend disagrees with the scanner", body)
	}
	return true, nil
}

// sendBodies returns request bodies the scanner should take (valid) and
// near misses it should decline or read exactly as encoding/json does.
func sendBodies() (valid, near []string) {
	members := func(id, arg string) []string {
		return []string{`"jsonrpc":"2.0"`, `"id":` + id, `"method":"velox_sendTransaction"`, `"params":["` + arg + `"]`}
	}
	// Every key order, with a few ids and arguments.
	ids := []string{"1", "0", "-0", "7", "-12", "1.5", "-1.5e3", "0e0", "1E+9", "2e-7", "0.000",
		"123456789012345678901234567890", `"abc"`, `""`, `"a b/c'<>&"`, `"` + strings.Repeat("x", 100) + `"`}
	args := []string{"0x", "0x00", "0xdeadBEEF", "0X0102", "", "0xzz", "0x123", "1234", "0x0", "x0", "0x" + strings.Repeat("ab", 200)}
	perms := [][4]int{}
	var permute func(p []int, k int)
	permute = func(p []int, k int) {
		if k == len(p) {
			perms = append(perms, [4]int(p))
			return
		}
		for i := k; i < len(p); i++ {
			p[k], p[i] = p[i], p[k]
			permute(p, k+1)
			p[k], p[i] = p[i], p[k]
		}
	}
	permute([]int{0, 1, 2, 3}, 0)
	for i, p := range perms {
		m := members(ids[i%len(ids)], args[i%len(args)])
		valid = append(valid, "{"+m[p[0]]+","+m[p[1]]+","+m[p[2]]+","+m[p[3]]+"}")
	}
	for _, id := range ids {
		for _, arg := range args {
			valid = append(valid, `{`+strings.Join(members(id, arg), ",")+`}`)
		}
	}
	// Whitespace between every token.
	for _, ws := range []string{" ", "\t", "\n", "\r\n", " \t\r\n "} {
		valid = append(valid, ws+"{"+ws+`"jsonrpc"`+ws+":"+ws+`"2.0"`+ws+","+ws+`"id"`+ws+":"+ws+"1"+ws+","+ws+
			`"method"`+ws+":"+ws+`"velox_sendTransaction"`+ws+","+ws+`"params"`+ws+":"+ws+"["+ws+`"0x01"`+ws+"]"+ws+"}"+ws)
	}

	base := `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x0102"]}`
	call := func(id, params string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"velox_sendTransaction","params":` + params + `}`
	}
	near = []string{
		"", " ", "{}", "[]", "null", base + "x", base + base, base + ",", "[" + base + "]", base[:len(base)-1],
		// Bad numbers.
		call("01", `["0x"]`), call("-01", `["0x"]`), call("1.", `["0x"]`), call("-", `["0x"]`), call("1e", `["0x"]`),
		call("1e+", `["0x"]`), call(".5", `["0x"]`), call("+1", `["0x"]`), call("1.5.3", `["0x"]`), call("0x10", `["0x"]`),
		call("1x", `["0x"]`), call("--1", `["0x"]`), call("1E-", `["0x"]`), call("Infinity", `["0x"]`), call("NaN", `["0x"]`),
		call("00", `["0x"]`), call("-0.e1", `["0x"]`), call("1ee2", `["0x"]`),
		// Other ids.
		call("null", `["0x"]`), call("true", `["0x"]`), call("false", `["0x"]`), call(`{"a":1}`, `["0x"]`), call("[1]", `["0x"]`),
		call(`"a\"b"`, `["0x"]`), call(`"\u0061"`, `["0x"]`), call(`"é"`, `["0x"]`), call("\"a\tb\"", `["0x"]`), call("\"\xff\"", `["0x"]`),
		call(`"abc`, `["0x"]`), call(`'a'`, `["0x"]`),
		// Other params.
		call("1", `[]`), call("1", `[ ]`), call("1", `null`), call("1", `["0x","0x"]`), call("1", `["0xzz","0x"]`), call("1", `[null]`),
		call("1", `[null,1]`), call("1", `[1]`), call("1", `[{"a":"0x"}]`), call("1", `[["0x"]]`), call("1", `{"a":"0x"}`),
		call("1", `"0x"`), call("1", `7`), call("1", `["0x\u0030\u0030"]`), call("1", `["\u0030x00"]`), call("1", `["0x00\n"]`),
		call("1", `["0xé"]`), call("1", "[\"0x\xff\"]"), call("1", `["0x"`), call("1", `["0x",]`), call("1", `[,"0x"]`),
		call("1", `["0x"]]`), call("1", `[true]`),
		// Keys.
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction"}`,
		`{"id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"id":2,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0xzz"],"params":["0x"]}`,
		`{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","\u0069d":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","ID":1,"id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","":1,"id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x"],"foo":null}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x"],}`,
		`{,"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0" "id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id"1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id"::1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{jsonrpc:"2.0","id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		// Values.
		`{"jsonrpc":"2.00","id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":2.0,"id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendtransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox\u005fsendTransaction","params":["0x"]}`,
		`{"jsonrpc":"\u0032.0","id":1,"method":"velox_sendTransaction","params":["0x"]}`,
		"\xef\xbb\xbf" + base, "\v" + base, "\f" + base, base + "\x00", base + "\u00a0",
	}
	// Every byte of a valid body dropped, and a few bytes put at every place.
	near = append(near, valid...)
	for _, b := range []string{base, call(`"x"`, `["0X0a"]`), call("-1.5e+3", `[""]`)} {
		for i := range len(b) + 1 {
			if i < len(b) {
				near = append(near, b[:i]+b[i+1:])
			}
			for _, c := range []string{" ", "0", "1", "-", ".", "e", "+", `"`, `\`, ",", ":", "[", "]", "{", "}", "x", "\x00", "\t", "é", "\xff"} {
				near = append(near, b[:i]+c+b[i:])
			}
		}
	}
	return valid, near
}

func TestScanSendCallMatchesEncodingJSON(t *testing.T) {
	valid, near := sendBodies()
	for _, body := range valid {
		if took, err := scanAgrees([]byte(body)); err != nil {
			t.Error(err)
		} else if !took {
			t.Errorf("declined %q", body)
		}
	}
	took := 0
	for _, body := range near {
		ok, err := scanAgrees([]byte(body))
		if err != nil {
			t.Error(err)
		}
		if ok {
			took++
		}
	}
	t.Logf("%d valid bodies, %d near misses of which the scanner took %d", len(valid), len(near), took)

	// Declined, though valid: these take encoding/json's path.
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":"\u0061","method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":null,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"id":2,"method":"velox_sendTransaction","params":["0x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x","0x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":[null]}`,
		`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction"}`,
	} {
		if _, _, ok := scanSendCall([]byte(body)); ok {
			t.Errorf("took %q", body)
		}
		if _, _, _, ok := parseSend([]byte(body)); !ok {
			t.Errorf("parseSend declined %q", body)
		}
	}
}

// FuzzParseSend checks that whatever scanSendCall takes, encoding/json
// reads the same way. Run it with
//
//	go test ./node -run '^$' -fuzz FuzzParseSend -fuzztime 30s
func FuzzParseSend(f *testing.F) {
	valid, near := sendBodies()
	for _, b := range valid[:40] {
		f.Add([]byte(b))
	}
	for i := 0; i < len(near); i += 37 {
		f.Add([]byte(near[i]))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := scanAgrees(body); err != nil {
			t.Fatal(err)
		}
	})
}

// jsonStrings are strings for the encoder's string fields: plain, and with
// everything encoding/json escapes or replaces.
var jsonStrings = []string{
	"", "ok", "failed", "insufficient balance: have 0x1, want 0x2", `quote " and \ backslash`, "<script>&amp;</script>",
	"line\u2028para\u2029", "\b\f\n\r\t", "\x00\x01\x1f\x7f", "héllo 世界 😀", "\xff\xfe invalid", "\xe2\x80", "\xe2\x80\xa8",
	"\xed\xa0\x80 surrogate", "trailing \xc3", "\u00a0\ufeff\ufffd", "a/b", "'single'",
}

func randomString(rng *rand.Rand) string {
	if rng.IntN(2) == 0 {
		return jsonStrings[rng.IntN(len(jsonStrings))]
	}
	b := make([]byte, rng.IntN(24))
	for i := range b {
		switch rng.IntN(3) {
		case 0:
			b[i] = byte(rng.IntN(256))
		case 1:
			b[i] = byte(rng.IntN(128))
		default:
			const special = "<>&\"\\\n\xe2\x80\xa8\xa9"
			b[i] = special[rng.IntN(len(special))]
		}
	}
	return string(b)
}

var bigType = reflect.TypeFor[hexutil.Big]()

// fillRandom sets v, field by field through reflection (so that a field
// added to the types is covered), to random values with the edge cases
// often: zero and maximal numbers, nil and empty pointers and slices,
// strings that need escaping.
func fillRandom(rng *rand.Rand, v reflect.Value) {
	if v.Type() == bigType {
		x := (*big.Int)(v.Addr().Interface().(*hexutil.Big))
		switch rng.IntN(5) {
		case 0: // zero
		case 1:
			x.SetUint64(rng.Uint64() >> rng.IntN(64))
		case 2:
			x.Sub(x.Lsh(big.NewInt(1), 256), big.NewInt(1))
		case 3:
			x.Neg(x.SetUint64(rng.Uint64() >> rng.IntN(64)))
		default:
			buf := make([]byte, rng.IntN(40))
			for i := range buf {
				buf[i] = byte(rng.IntN(256))
			}
			x.SetBytes(buf)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fillRandom(rng, v.Field(i))
		}
	case reflect.Pointer:
		if rng.IntN(3) != 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fillRandom(rng, v.Elem())
		}
	case reflect.String:
		v.SetString(randomString(rng))
	case reflect.Uint64:
		switch rng.IntN(4) {
		case 0:
			v.SetUint(0)
		case 1:
			v.SetUint(^uint64(0))
		default:
			v.SetUint(rng.Uint64() >> rng.IntN(64))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			panic("fillRandom: " + v.Type().String())
		}
		switch rng.IntN(3) {
		case 0: // nil
		case 1:
			v.SetBytes([]byte{})
		default:
			b := make([]byte, rng.IntN(100))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			v.SetBytes(b)
		}
	case reflect.Array:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			panic("fillRandom: " + v.Type().String())
		}
		if rng.IntN(4) != 0 {
			for i := range v.Len() {
				v.Index(i).SetUint(uint64(rng.IntN(256)))
			}
		}
	default:
		panic("fillRandom: " + v.Type().String()) // a new kind of field: teach the encoder and this
	}
}

func TestEncodePreconfirmationMatchesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(p *PreconfirmationJSON) {
		t.Helper()
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPreconfirmation([]byte("prefix"), p); string(got) != "prefix"+string(want) {
			t.Fatalf("%+v:\n%s\nwant\nprefix%s", p, got, want)
		}
		id := json.RawMessage(`"id"`)
		if got, want := resultResponse(id, p), message(id, "result", want); !bytes.Equal(got, want) {
			t.Fatalf("response:\n%s\nwant\n%s", got, want)
		}
	}
	check(nil)
	check(&PreconfirmationJSON{})
	check(benchPreconfirmation())
	for range 4000 {
		p := new(PreconfirmationJSON)
		fillRandom(rng, reflect.ValueOf(p).Elem())
		check(p)
	}
}

func TestEncodeStringMatchesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	strs := append([]string{}, jsonStrings...)
	for r := range rune(0x10000) { // every rune of the BMP, surrogates included
		strs = append(strs, "a"+string(r)+"b")
	}
	for range 2000 {
		strs = append(strs, randomString(rng))
	}
	for _, s := range strs {
		if got, want := appendString(nil, s), must(json.Marshal(s)); !bytes.Equal(got, want) {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	}
}

func FuzzEncodeString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, s), must(json.Marshal(s)); !bytes.Equal(got, want) {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}

// benchPreconfirmation is a typical result: a transfer preconfirmed.
func benchPreconfirmation() *PreconfirmationJSON {
	h := func(b byte) (x common.Hash) {
		for i := range x {
			x[i] = b + byte(i*7)
		}
		return x
	}
	amount, fee := big.NewInt(1_000_000_000_000_000), big.NewInt(1000)
	return &PreconfirmationJSON{
		Receipt: ReceiptJSON{TxHash: h(1), Block: 123456, Position: 3, Batch: 1234, Status: "ok",
			Op: &OpJSON{Type: "transfer", Account: 17, To: u64p(42), Amount: (*hexutil.Big)(amount), Fee: (*hexutil.Big)(fee), Nonce: u64p(9)}},
		Header: HeaderJSON{ChainID: 9, Number: 123456, ParentHash: h(2), TimeMicros: 1_700_000_000_000_000, Batch: 1234,
			TxRoot: h(3), ReceiptRoot: h(4)},
		HeaderHash: h(5), Signature: bytes.Repeat([]byte{0xab}, 65), Sequencer: common.Address{0x42, 0x17},
	}
}

// BenchmarkSendCodec measures the fast path's JSON work without the
// sequencer: reading a request (a 130-byte transaction) and encoding a
// typical preconfirmation, with encoding/json (as before the scanner and
// encoder) and by hand. Compare with benchstat -col /impl.
func BenchmarkSendCodec(b *testing.B) {
	tx := make([]byte, 130)
	for i := range tx {
		tx[i] = byte(i * 31)
	}
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["` + hexutil.Encode(tx) + `"]}`)
	pre := benchPreconfirmation()
	id := json.RawMessage(`1`)
	b.Run("parse/impl=json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, params, ok := parseSendCall(body)
			if raw, err := sendArgument(params); !ok || err != nil || len(raw) != len(tx) {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("parse/impl=fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, raw, err, ok := parseSend(body); !ok || err != nil || len(raw) != len(tx) {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("encode/impl=json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			result, err := json.Marshal(pre)
			if err != nil {
				b.Fatal(err)
			}
			_ = message(id, "result", result)
		}
	})
	b.Run("encode/impl=fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = resultResponse(id, pre)
		}
	})
}
