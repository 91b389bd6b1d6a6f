package ledger

import (
	"github.com/holiman/uint256"
)

// Amounts and fees in pubdata use a decimal floating-point packing:
// value = mantissa · 10^exponent, with a 5-bit exponent (0..31) stored in the
// low bits and the mantissa in the high bits, big-endian.
const (
	ExponentBits        = 5
	AmountMantissaBits  = 35
	FeeMantissaBits     = 11
	PackedAmountSize    = (AmountMantissaBits + ExponentBits) / 8 // 5 bytes
	PackedFeeSize       = (FeeMantissaBits + ExponentBits) / 8    // 2 bytes
	maxExponent         = 1<<ExponentBits - 1
	amountMantissaLimit = uint64(1) << AmountMantissaBits
	feeMantissaLimit    = uint64(1) << FeeMantissaBits
)

// pow10 holds 10^0 .. 10^31 (all below 2^128·… fit in 256 bits).
var pow10 = func() [maxExponent + 1]uint256.Int {
	var t [maxExponent + 1]uint256.Int
	t[0].SetOne()
	ten := uint256.NewInt(10)
	for i := 1; i <= maxExponent; i++ {
		t[i].Mul(&t[i-1], ten)
	}
	return t
}()

// Pow10 returns 10^e for e in 0..31.
func Pow10(e int) uint256.Int { return pow10[e] }

// pack finds the encoding with the smallest exponent whose mantissa fits in
// mantBits. It reports false if v is not exactly representable.
func pack(v *uint256.Int, limit uint64) (mant uint64, exp uint8, ok bool) {
	if !fitsU128(v) {
		return 0, 0, false
	}
	var q, r uint256.Int
	for e := 0; e <= maxExponent; e++ {
		q.DivMod(v, &pow10[e], &r)
		if !r.IsZero() {
			return 0, 0, false // higher exponents cannot divide either
		}
		if q.IsUint64() && q.Uint64() < limit {
			return q.Uint64(), uint8(e), true
		}
	}
	return 0, 0, false
}

// PackAmount returns the 5-byte packed form of v, or ErrAmountNotPackable.
func PackAmount(v *uint256.Int) ([PackedAmountSize]byte, error) {
	var out [PackedAmountSize]byte
	m, e, ok := pack(v, amountMantissaLimit)
	if !ok {
		return out, ErrAmountNotPackable
	}
	x := m<<ExponentBits | uint64(e)
	for i := PackedAmountSize - 1; i >= 0; i-- {
		out[i] = byte(x)
		x >>= 8
	}
	return out, nil
}

// PackFee returns the 2-byte packed form of v, or ErrFeeNotPackable.
func PackFee(v *uint256.Int) ([PackedFeeSize]byte, error) {
	var out [PackedFeeSize]byte
	m, e, ok := pack(v, feeMantissaLimit)
	if !ok {
		return out, ErrFeeNotPackable
	}
	x := m<<ExponentBits | uint64(e)
	out[0], out[1] = byte(x>>8), byte(x)
	return out, nil
}

// unpack decodes a big-endian packed value of len(b) bytes. It fails if the
// result does not fit in 128 bits.
func unpack(b []byte) (uint256.Int, bool) {
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	e := x & maxExponent
	var v uint256.Int
	v.SetUint64(x >> ExponentBits)
	v.Mul(&v, &pow10[e])
	return v, fitsU128(&v)
}

// UnpackAmount decodes a 5-byte packed amount. It returns ErrAmountRange if
// the value is not below 2^128.
func UnpackAmount(b [PackedAmountSize]byte) (uint256.Int, error) {
	v, ok := unpack(b[:])
	if !ok {
		return v, ErrAmountRange
	}
	return v, nil
}

// UnpackFee decodes a 2-byte packed fee (always below 2^128).
func UnpackFee(b [PackedFeeSize]byte) uint256.Int {
	v, _ := unpack(b[:])
	return v
}

// canonicalPacking reports whether the big-endian packed value b is the
// encoding pack chooses: exponent 0, or a mantissa that would not fit with
// the next smaller exponent (mantissa·10 ≥ limit). Zero is canonical only
// as mantissa 0, exponent 0.
func canonicalPacking(b []byte, limit uint64) bool {
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	e, m := x&maxExponent, x>>ExponentBits
	return e == 0 || m*10 >= limit
}
