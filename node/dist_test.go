package node_test

import (
	"context"
	"io"
	"math/big"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/veloxlabs/velox/client"
	"github.com/veloxlabs/velox/settlement"
)

// startWorker starts `velox prover` against the node's NATS server with an
// empty key cache (it fetches the node's keys from the queue).
func startWorker(t *testing.T, bin, natsAddr, id string, extra ...string) *veloxProc {
	t.Helper()
	return startProc(t, bin, id, append([]string{"prover", "--nats.url", "nats://" + natsAddr, "--keys", t.TempDir(), "--id", id}, extra...)...)
}

var provingRE = regexp.MustCompile(`msg="proving batch".* batch=(\d+)`)

// TestDistributedProving runs a node that leaves proving to two `velox
// prover` processes on its embedded NATS server, kills one worker (SIGKILL)
// in the middle of a proof, and checks that its job is redelivered and
// proven by the other and that every batch is settled on L1 once, in order.
func TestDistributedProving(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	bin := buildVelox(t)
	l1Addr, natsAddr := freeAddr(t), freeAddr(t)
	dataDir := t.TempDir()
	np := startVelox(t, bin, dataDir, "velox-node", "--l1.http", "--l1.http.addr", l1Addr,
		"--prover.local=false", "--nats.addr", natsAddr, "--nats.ack-wait", "3s", "--batch-timeout", "300ms")
	np.waitHealthy(t, 6*time.Minute)
	c := dial(t, "http://"+np.rpc)

	// Worker a holds each job a while before proving, so the test can kill
	// it mid-job; worker b proves at once.
	wa := startWorker(t, bin, natsAddr, "worker-a", "--test.hold-job", "1500ms")
	metricsAddr := freeAddr(t)
	wb := startWorker(t, bin, natsAddr, "worker-b", "--metrics.addr", metricsAddr)

	rollup, dep, l1 := deployedRollup(ctx, t, dataDir, l1Addr)

	// A stream of batches: two deposits, two key changes, transfers; the
	// short batch timeout cuts a batch every few operations.
	a, b := wallet(t, 5), wallet(t, 6)
	var hashes []common.Hash
	for _, w := range []*client.Wallet{a, b} {
		if _, err := rollup.Deposit(ctx, settlement.NewAccount(w.Eth), w.Address, ether(3)); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []*client.Wallet{a, b} {
		eventually(t, 2*time.Minute, "deposit on L2", func() bool {
			bal, err := c.Balance(ctx, w.Address)
			return err == nil && bal.Sign() > 0
		})
		pre, err := c.SetKey(ctx, w)
		if err != nil || !pre.Receipt.OK() {
			t.Fatalf("key change: %+v %v", pre, err)
		}
		hashes = append(hashes, pre.Receipt.TxHash)
	}
	acc, err := c.Account(ctx, a.Address)
	if err != nil {
		t.Fatal(err)
	}
	nonce := uint32(acc.Nonce)
	send := func() {
		t.Helper()
		raw, err := a.Transfer(uint32(acc.Index), b.Address, big.NewInt(1_000_000), big.NewInt(1000), nonce)
		if err != nil {
			t.Fatal(err)
		}
		pre, err := c.SendTransaction(ctx, raw)
		if err != nil || !pre.Receipt.OK() {
			t.Fatalf("transfer: %+v %v", pre, err)
		}
		nonce++
		hashes = append(hashes, pre.Receipt.TxHash)
	}

	// Send until worker a is in the middle of a job, then kill it.
	killed := uint64(0)
	for killed == 0 {
		send()
		time.Sleep(400 * time.Millisecond)
		raw, _ := os.ReadFile(wa.log)
		if m := provingRE.FindSubmatch(raw); m != nil {
			killed, _ = strconv.ParseUint(string(m[1]), 10, 64)
			wa.kill()
		}
		if len(hashes) > 60 {
			t.Fatalf("worker a never took a job:\n%s", wa.tail(20))
		}
	}
	t.Logf("killed worker a while it held batch %d", killed)
	for range 3 {
		send()
		time.Sleep(400 * time.Millisecond)
	}

	// Every transaction is finalized: its batch was proven (by b), settled
	// and verified on L1.
	for _, h := range hashes {
		if st, err := c.WaitStatus(ctx, h, "finalized", 100*time.Millisecond); err != nil {
			t.Fatalf("transaction %v: %+v %v\nnode:\n%s\nworker b:\n%s", h, st, err, np.tail(30), wb.tail(30))
		}
	}
	ps, err := c.ProverStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Redeliveries < 1 || ps.Rejected != 0 || len(ps.Parked) != 0 || ps.Failed != 0 {
		t.Fatalf("prover status %+v", ps)
	}
	if !strings.Contains(ps.Queue, "embedded") {
		t.Fatalf("queue %q", ps.Queue)
	}
	var sawB bool
	for _, w := range ps.Workers {
		if w.ID == "worker-a" {
			t.Errorf("killed worker a still listed: %+v", w)
		}
		sawB = sawB || (w.ID == "worker-b" && w.Proven > 0)
	}
	if !sawB {
		t.Errorf("worker b not listed with proofs: %+v", ps.Workers)
	}
	if st, err := c.Batch(ctx, killed); err != nil || st.Status != "finalized" {
		t.Fatalf("batch %d that worker a held: %+v %v", killed, st, err)
	}

	// Settled once each, in order: the L1 contract's BatchVerified events
	// number 1, 2, 3, … with no repeats.
	logs, err := l1.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{dep.Rollup},
		Topics: [][]common.Hash{{crypto.Keccak256Hash([]byte("BatchVerified(uint64,bytes32)"))}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Fatal("no batch verified on L1")
	}
	for i, lg := range logs {
		if got := new(big.Int).SetBytes(lg.Topics[1].Bytes()).Uint64(); got != uint64(i+1) {
			t.Fatalf("L1 event %d verifies batch %d, want %d", i, got, i+1)
		}
	}
	t.Logf("%d batches settled in order; %d redeliveries; worker b: %+v", len(logs), ps.Redeliveries, ps.Workers)

	// Worker b's own metrics count its proofs.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`velox_worker_proofs_total\{result="ok"\} (\d+)`).FindSubmatch(body)
	if m == nil || string(m[1]) == "0" {
		t.Fatalf("worker b metrics:\n%s", body)
	}
}
