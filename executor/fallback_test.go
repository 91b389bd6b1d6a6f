package executor

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/veloxlabs/velox/ledger"
)

// TestPartedAssembly runs random blocks whose write set and fees are
// assembled by several goroutines, each taking a part of the keys and of
// the receipts, with and without the sequential fallback (which leaves
// a prefix to assemble in parts and the rest to the sequential executor).
func TestPartedAssembly(t *testing.T) {
	defer func(m uint64) { minScanPart = m }(minScanPart)
	minScanPart = 1
	p := getPool(t)
	blocks := 300
	if raceEnabled {
		blocks = 40
	}
	r := rand.New(rand.NewPCG(7, 8))
	ctx := context.Background()
	for range blocks {
		txs := p.randomBlock(r, 1+r.IntN(120), false)
		seq, err := Sequential(ctx, p.f.base, txs, testParams)
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []Options{{Workers: 2}, {Workers: 3}, {Workers: 4, MaxReexecutions: -1}} {
			par, err := Parallel(ctx, p.f.base, txs, testParams, opts)
			if err != nil {
				t.Fatalf("%+v: %v", opts, err)
			}
			if err := diffResults(seq, par); err != nil {
				t.Fatalf("%+v, stats %+v: %v", opts, par.Stats, err)
			}
		}
	}
}

// TestFallbackAhead forces the sequential fallback on blocks of
// wire-encoded and decoded transactions, whose stateless checks the other
// workers then do ahead of the sequential executor: each must still be
// checked exactly once.
func TestFallbackAhead(t *testing.T) {
	p := getPool(t)
	blocks := 16
	if raceEnabled {
		blocks = 4
	}
	r := rand.New(rand.NewPCG(9, 10))
	ctx := context.Background()
	fellBack := 0
	// Whether a block falls back depends on how the workers interleave:
	// go on past blocks until one has (rarely needed, and bounded).
	for b := 0; b < blocks || (fellBack == 0 && b < 50*blocks); b++ {
		txs := p.randomBlock(r, 20+r.IntN(40), true)
		need := 0
		for i := range txs {
			if b%2 == 1 && txs[i].Raw != nil { // decoded instead of raw
				d, err := ledger.DecodeTx(txs[i].Raw)
				if err != nil {
					t.Fatal(err)
				}
				txs[i] = Tx{Decoded: d}
			}
			if txs[i].Raw != nil || txs[i].Decoded != nil {
				need++
			}
		}
		seq, err := Sequential(ctx, p.f.base, txs, testParams)
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []Options{{Workers: 4, MaxReexecutions: -1}, {Workers: 2, MaxReexecutions: 1}} {
			par, err := Parallel(ctx, p.f.base, txs, testParams, opts)
			if err != nil {
				t.Fatalf("%+v: %v", opts, err)
			}
			if err := diffResults(seq, par); err != nil {
				t.Fatalf("%+v, stats %+v: %v", opts, par.Stats, err)
			}
			if par.Stats.Checks != need || seq.Stats.Checks != need {
				t.Fatalf("%+v: %d checks parallel (stats %+v), %d sequential, want %d", opts, par.Stats.Checks, par.Stats, seq.Stats.Checks, need)
			}
			if par.Stats.FellBack {
				fellBack++
			}
		}
	}
	if fellBack == 0 {
		t.Fatal("no block fell back")
	}
}
