package ledger

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ and run with plain
// `go test`; they hold valid encodings of every type and near-misses.

func FuzzDecodeTx(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{byte(TxTransfer)})
	for _, tx := range sampleTxs(f) {
		f.Add(tx.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			if tx != nil {
				t.Fatal("DecodeTx returned a transaction with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownType) && !errors.Is(err, ErrNonCanonical) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if enc := tx.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("Encode(DecodeTx(%x)) = %x", b, enc)
		}
		// The stateless checks never panic on decoded input, and only
		// report rule errors.
		c := Check(tx, testParams)
		if c.Err != nil {
			known := false
			for _, e := range []error{ErrBadSignature, ErrZeroAddress, ErrAmountNotPackable, ErrFeeNotPackable} {
				known = known || errors.Is(c.Err, e)
			}
			if !known {
				t.Fatalf("Check: unexpected error %v", c.Err)
			}
		}
	})
}

func FuzzDecodePubdata(f *testing.F) {
	ops := sampleOps(f)
	for i := range ops {
		b, err := ops[i].Pubdata(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	all, err := Pubdata(ops, 32)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(all)
	base := newFixture(f).st
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := DecodePubdata(b)
		if err != nil {
			if ops != nil {
				t.Fatal("DecodePubdata returned operations with an error")
			}
			return
		}
		again, err := Pubdata(ops, len(b)/ChunkSize)
		if err != nil {
			t.Fatalf("re-encoding decoded pubdata: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("Pubdata(DecodePubdata(%x)) = %x", b, again)
		}
		// Replaying whatever was decoded never panics, and a failed
		// replay writes nothing.
		st := base.Clone()
		for i := range ops {
			before := st.Clone()
			if err := Replay(st, &ops[i], testParams); err != nil {
				if !reflect.DeepEqual(st, before) {
					t.Fatalf("failed replay of %v (%v) changed the state", ops[i].Type, err)
				}
			}
		}
	})
}

func FuzzUnpack(f *testing.F) {
	for _, s := range [][]byte{
		{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0x20}, {0xff, 0xff, 0xff, 0xff, 0xff},
		{0, 0, 0, 0, 0x21}, {0x04, 0xa8, 0x17, 0xc8, 0x08}, {0xff, 0xe1, 0, 0, 0},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < PackedAmountSize {
			return
		}
		a := [PackedAmountSize]byte(b)
		if v, err := UnpackAmount(a); err == nil {
			back, err := PackAmount(&v)
			if err != nil {
				t.Fatalf("PackAmount(UnpackAmount(%x)) = %v", a, err)
			}
			if (back == a) != canonicalPacking(a[:], amountMantissaLimit) {
				t.Fatalf("canonical(%x) = %v but repacks to %x", a, canonicalPacking(a[:], amountMantissaLimit), back)
			}
		} else if !errors.Is(err, ErrAmountRange) {
			t.Fatal(err)
		}
		fb := [PackedFeeSize]byte(b)
		v := UnpackFee(fb)
		back, err := PackFee(&v)
		if err != nil {
			t.Fatalf("PackFee(UnpackFee(%x)) = %v", fb, err)
		}
		if (back == fb) != canonicalPacking(fb[:], feeMantissaLimit) {
			t.Fatalf("canonical(%x) disagrees with repacking %x", fb, back)
		}
	})
}
