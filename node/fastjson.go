package node

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Hand-written JSON for the fast path of velox_sendTransaction
// (fastrpc.go). encoding/json cost about 7.5 µs per call to parse the
// request and 6 µs to encode the preconfirmation, most of the fast path's
// CPU. Both are exact: the scanner takes only requests it fully
// understands and leaves the rest to encoding/json, and the encoder writes
// what json.Marshal writes. fastjson_test.go holds both to that.

// scanSendCall reads body if it has the common shape of a
// velox_sendTransaction call: one object whose members are exactly
// "jsonrpc":"2.0", "method":"velox_sendTransaction", an "id" that is a
// number or a string, and "params" an array of one string, in any order,
// each once, with any whitespace between tokens. Strings must be ASCII
// without escapes. It returns the id and the argument (with its quotes) as
// sent. Anything else, even valid, it declines (ok false) for
// parseSendCall to read the general way; whatever it accepts,
// parseSendCall reads the same.
func scanSendCall(body []byte) (id, arg []byte, ok bool) {
	const (
		haveVersion = 1 << iota
		haveMethod
		haveID
		haveParams
		haveAll = haveVersion | haveMethod | haveID | haveParams
	)
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return nil, nil, false
	}
	var seen int
	for i++; ; i++ { // at the start of a member, after '{' or ','
		i = skipSpace(body, i)
		key, j := scanPlainString(body, i)
		if j < 0 {
			return nil, nil, false
		}
		i = skipSpace(body, j)
		if i == len(body) || body[i] != ':' {
			return nil, nil, false
		}
		i = skipSpace(body, i+1)
		var member int
		switch string(key[1 : len(key)-1]) {
		case "jsonrpc":
			member = haveVersion
			var v []byte
			if v, i = scanPlainString(body, i); i < 0 || string(v) != `"2.0"` {
				return nil, nil, false
			}
		case "method":
			member = haveMethod
			var v []byte
			if v, i = scanPlainString(body, i); i < 0 || string(v) != sendMethod {
				return nil, nil, false
			}
		case "id":
			member = haveID
			if i < len(body) && body[i] == '"' {
				id, i = scanPlainString(body, i)
			} else {
				id, i = scanNumber(body, i)
			}
			if i < 0 {
				return nil, nil, false
			}
		case "params":
			member = haveParams
			if i == len(body) || body[i] != '[' {
				return nil, nil, false
			}
			if arg, i = scanPlainString(body, skipSpace(body, i+1)); i < 0 {
				return nil, nil, false
			}
			if i = skipSpace(body, i); i == len(body) || body[i] != ']' {
				return nil, nil, false
			}
			i++
		default:
			return nil, nil, false
		}
		if seen&member != 0 {
			return nil, nil, false // repeated: the last would win
		}
		seen |= member
		if i = skipSpace(body, i); i == len(body) {
			return nil, nil, false
		}
		if body[i] == '}' {
			break
		}
		if body[i] != ',' {
			return nil, nil, false
		}
	}
	if seen != haveAll || skipSpace(body, i+1) != len(body) {
		return nil, nil, false
	}
	return id, arg, true
}

// skipSpace returns the index of the first byte from i on that is not JSON
// whitespace, or len(b).
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanPlainString reads the string that starts at b[i] if it is printable
// ASCII without escapes, and returns it with its quotes and the index after
// it; j is -1 if there is no such string. Non-ASCII bytes are declined
// rather than reasoned about: the callers only need ASCII.
func scanPlainString(b []byte, i int) (s []byte, j int) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1
	}
	for j = i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i : j+1], j + 1
		case c < 0x20 || c >= utf8.RuneSelf || c == '\\':
			return nil, -1
		}
	}
	return nil, -1
}

// scanNumber reads the number that starts at b[i], by RFC 8259's grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and returns it and the
// index after it; j is -1 if there is none. The caller checks what follows
// (so that "01" or "1x" is refused there).
func scanNumber(b []byte, i int) (n []byte, j int) {
	j = i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = skipDigits(b, j)
	default:
		return nil, -1
	}
	if j < len(b) && b[j] == '.' {
		if k := skipDigits(b, j+1); k > j+1 {
			j = k
		} else {
			return nil, -1
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		if end := skipDigits(b, k); end > k {
			j = end
		} else {
			return nil, -1
		}
	}
	return b[i:j], j
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// appendPreconfirmation appends json.Marshal(p), field by field in the
// order and with the omitempty rules of the struct tags; the hex types
// are written as their MarshalText writes them.
func appendPreconfirmation(b []byte, p *PreconfirmationJSON) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"receipt":`...)
	b = appendReceipt(b, &p.Receipt)
	b = append(b, `,"header":`...)
	b = appendHeader(b, &p.Header)
	b = append(b, `,"headerHash":`...)
	b = appendHex(b, p.HeaderHash[:])
	b = append(b, `,"signature":`...)
	b = appendHex(b, p.Signature) // nil too is "0x": the method has a value receiver
	b = append(b, `,"sequencer":`...)
	b = appendHex(b, p.Sequencer[:])
	return append(b, '}')
}

func appendReceipt(b []byte, r *ReceiptJSON) []byte {
	b = append(b, `{"transactionHash":`...)
	b = appendHex(b, r.TxHash[:])
	b = append(b, `,"blockNumber":`...)
	b = appendUint64(b, r.Block)
	b = append(b, `,"position":`...)
	b = appendUint64(b, r.Position)
	b = append(b, `,"batch":`...)
	b = appendUint64(b, r.Batch)
	b = append(b, `,"status":`...)
	b = appendString(b, r.Status)
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	if r.Rule != "" {
		b = append(b, `,"rule":`...)
		b = appendString(b, r.Rule)
	}
	if op := r.Op; op != nil {
		b = append(b, `,"op":{"type":`...)
		b = appendString(b, op.Type)
		b = append(b, `,"account":`...)
		b = appendUint64(b, op.Account)
		if op.To != nil {
			b = append(b, `,"to":`...)
			b = appendUint64(b, *op.To)
		}
		if op.Address != nil {
			b = append(b, `,"address":`...)
			b = appendHex(b, op.Address[:])
		}
		if op.Amount != nil {
			b = append(b, `,"amount":`...)
			b = appendBig(b, op.Amount)
		}
		if op.Fee != nil {
			b = append(b, `,"fee":`...)
			b = appendBig(b, op.Fee)
		}
		if op.Nonce != nil {
			b = append(b, `,"nonce":`...)
			b = appendUint64(b, *op.Nonce)
		}
		if op.PriorityID != nil {
			b = append(b, `,"priorityId":`...)
			b = appendUint64(b, *op.PriorityID)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendHeader(b []byte, h *HeaderJSON) []byte {
	b = append(b, `{"chainId":`...)
	b = appendUint64(b, h.ChainID)
	b = append(b, `,"number":`...)
	b = appendUint64(b, h.Number)
	b = append(b, `,"parentHash":`...)
	b = appendHex(b, h.ParentHash[:])
	b = append(b, `,"timestamp":`...)
	b = appendUint64(b, h.TimeMicros)
	b = append(b, `,"batch":`...)
	b = appendUint64(b, h.Batch)
	b = append(b, `,"transactionsRoot":`...)
	b = appendHex(b, h.TxRoot[:])
	b = append(b, `,"receiptsRoot":`...)
	b = appendHex(b, h.ReceiptRoot[:])
	return append(b, '}')
}

// appendHex appends v as hexutil.Bytes, common.Hash and common.Address
// encode: "0x" and lowercase hex.
func appendHex(b, v []byte) []byte {
	b = append(b, `"0x`...)
	b = hex.AppendEncode(b, v)
	return append(b, '"')
}

// appendUint64 appends v as hexutil.Uint64 encodes it.
func appendUint64(b []byte, v hexutil.Uint64) []byte {
	b = append(b, `"0x`...)
	b = strconv.AppendUint(b, uint64(v), 16)
	return append(b, '"')
}

// appendBig appends v as hexutil.Big encodes it (hexutil.EncodeBig).
func appendBig(b []byte, v *hexutil.Big) []byte {
	b = append(b, '"')
	if x := v.ToInt(); x.Sign() > 0 {
		b = append(b, "0x"...)
		if x.IsUint64() {
			b = strconv.AppendUint(b, x.Uint64(), 16) // Append allocates
		} else {
			b = x.Append(b, 16)
		}
	} else {
		b = append(b, hexutil.EncodeBig(x)...) // zero, or negative: rare
	}
	return append(b, '"')
}

// appendString appends s as encoding/json does: quoted, with '"', '\\'
// and control characters escaped, '<', '>', '&', U+2028 and U+2029 as
// \u escapes (its HTML-safe default), and each byte of invalid UTF-8 as
// \ufffd. Strings that need none of that, the usual case, are copied.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[done:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}
