package bench

import (
	"crypto/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/asm"
	"github.com/veloxlabs/velox/ledger"
)

// BenchmarkCheck compares the admission check one transaction at a time
// (ledger.Check) with eight at a time (ledger.CheckBatch with the node's
// lane permutation, asm.Poseidon2x8), per transaction, on valid transfers
// by keys that have signed before (hot):
//
//	go test -run '^$' -bench BenchmarkCheck -count 5 ./bench/
func BenchmarkCheck(b *testing.B) {
	if !asm.Supported() {
		b.Skip("no AVX-512 IFMA: CheckBatch would use the scalar permutation")
	}
	ledger.SetLanePermutation(asm.Poseidon2x8)
	defer ledger.SetLanePermutation(nil)
	p := ledger.Params{ChainID: 77, Depth: 8}
	txs := make([]*ledger.Tx, 8)
	for i := range txs {
		k, err := ledger.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		tx := &ledger.Tx{Type: ledger.TxTransfer, Account: uint32(i), To: common.Address{1}, PubKey: k.Public()}
		tx.Amount.SetUint64(1000)
		if tx.Signature, err = k.Sign(tx.Hash(p.ChainID)); err != nil {
			b.Fatal(err)
		}
		txs[i] = tx
		for range 16 { // make the key hot, as a busy sender's is
			if c := ledger.Check(tx, p); c.Err != nil {
				b.Fatal(c.Err)
			}
		}
	}
	perTx := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/tx")
	}
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			for _, tx := range txs {
				if c := ledger.Check(tx, p); c.Err != nil {
					b.Fatal(c.Err)
				}
			}
		}
		perTx(b)
	})
	b.Run("batch-8", func(b *testing.B) {
		for b.Loop() {
			for _, c := range ledger.CheckBatch(txs, p) {
				if c.Err != nil {
					b.Fatal(c.Err)
				}
			}
		}
		perTx(b)
	})
}
