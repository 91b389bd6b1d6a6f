package sequencer

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// checkBatches verifies every cut batch against its witness and receipts
// and returns the records.
func checkBatches(t *testing.T, e *env) []*BatchRecord {
	t.Helper()
	e.eventually("cuts", func() bool { return e.seq.cutQ.len() == 0 })
	// The test prover proves at once: wait until it got every cut batch.
	e.eventually("proofs", func() bool {
		for n := uint64(1); ; n++ {
			rec, err := e.seq.Batch(n)
			if errors.Is(err, ErrNotFound) {
				return true
			}
			if err != nil || rec.Status < BatchProven {
				return false
			}
		}
	})
	ws := e.prover.witnesses()
	var recs []*BatchRecord
	var feeSum uint256.Int
	for n := uint64(1); ; n++ {
		rec, err := e.seq.Batch(n)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Pubdata) != e.cfg.Slots*ledger.ChunkSize {
			t.Fatalf("batch %d: %d bytes of pubdata", n, len(rec.Pubdata))
		}
		used := 0
		var fees uint256.Int
		for _, h := range rec.Ops {
			r, err := e.seq.Receipt(h)
			if err != nil || r.Err != nil || r.Batch != n {
				t.Fatalf("batch %d op %v: %+v %v", n, h, r, err)
			}
			used += r.Op.Type.Chunks()
			fees.Add(&fees, &r.Op.Fee)
		}
		if used != rec.Used || used > e.cfg.Slots || used == 0 {
			t.Fatalf("batch %d: used %d, recorded %d, slots %d", n, used, rec.Used, e.cfg.Slots)
		}
		if fees != rec.FeeTotal {
			t.Fatalf("batch %d: fees %v, recorded %v", n, fees.Dec(), rec.FeeTotal.Dec())
		}
		// Noop padding after the operations.
		if pad := rec.Pubdata[used*ledger.ChunkSize:]; !bytes.Equal(pad, make([]byte, len(pad))) {
			t.Fatalf("batch %d: padding is not Noop", n)
		}
		if int(n) > len(ws) || ws[n-1].Number != n {
			t.Fatalf("prover did not get batch %d in order", n)
		}
		w := ws[n-1]
		if w.OldRoot != rec.OldRoot || w.NewRoot != rec.NewRoot || !bytes.Equal(w.Pubdata, rec.Pubdata) || len(w.Slots) != e.cfg.Slots {
			t.Fatalf("batch %d: record and witness differ", n)
		}
		if len(recs) > 0 && rec.OldRoot != recs[len(recs)-1].NewRoot {
			t.Fatalf("batch %d: old root is not batch %d's new root", n, n-1)
		}
		if len(recs) > 0 && rec.FirstBlock != recs[len(recs)-1].LastBlock+1 {
			t.Fatalf("batch %d starts at block %d after %d", n, rec.FirstBlock, recs[len(recs)-1].LastBlock)
		}
		feeSum.Add(&feeSum, &rec.FeeTotal)
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		t.Fatal("no batches")
	}
	if e.st.Tree().Root() != recs[len(recs)-1].NewRoot {
		t.Fatal("tree root is not the last batch's new root")
	}
	// Fees credited once per batch: the fee account holds their sum.
	if fee, _ := e.seq.Account(ledger.FeeAccount); fee.Balance != feeSum {
		t.Fatalf("fee account %v, batch fees %v", fee.Balance.Dec(), feeSum.Dec())
	}
	return recs
}

func TestBatches(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.BatchTimeout = 2 * time.Second })
	us := e.fund(3, 1_000_000, 8)
	var last *Preconfirmation
	for i := range 40 {
		from := us[i%3]
		to := us[(i+1)%3].addr
		if i == 7 {
			to = common.Address{0xbe, 0xef} // a TransferToNew: 3 chunks
		}
		last = e.mustSubmit(from.next(t, to, 100, uint64(i+1)))
	}
	// No more traffic: the partial batch is padded and cut after the timeout.
	e.eventually("timeout cut", func() bool {
		rec, err := e.seq.Batch(last.Receipt.Batch)
		return err == nil && rec.Status >= BatchProven
	})
	recs := checkBatches(t, e)
	for _, r := range recs {
		t.Logf("batch %d: blocks %d-%d used %d fees %v", r.Number, r.FirstBlock, r.LastBlock, r.Used, r.FeeTotal.Dec())
	}
	full, partial := 0, 0
	for i, rec := range recs {
		switch {
		case rec.Used == e.cfg.Slots:
			if !rec.FeeTotal.IsZero() {
				full++
			}
		case i+1 < len(recs):
			// Cut early only because the next operation did not fit.
			next, err := e.seq.Receipt(recs[i+1].Ops[0])
			if err != nil {
				t.Fatal(err)
			}
			if k := next.Op.Type.Chunks(); rec.Used+k <= e.cfg.Slots {
				t.Fatalf("batch %d cut with %d used though the next op (%d chunks) fits", rec.Number, rec.Used, k)
			}
			partial++
		}
	}
	if lastRec := recs[len(recs)-1]; lastRec.Used == e.cfg.Slots || lastRec.Number != last.Receipt.Batch {
		t.Fatalf("last batch %d used %d: not the timed-out partial batch", lastRec.Number, lastRec.Used)
	}
	if full == 0 || partial == 0 {
		t.Fatalf("full (with fees) %d, cut-early %d batches; want both kinds", full, partial)
	}

	// Proven, then settled in order, then finalized on notice.
	e.eventually("settled", func() bool { return len(e.settler.settled()) == len(recs) })
	if got := e.settler.settled(); !slices.IsSorted(got) {
		t.Fatalf("settled out of order: %v", got)
	}
	st, _ := e.seq.Status(last.Receipt.TxHash)
	if st.Status != StatusProven {
		t.Fatalf("status %v, want proven", st.Status)
	}
	sub := e.seq.SubscribeStatus(4)
	ctx := context.Background()
	n := last.Receipt.Batch
	if err := e.seq.Finalized(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := e.seq.Finalized(ctx, n); err != nil {
		t.Fatalf("second notice: %v", err)
	}
	if err := e.seq.Finalized(ctx, n+5); !errors.Is(err, ErrBatchState) {
		t.Fatalf("unknown batch: %v", err)
	}
	if st, _ := e.seq.Status(last.Receipt.TxHash); st.Status != StatusFinalized {
		t.Fatalf("status %v, want finalized", st.Status)
	}
	select {
	case evs := <-sub.C:
		if len(evs) == 0 || evs[len(evs)-1].Status != StatusFinalized {
			t.Fatalf("events %+v", evs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no finality event")
	}
	if rec, _ := e.seq.Batch(n); rec.Status != BatchFinalized || len(rec.Proof) != 2 {
		t.Fatalf("record %+v", rec)
	}
	replay(t, e.seq, e.st)
}

// TestProverRestart: batches cut but not proven are submitted again after
// a restart; proven but unsettled ones go to the settler again.
func TestProverRestart(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.RetryDelay = time.Hour })
	e.prover.setFail(true)
	us := e.fund(2, 1_000_000, 9)
	for range e.cfg.Slots {
		e.mustSubmit(us[0].next(t, us[1].addr, 1, 1))
	}
	e.eventually("batch 1 cut", func() bool {
		_, err := e.seq.Batch(1)
		return err == nil
	})
	time.Sleep(20 * time.Millisecond)
	if rec, err := e.seq.Batch(1); err != nil || rec.Status != BatchCut {
		t.Fatalf("batch 1: %+v %v", rec, err)
	}
	e.close()
	e.prover.setFail(false)
	e.open()
	e.eventually("re-submitted and settled", func() bool {
		rec, err := e.seq.Batch(1)
		return err == nil && rec.Status == BatchSubmitted
	})
	checkBatches(t, e)
}

func TestSlowSubscriberDropped(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1_000_000, 10)
	slow := e.seq.SubscribeBlocks(1)
	fast := e.seq.SubscribeBlocks(64)
	for range 3 {
		e.mustSubmit(us[0].next(t, us[1].addr, 1, 0))
	}
	e.eventually("slow dropped", slow.Dropped)
	if fast.Dropped() {
		t.Fatal("fast subscriber dropped")
	}
	got := 0
	for range 3 {
		select {
		case <-fast.C:
			got++
		case <-time.After(5 * time.Second):
			t.Fatal("missing block event")
		}
	}
	fast.Unsubscribe()
	if _, ok := <-fast.C; ok {
		t.Fatal("channel open after Unsubscribe")
	}
}

func TestCodecRoundTrip(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1_000_000, 11)
	for range e.cfg.Slots {
		e.mustSubmit(us[0].next(t, us[1].addr, 7, 2))
	}
	e.eventually("witness", func() bool { return len(e.prover.witnesses()) > 0 })
	ws := e.prover.witnesses()
	for _, w := range ws {
		b, err := encodeWitness(w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeWitness(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != w.Number || got.NewRoot != w.NewRoot || got.FeeTotal != w.FeeTotal || got.Fee.After != w.Fee.After || len(got.Slots) != len(w.Slots) || got.Slots[3].Updates[1].Siblings[2] != w.Slots[3].Updates[1].Siblings[2] || got.Slots[0].Op != w.Slots[0].Op {
			t.Fatalf("witness %d does not round-trip", w.Number)
		}
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, make([]byte, 60)} {
		if _, err := decodeReceipt(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decodeReceipt(%x): %v", bad, err)
		}
		if _, _, err := decodeBlockRecord(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decodeBlockRecord: %v", err)
		}
		if _, err := decodeBatch(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decodeBatch: %v", err)
		}
	}
}
