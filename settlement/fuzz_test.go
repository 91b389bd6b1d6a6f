package settlement

import (
	"testing"
)

// FuzzDecodeRevert feeds arbitrary revert data (it comes from an L1 node)
// to the decoder: it must never panic, and decode only the contract's
// errors.
func FuzzDecodeRevert(f *testing.F) {
	for _, e := range rollupABI.Errors {
		f.Add(e.ID[:4])
		f.Add(append(append([]byte(nil), e.ID[:4]...), make([]byte, 64)...))
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0xc3, 0x79, 0xa0}) // Error(string)
	f.Fuzz(func(t *testing.T, data []byte) {
		re := decodeRollupError(data)
		if re == nil {
			return
		}
		e, ok := rollupABI.Errors[re.Name]
		if !ok || string(e.ID[:4]) != string(data[:4]) || len(re.Args) != len(e.Inputs) {
			t.Fatalf("decoded %v from %x", re, data)
		}
	})
}
