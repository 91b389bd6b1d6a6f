package ledger

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"
)

func TestPackAmountTable(t *testing.T) {
	m35 := uint64(1)<<35 - 1
	tooBig := pow10[31]
	tooBig.Mul(&tooBig, uint256.NewInt(m35)) // ≈ 2^138: fits 256 bits, not 128
	largest := pow10[28]                     // the largest packable amount
	largest.Mul(&largest, uint256.NewInt(34028236692))
	tests := []struct {
		name    string
		v       uint256.Int
		mant    uint64
		exp     uint64
		wantErr error
	}{
		{"zero", u256(0), 0, 0, nil},
		{"one", u256(1), 1, 0, nil},
		{"ten uses exponent 0", u256(10), 10, 0, nil},
		{"max mantissa", u256(m35), m35, 0, nil},
		{"2^35 not representable", pow2(35), 0, 0, ErrAmountNotPackable},
		{"2^35+2 needs exponent 1", u256(1<<35 + 2), (1<<35 + 2) / 10, 1, nil},
		{"10^12 minimal exponent 2", pow10[12], 10_000_000_000, 2, nil},
		{"1 ether", u256s(t, "1000000000000000000"), 10_000_000_000, 8, nil},
		{"1.23456789 ether", u256s(t, "1234567890000000000"), 12345678900, 8, nil},
		{"largest", largest, 34028236692, 28, nil},
		{"7 significant digits too many", u256s(t, "123456789012345678"), 0, 0, ErrAmountNotPackable},
		{"10^31·(2^35-1) ≥ 2^128", tooBig, 0, 0, ErrAmountNotPackable},
		{"2^128-1", sub(pow2(128), 1), 0, 0, ErrAmountNotPackable},
		{"2^128", pow2(128), 0, 0, ErrAmountNotPackable},
		{"10^38", func() uint256.Int { v := pow10[31]; v.Mul(&v, &pow10[7]); return v }(), 10_000_000_000, 28, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := PackAmount(&tc.v)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("PackAmount(%v) error %v, want %v", &tc.v, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			x := uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
			if x>>5 != tc.mant || x&31 != tc.exp {
				t.Fatalf("PackAmount(%v) = %d·10^%d, want %d·10^%d", &tc.v, x>>5, x&31, tc.mant, tc.exp)
			}
			got, err := UnpackAmount(b)
			if err != nil || got != tc.v {
				t.Fatalf("UnpackAmount = %v, %v; want %v", &got, err, &tc.v)
			}
		})
	}
}

func TestPackFeeTable(t *testing.T) {
	tests := []struct {
		v       uint256.Int
		packed  [2]byte
		wantErr error
	}{
		{u256(0), [2]byte{0, 0}, nil},
		{u256(1), [2]byte{0, 1 << 5}, nil},
		{u256(2047), [2]byte{0xff, 0xe0}, nil},
		{u256(2048), [2]byte{}, ErrFeeNotPackable},
		{u256(2050), [2]byte{0x19, 0xa1}, nil}, // 205·10^1
		{u256(20470), [2]byte{0xff, 0xe1}, nil},
		{u256(100), [2]byte{0x0c, 0x80}, nil}, // 100·10^0, not 1·10^2
		{u256(2001), [2]byte{0xfa, 0x20}, nil},
		{u256(20001), [2]byte{}, ErrFeeNotPackable},
		{pow2(128), [2]byte{}, ErrFeeNotPackable},
	}
	for _, tc := range tests {
		b, err := PackFee(&tc.v)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("PackFee(%v) error %v, want %v", &tc.v, err, tc.wantErr)
		}
		if err != nil {
			continue
		}
		if b != tc.packed {
			t.Fatalf("PackFee(%v) = %x, want %x", &tc.v, b, tc.packed)
		}
		if got := UnpackFee(b); got != tc.v {
			t.Fatalf("UnpackFee(%x) = %v, want %v", b, &got, &tc.v)
		}
	}
	// The largest fee, 2047·10^31, is below 2^128.
	if v := UnpackFee([2]byte{0xff, 0xff}); !fitsU128(&v) {
		t.Fatal("largest fee does not fit 128 bits")
	}
}

func TestUnpackAmountRange(t *testing.T) {
	if _, err := UnpackAmount([5]byte{0xff, 0xff, 0xff, 0xff, 0xff}); !errors.Is(err, ErrAmountRange) {
		t.Fatalf("(2^35-1)·10^31 unpacked with error %v, want ErrAmountRange", err)
	}
}

func TestPackRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		m := r.Uint64N(1 << 35)
		e := r.IntN(32)
		v := pow10[e]
		v.Mul(&v, uint256.NewInt(m))
		b, err := PackAmount(&v)
		if !fitsU128(&v) {
			if !errors.Is(err, ErrAmountNotPackable) {
				t.Fatalf("PackAmount(%v) = %v, want ErrAmountNotPackable", &v, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("PackAmount(%d·10^%d): %v", m, e, err)
		}
		got, err := UnpackAmount(b)
		if err != nil || got != v {
			t.Fatalf("round trip of %d·10^%d gave %v, %v", m, e, &got, err)
		}
		if !canonicalPacking(b[:], amountMantissaLimit) {
			t.Fatalf("PackAmount produced a non-canonical packing %x", b)
		}
	}
}

// Every 16-bit fee packing: unpacking then packing gives the bytes back
// exactly when the packing is canonical.
func TestFeePackingCanonicalExhaustive(t *testing.T) {
	for x := 0; x < 1<<16; x++ {
		b := [2]byte{byte(x >> 8), byte(x)}
		v := UnpackFee(b)
		back, err := PackFee(&v)
		if err != nil {
			t.Fatalf("PackFee(UnpackFee(%x)): %v", b, err)
		}
		if (back == b) != canonicalPacking(b[:], feeMantissaLimit) {
			t.Fatalf("canonicalPacking(%x) = %v, but repacking gives %x", b, canonicalPacking(b[:], feeMantissaLimit), back)
		}
	}
}

func TestAmountPackingCanonicalRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 50000; i++ {
		x := r.Uint64N(1 << 40)
		if i%4 == 0 { // many mantissas divisible by 10
			x = (r.Uint64N(1<<35) / 10 * 10 << 5) | r.Uint64N(32)
		}
		b := [5]byte{byte(x >> 32), byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}
		v, err := UnpackAmount(b)
		if err != nil {
			continue
		}
		back, err := PackAmount(&v)
		if err != nil {
			t.Fatalf("PackAmount(UnpackAmount(%x)): %v", b, err)
		}
		if (back == b) != canonicalPacking(b[:], amountMantissaLimit) {
			t.Fatalf("canonicalPacking(%x) disagrees with repacking %x", b, back)
		}
	}
}
