package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/veloxlabs/velox/client"
	"github.com/veloxlabs/velox/node"
	"github.com/veloxlabs/velox/sequencer"
	"github.com/veloxlabs/velox/settlement"
)

// veloxProc is a `velox node` child process.
type veloxProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	rpc  string // host:port of JSON-RPC
	log  string // path of the combined stdout/stderr
}

// buildVelox builds the velox binary from the module root (the parent of
// the test's working directory, node/).
func buildVelox(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "velox")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/velox")
	cmd.Dir = root
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/velox: %v\n%s", err, out)
	}
	t.Logf("built velox in %v", time.Since(start))
	return bin
}

// freeAddr returns a loopback address with a port that was free.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startVelox starts `velox node` on dataDir with the e2e test's tiny
// circuit and cached keys; the child is killed when the test ends.
func startVelox(t *testing.T, bin, dataDir, name string, extra ...string) *veloxProc {
	t.Helper()
	rpcAddr := freeAddr(t)
	args := append([]string{"node", "--datadir", dataDir, "--rpc.addr", rpcAddr, "--keys", keyDir,
		"--circuit.slots", "8", "--circuit.depth", "4", "--chain-id", strconv.Itoa(testChainID),
		"--block-time", "2ms", "--l1.confirmations", "1", "--nats.addr", "127.0.0.1:0"}, extra...)
	p := startProc(t, bin, name, args...)
	p.rpc = rpcAddr
	return p
}

// startProc runs bin with args, its output in a log file shown if the test
// fails; the child is killed when the test ends.
func startProc(t *testing.T, bin, name string, args ...string) *veloxProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	p := &veloxProc{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.tail(60))
		}
	})
	return p
}

// deployedRollup reads the contracts a node process deployed in dataDir
// and dials its embedded L1's JSON-RPC at l1Addr.
func deployedRollup(ctx context.Context, t *testing.T, dataDir, l1Addr string) (*settlement.Rollup, node.Deployment, *ethclient.Client) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, "deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dep node.Deployment
	if err := json.Unmarshal(raw, &dep); err != nil {
		t.Fatal(err)
	}
	l1, err := settlement.Dial(ctx, "http://"+l1Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l1.Close)
	return settlement.NewRollup(l1, dep.Rollup), dep, l1
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *veloxProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// tail returns the last n lines of the process's output.
func (p *veloxProc) tail(n int) string {
	raw, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitHealthy polls /health until it reports ok.
func (p *veloxProc) waitHealthy(t *testing.T, d time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(d)
	for {
		select {
		case <-p.done:
			t.Fatalf("velox node exited before it was healthy:\n%s", p.tail(40))
		default:
		}
		resp, err := http.Get("http://" + p.rpc + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"status":"ok"`) {
				t.Logf("velox node healthy on %s after %v", p.rpc, time.Since(start))
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("velox node not healthy after %v:\n%s", d, p.tail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// crashSender is a funded wallet whose transfers are sent one at a time
// (under mu), so that at most one of them is in flight at the kill.
type crashSender struct {
	mu       sync.Mutex
	w        *client.Wallet
	idx      uint32
	nonce    uint32      // next nonce
	dead     bool        // a send failed: the node is gone
	inflight common.Hash // the transfer whose send failed, maybe committed
}

// TestCrashRecovery kills a `velox node` process with SIGKILL while
// transfers stream in and checks, after a restart on the same data
// directory, that every preconfirmed transaction survived with its
// receipt, that balances and nonces match the preconfirmations, and that
// the mini-block chain continues.
func TestCrashRecovery(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	bin := buildVelox(t)
	// The node runs its embedded L1 (in its data directory, killed with it),
	// with the L1's JSON-RPC on loopback for the test's deposits.
	l1Addr := freeAddr(t)
	l1Flags := []string{"--l1.http", "--l1.http.addr", l1Addr}
	dataDir := t.TempDir()
	p1 := startVelox(t, bin, dataDir, "velox-1", l1Flags...)
	// The first start makes the circuit keys if none are cached.
	p1.waitHealthy(t, 6*time.Minute)
	c := dial(t, "http://"+p1.rpc)

	// Fund the sequencer on L1 (for batch submissions) and two wallets
	// with deposits.
	rollup, _, _ := deployedRollup(ctx, t, dataDir, l1Addr)
	wallets := []*client.Wallet{wallet(t, 1), wallet(t, 2)}
	for _, w := range wallets {
		if _, err := rollup.Deposit(ctx, settlement.NewAccount(w.Eth), w.Address, ether(5)); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range wallets {
		eventually(t, time.Minute, "deposit on L2", func() bool {
			bal, err := c.Balance(ctx, w.Address)
			return err == nil && bal.Cmp(ether(5)) == 0
		})
		pre, err := c.SetKey(ctx, w)
		if err != nil || !pre.Receipt.OK() {
			t.Fatalf("key change: %+v %v", pre, err)
		}
	}

	senders := make([]*crashSender, len(wallets))
	initBal := make([]*big.Int, len(wallets))
	for i, w := range wallets {
		acc, err := c.Account(ctx, w.Address)
		if err != nil {
			t.Fatal(err)
		}
		senders[i] = &crashSender{w: w, idx: uint32(acc.Index), nonce: uint32(acc.Nonce)}
		initBal[i] = acc.Balance.ToInt()
	}
	initNonce := []uint32{senders[0].nonce, senders[1].nonce}

	// Transfers from a pool of workers, until the node is killed.
	amount, fee := big.NewInt(1_000_000), big.NewInt(1000)
	var (
		mu      sync.Mutex
		preconf []*client.Preconfirmation
		from    []int // sender of preconf[i]
		rpcErrs []error
		first   = make(chan struct{})
		once    sync.Once
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := 0; ; i++ {
			select {
			case jobs <- i % len(senders):
			case <-stop:
				return
			}
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s, to := senders[i], senders[1-i].w.Address
				s.mu.Lock()
				if s.dead {
					s.mu.Unlock()
					continue
				}
				raw, err := s.w.Transfer(s.idx, to, amount, fee, s.nonce)
				if err != nil {
					s.mu.Unlock()
					t.Error(err)
					return
				}
				h := sequencer.TxHash(raw)
				pre, err := c.SendTransaction(ctx, raw)
				if err != nil {
					s.dead, s.inflight = true, h
					s.mu.Unlock()
					if client.ErrorCode(err) != 0 {
						mu.Lock()
						rpcErrs = append(rpcErrs, err)
						mu.Unlock()
					}
					continue
				}
				s.nonce++
				s.mu.Unlock()
				mu.Lock()
				if pre.Receipt.TxHash != h {
					rpcErrs = append(rpcErrs, fmt.Errorf("receipt of %v for transaction %v", pre.Receipt.TxHash, h))
				}
				preconf, from = append(preconf, pre), append(from, i)
				mu.Unlock()
				once.Do(func() { close(first) })
			}
		}()
	}
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Error("no preconfirmation within a minute")
	}
	delay := time.Duration(50+rand.IntN(450)) * time.Millisecond
	time.Sleep(delay)
	mu.Lock()
	before := len(preconf)
	mu.Unlock()
	p1.kill()
	close(stop)
	wg.Wait()
	t.Logf("killed the node %v after the first preconfirmation, %d preconfirmed before, %d in total", delay, before, len(preconf))
	for _, err := range rpcErrs {
		t.Errorf("send: %v", err)
	}
	if len(preconf) == 0 {
		t.Fatal("no transaction was preconfirmed before the kill")
	}

	// Restart on the same data directory.
	p2 := startVelox(t, bin, dataDir, "velox-2", l1Flags...)
	p2.waitHealthy(t, 2*time.Minute)
	c2 := dial(t, "http://"+p2.rpc)

	// Every preconfirmed transaction is known, in the same place.
	minBlock := uint64(preconf[0].Header.Number)
	blocks := map[uint64]*client.MiniBlock{}
	miniBlock := func(n uint64) *client.MiniBlock {
		t.Helper()
		if b, ok := blocks[n]; ok {
			return b
		}
		b, err := c2.MiniBlock(ctx, n)
		if err != nil {
			t.Fatalf("velox_getMiniBlock %d after restart: %v", n, err)
		}
		blocks[n] = b
		return b
	}
	for _, pre := range preconf {
		r := pre.Receipt
		if !r.OK() {
			t.Errorf("transfer %v failed: %s (%s)", r.TxHash, r.Error, r.Rule)
			continue
		}
		s, err := c2.TransactionStatus(ctx, r.TxHash)
		if err != nil {
			t.Errorf("preconfirmed %v lost after the crash: %v", r.TxHash, err)
			continue
		}
		if !client.Reached(s.Status, client.StatusPreconfirmed) || s.Block == nil || *s.Block != r.Block ||
			s.Position == nil || *s.Position != r.Position || s.Batch == nil || *s.Batch != r.Batch {
			t.Errorf("%v: status %+v after restart, preconfirmed in block %d position %d batch %d",
				r.TxHash, s, r.Block, r.Position, r.Batch)
		}
		mb := miniBlock(uint64(r.Block))
		if mb.Hash != pre.HeaderHash || int(r.Position) >= len(mb.Receipts) || mb.Receipts[r.Position].TxHash != r.TxHash ||
			mb.Receipts[r.Position].Status != r.Status {
			t.Errorf("mini-block %d after restart: hash %v (preconfirmed %v), does not hold %v at %d",
				r.Block, mb.Hash, pre.HeaderHash, r.TxHash, r.Position)
		}
		minBlock = min(minBlock, uint64(r.Block))
	}

	// Balances and nonces are what the preconfirmations imply; a transfer
	// in flight at the kill may have been committed without its answer.
	count := make([]uint32, len(senders))
	for _, i := range from {
		count[i]++
	}
	for i, s := range senders {
		got, err := c2.Nonce(ctx, s.w.Address)
		if err != nil {
			t.Fatal(err)
		}
		want := initNonce[i] + count[i]
		switch {
		case got == want:
			if st, err := c2.TransactionStatus(ctx, s.inflight); err == nil && client.Reached(st.Status, client.StatusPreconfirmed) {
				t.Errorf("in-flight %v is %s but the nonce of %v is %d", s.inflight, st.Status, s.w.Address, got)
			}
		case got == want+1 && s.inflight != (common.Hash{}):
			st, err := c2.TransactionStatus(ctx, s.inflight)
			if err != nil || !client.Reached(st.Status, client.StatusPreconfirmed) {
				t.Fatalf("nonce of %v is %d, in-flight %v: %+v %v", s.w.Address, got, s.inflight, st, err)
			}
			t.Logf("the transfer in flight from %v at the kill was committed", s.w.Address)
			count[i]++
		default:
			t.Fatalf("nonce of %v after restart %d, want %d (%d preconfirmed)", s.w.Address, got, want, count[i])
		}
	}
	checkBalances := func(c *client.Client, count []uint32) {
		t.Helper()
		for i, s := range senders {
			want := new(big.Int).Set(initBal[i])
			want.Sub(want, new(big.Int).Mul(big.NewInt(int64(count[i])), new(big.Int).Add(amount, fee)))
			want.Add(want, new(big.Int).Mul(big.NewInt(int64(count[1-i])), amount))
			got, err := c.Balance(ctx, s.w.Address)
			if err != nil {
				t.Fatal(err)
			}
			if got.Cmp(want) != 0 {
				t.Errorf("balance of %v: %v, want %v (%d sent, %d received)", s.w.Address, got, want, count[i], count[1-i])
			}
		}
	}
	checkBalances(c2, count)

	// The mini-block chain continues: new transfers are preconfirmed in
	// later blocks, each block's parent the block before it.
	head, err := c2.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for _, pre := range preconf {
		last = max(last, uint64(pre.Receipt.Block))
	}
	if head < last {
		t.Fatalf("head %d after restart, block %d was preconfirmed", head, last)
	}
	lastOld := miniBlock(head)
	var newest uint64
	for k := range 2 {
		for i, s := range senders {
			pre, err := c2.Transfer(ctx, s.w, senders[1-i].w.Address, amount, fee)
			if err != nil || !pre.Receipt.OK() {
				t.Fatalf("transfer %d after restart: %+v %v", k, pre, err)
			}
			if uint64(pre.Header.Number) <= head {
				t.Fatalf("transfer after restart in block %d, head was %d", pre.Header.Number, head)
			}
			if uint64(pre.Header.Number) == head+1 && pre.Header.ParentHash != lastOld.Hash {
				t.Fatalf("block %d after restart: parent %v, block %d is %v", head+1, pre.Header.ParentHash, head, lastOld.Hash)
			}
			count[i]++
			newest = uint64(pre.Header.Number)
		}
	}
	if first := miniBlock(head + 1); first.Header.ParentHash != lastOld.Hash {
		t.Fatalf("first block after restart %d: parent %v, last old block %d is %v", head+1, first.Header.ParentHash, head, lastOld.Hash)
	}
	for n := max(minBlock, 1); n <= newest; n++ {
		if b, parent := miniBlock(n), miniBlock(n-1); b.Header.Number != hexutil.Uint64(n) || b.Header.ParentHash != parent.Hash {
			t.Fatalf("mini-block %d: parent %v, block %d is %v", n, b.Header.ParentHash, n-1, parent.Hash)
		}
	}
	checkBalances(c2, count)
	t.Logf("%d preconfirmed before the kill survived; blocks %d..%d chained across the restart (head %d at restart)",
		len(preconf), minBlock, newest, head)
}
