package executor

import (
	"testing"
	"unsafe"
)

// TestLayout guards the sizes that keep hot data of different
// transactions and accounts in different cache lines: a txState fills two
// lines, and the four 16-byte keys of an account one.
func TestLayout(t *testing.T) {
	if s := unsafe.Sizeof(txState{}); s != 128 {
		t.Errorf("txState is %d bytes, want 128", s)
	}
	if s := unsafe.Sizeof(key{}); s*numFields != 64 {
		t.Errorf("key is %d bytes, want 16", s)
	}
	if keyChunk%numFields != 0 {
		t.Errorf("chunks of %d keys do not keep accounts aligned", keyChunk)
	}
}
