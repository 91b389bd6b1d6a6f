package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/veloxlabs/velox/client"
	"github.com/veloxlabs/velox/node"
	"github.com/veloxlabs/velox/settlement"
)

// The RPC benchmark's node: the node's default 8-slot circuit at depth 8
// (255 user accounts), keys cached in KeysDir (a development setup of a
// few minutes on the first run).
const (
	rpcSlots   = 8
	rpcDepth   = 8
	rpcChainID = node.DefaultChainID
	// rpcConns is the load generator's HTTP connection limit.
	rpcConns = 512
	// The first rpcWarmup of each rate's schedule, and at least its first
	// rpcWarmupTxs requests, are sent but excluded from the statistics:
	// each rate's generator is a fresh process whose connection pool
	// opens then, and the node warms up (as a separate warm-up run of
	// 2000 requests did when the generator lived in the node's process).
	rpcWarmup    = 500 * time.Millisecond
	rpcWarmupTxs = 2000
)

// latencyDump, if set (by BenchmarkSequencerRPC), is the path prefix of a
// file of each rate's per-request latencies, one per line in
// microseconds, in the order they were scheduled (request i at i/rate
// seconds after the first): for finding when slow requests happen. The
// first line is "# start S": the first request's scheduled time in
// seconds since this process started, the clock of GODEBUG=gctrace=1's
// "@…s", so that slow requests can be matched with garbage collections.
var latencyDump string

// processStart is when this process started, to 10 ms on Linux
// (/proc/self/stat, in clock ticks of 1/100 s); elsewhere, when this
// package was initialized, which can be a few hundred milliseconds later
// (the dependencies' initialization comes first).
var processStart = func() time.Time {
	now := time.Now()
	stat, err1 := os.ReadFile("/proc/self/stat")
	up, err2 := os.ReadFile("/proc/uptime")
	if err1 != nil || err2 != nil {
		return now
	}
	// The command name (field 2) may hold spaces: fields count from ")".
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	uf := strings.Fields(string(up))
	if len(f) < 20 || len(uf) < 1 {
		return now
	}
	ticks, err1 := strconv.ParseInt(f[19], 10, 64) // field 22, starttime
	uptime, err2 := strconv.ParseFloat(uf[0], 64)
	if err1 != nil || err2 != nil {
		return now
	}
	age := time.Duration((uptime - float64(ticks)/100) * float64(time.Second))
	if age < 0 || age > time.Hour {
		return now
	}
	return now.Add(-age)
}()

// dumpLatencies writes lat (nanoseconds) to path in microseconds, one per
// line, after the start line (see latencyDump).
func dumpLatencies(path string, start time.Time, lat []int64) error {
	buf := fmt.Appendf(nil, "# start %.3f\n", start.Sub(processStart).Seconds())
	for _, l := range lat {
		buf = strconv.AppendInt(buf, l/1000, 10)
		buf = append(buf, '\n')
	}
	return os.WriteFile(path, buf, 0o644)
}

// rpcMemProfile, if set (by BenchmarkSequencerRPC), is the path prefix of
// heap profiles of the node's process written before (PREFIX.RATE.before)
// and after (PREFIX.RATE) each rate's run: allocations since the process
// started, and what is live; compare with pprof -diff_base.
var rpcMemProfile string

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the live heap as of now
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rpcCPUProfile, if set (by BenchmarkSequencerRPC), is the path prefix of
// a CPU profile of the node's process written for each rate's run.
var rpcCPUProfile string

// rpcTrace, if set (by BenchmarkSequencerRPC), is the path prefix of an
// execution trace (runtime/trace) of the node's process written for each
// rate's run: where the scheduler, the collector and system calls were
// when requests were slow.
var rpcTrace string

// rpcExtraProcs is what the node's process adds to GOMAXPROCS for the
// run, as `velox node` does (see node.DefaultExtraProcs); set by
// BenchmarkSequencerRPC for A/B runs.
var rpcExtraProcs = node.DefaultExtraProcs

// rpcBlockLinger, if not zero (set by BenchmarkSequencerRPC), is the node's
// MaxBlockLinger: for A/B runs.
var rpcBlockLinger time.Duration

// rpcCheckLinger, if not zero (set by BenchmarkSequencerRPC), is the node's
// MaxCheckLinger: for A/B runs.
var rpcCheckLinger time.Duration

// rpcConfig is the node of the RPC benchmark: a real node on a temporary
// data directory (synced Pebble writes, embedded L1), with the default
// mini-block time.
func rpcConfig(dataDir string) node.Config {
	return node.Config{
		DataDir: dataDir, RPCAddr: "127.0.0.1:0", ChainID: rpcChainID, Slots: rpcSlots, Depth: rpcDepth,
		KeyDir: KeysDir(), BatchTimeout: time.Minute, SendTimeout: 10 * time.Second,
		L1:             node.L1Config{EmbeddedBlockTime: time.Second, Confirmations: 1, PollInterval: 100 * time.Millisecond},
		NATS:           node.NATSConfig{Addr: "127.0.0.1:0"}, // never the default port another node may hold
		MaxCheckLinger: rpcCheckLinger,
		MaxBlockLinger: rpcBlockLinger,
	}
}

// rpcUser is a funded L2 account with its key set.
type rpcUser struct {
	w     *client.Wallet
	index uint32
	nonce uint32
}

// rpcBench is a started node with funded users.
type rpcBench struct {
	n     *node.Node
	url   string
	users []*rpcUser
	log   *slog.Logger
}

// startRPCBench starts the node, funds one account by an L1 deposit and
// fans out to users accounts by L2 transfers (each then sets its L2 key).
// Batch cutting, and so proving, is held for the whole benchmark (see
// node.Node.HoldBatches): the preconfirmation path is measured, not the
// prover.
func startRPCBench(ctx context.Context, dataDir string, users int, log *slog.Logger) (_ *rpcBench, err error) {
	n, err := node.New(rpcConfig(dataDir), log)
	if err != nil {
		return nil, err
	}
	if err := n.Start(ctx); err != nil {
		return nil, err
	}
	b := &rpcBench{n: n, url: "http://" + n.RPCAddr(), log: log}
	defer func() {
		if err != nil {
			b.stop()
		}
	}()
	n.HoldBatches(true)

	c, err := client.Dial(ctx, b.url)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rich, err := client.NewWallet(settlement.DevKey(1), rpcChainID)
	if err != nil {
		return nil, err
	}
	funds := new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))
	rollup := settlement.NewRollup(n.L1(), n.Deployment().Rollup)
	if _, err := rollup.Deposit(ctx, settlement.NewAccount(rich.Eth), rich.Address, funds); err != nil {
		return nil, fmt.Errorf("bench: L1 deposit: %w", err)
	}
	for {
		if bal, err := c.Balance(ctx, rich.Address); err == nil && bal.Cmp(funds) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := rpcOK(c.SetKey(ctx, rich)); err != nil {
		return nil, fmt.Errorf("bench: key of the funded account: %w", err)
	}
	acc, err := c.Account(ctx, rich.Address)
	if err != nil {
		return nil, err
	}
	ri, rn := uint32(acc.Index), uint32(acc.Nonce)
	// A round amount: transfers carry amounts in a packed decimal form.
	share := big.NewInt(params.Ether)
	b.users = make([]*rpcUser, users)
	for i := range b.users {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		w, err := client.NewWallet(k, rpcChainID)
		if err != nil {
			return nil, err
		}
		b.users[i] = &rpcUser{w: w}
		raw, err := rich.Transfer(ri, w.Address, share, big.NewInt(1), rn)
		if err != nil {
			return nil, err
		}
		rn++
		pre, err := c.SendTransaction(ctx, raw)
		if err := rpcOK(pre, err); err != nil {
			return nil, fmt.Errorf("bench: funding user %d: %w", i, err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, users)
	for i, u := range b.users {
		wg.Go(func() {
			a, err := c.Account(ctx, u.w.Address)
			if err != nil {
				errs[i] = err
				return
			}
			u.index = uint32(a.Index)
			raw, err := u.w.ChangePubKey(u.index, 0)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = rpcOK(c.SendTransaction(ctx, raw))
			u.nonce = 1
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bench: setting user keys: %w", err)
	}
	return b, nil
}

func rpcOK(pre *client.Preconfirmation, err error) error {
	if err != nil {
		return err
	}
	if !pre.Receipt.OK() {
		return fmt.Errorf("failed receipt: %s (%s)", pre.Receipt.Error, pre.Receipt.Rule)
	}
	return nil
}

func (b *rpcBench) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.n.Stop(ctx); err != nil {
		b.log.Warn("stopping the benchmark node", "err", err)
	}
}

// presign returns n HTTP requests (for loadClient.do) of
// velox_sendTransaction: transfers of 1 wei (fee 1) round-robin over the
// users, each to the next user, with consecutive nonces.
func (b *rpcBench) presign(n int) ([][]byte, error) {
	bodies := make([][]byte, n)
	one := big.NewInt(1)
	for i := range bodies {
		u, to := b.users[i%len(b.users)], b.users[(i+1)%len(b.users)]
		raw, err := u.w.Transfer(u.index, to.w.Address, one, one, u.nonce)
		if err != nil {
			return nil, err
		}
		u.nonce++
		bodies[i] = postRequest(b.n.RPCAddr(), fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"velox_sendTransaction","params":["%s"]}`, i, hexutil.Encode(raw)))
	}
	return bodies, nil
}

// rateResult is one rate's measurement.
type rateResult struct {
	sent, ok        int
	p50, p99, p999  time.Duration
	tps             float64
	cpuPerTx        time.Duration // node process CPU per transaction sent
	loadgenCPUPerTx time.Duration // load generator process CPU per transaction sent
	firstErr        error
	errors          int
	// lateSends counts requests the generator started more than 1 ms
	// after their scheduled time (their latency includes the delay).
	lateSends int
	// sendDelay50 and 99 are percentiles of the generator's lateness
	// (schedule to send); fromSend50 and 99 of the latency from the
	// actual send. The p50 and p99 above run from the schedule.
	sendDelay50, sendDelay99 time.Duration
	fromSend50, fromSend99   time.Duration
	// blockEntries is the mean number of entries of a mini-block and
	// blockCommit the mean time of the synced write that committed it
	// (shared by the mini-blocks of one write), from the node's metrics.
	blockEntries float64
	blockCommit  time.Duration
	// checkBatch is the mean number of transactions checked together.
	checkBatch float64
	// stages are the mean times of the preconfirmed transactions in the
	// sequencer's stages (node.StageNames), from the node's metrics.
	stages [len(node.StageNames)]time.Duration
}

// blockCounters are the node's cumulative mini-block metrics, and the sums
// and counts of velox_preconfirm_stage_seconds by node.StageNames.
type blockCounters struct {
	blocks, entries, commit, checks, checked float64
	stageSum, stageCount                     [len(node.StageNames)]float64
}

// blockStats reads the mini-block counters from the node's /metrics; zero
// if they cannot be read.
func (b *rpcBench) blockStats() blockCounters {
	var c blockCounters
	resp, err := http.Get(b.url + "/metrics")
	if err != nil {
		return c
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return c
	}
	for _, line := range strings.Split(string(body), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "velox_miniblock_entries_count":
			c.blocks = f
		case "velox_miniblock_entries_sum":
			c.entries = f
		case "velox_miniblock_commit_seconds_sum":
			c.commit = f
		case "velox_check_batch_txs_count":
			c.checks = f
		case "velox_check_batch_txs_sum":
			c.checked = f
		}
		for i, st := range node.StageNames {
			switch name {
			case `velox_preconfirm_stage_seconds_sum{stage="` + st + `"}`:
				c.stageSum[i] = f
			case `velox_preconfirm_stage_seconds_count{stage="` + st + `"}`:
				c.stageCount[i] = f
			}
		}
	}
	return c
}

// rateStats returns the statistics of a rate's run: latencies of the
// requests after the first warmup, which are sent but not counted.
func rateStats(g loadgenResult, warmup int) rateResult {
	n := len(g.Latency)
	r := rateResult{sent: n, errors: g.Errors, lateSends: g.Late}
	if g.FirstErr != "" {
		r.firstErr = errors.New(g.FirstErr)
	}
	var counted, delays, fromSend []time.Duration
	for i := min(n-1, warmup); i < n; i++ {
		if g.OK[i] {
			counted = append(counted, time.Duration(g.Latency[i]))
			if i < len(g.SendDelay) {
				delays = append(delays, time.Duration(g.SendDelay[i]))
				fromSend = append(fromSend, time.Duration(g.Latency[i]-g.SendDelay[i]))
			}
		}
	}
	for _, ok := range g.OK {
		if ok {
			r.ok++
		}
	}
	if len(counted) == 0 {
		return r
	}
	pct := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
	r.p50, r.p99, r.p999 = pct(counted, 0.50), pct(counted, 0.99), pct(counted, 0.999)
	r.sendDelay50, r.sendDelay99 = pct(delays, 0.50), pct(delays, 0.99)
	r.fromSend50, r.fromSend99 = pct(fromSend, 0.50), pct(fromSend, 0.99)
	r.tps = float64(r.ok) / time.Duration(g.LastDone).Seconds()
	r.loadgenCPUPerTx = time.Duration(g.CPU) / time.Duration(n)
	return r
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runSequencerRPC measures velox_sendTransaction over loopback HTTP
// JSON-RPC against a real node at each rate for dur (after a warm-up), the
// load coming from a generator child process per rate: the running
// executable must call LoadgenMain first thing.
func runSequencerRPC(ctx context.Context, rates []int, dur time.Duration, users int, log *slog.Logger, emit func(rate int, r rateResult)) error {
	dir, err := os.MkdirTemp("", "velox-bench-rpc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	restore, procs := node.AddProcs(rpcExtraProcs)
	defer restore()
	log.Info("bench: node process", "GOMAXPROCS", procs)
	b, err := startRPCBench(ctx, dir, users, log)
	if err != nil {
		return err
	}
	defer b.stop()
	for _, rate := range rates {
		warmup := max(rpcWarmupTxs, int(rpcWarmup.Seconds()*float64(rate)))
		reqs, err := b.presign(warmup + int(float64(rate)*dur.Seconds()))
		if err != nil {
			return err
		}
		lj, err := prepareLoadgen(b.url, reqs, rate)
		if err != nil {
			return err
		}
		if rpcMemProfile != "" {
			if err := writeHeapProfile(fmt.Sprintf("%s.%d.before", rpcMemProfile, rate)); err != nil {
				lj.close()
				return err
			}
		}
		stopProfile := func() {}
		if rpcCPUProfile != "" {
			f, err := os.Create(fmt.Sprintf("%s.%d", rpcCPUProfile, rate))
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				lj.close()
				return err
			}
			stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		}
		if rpcTrace != "" {
			f, err := os.Create(fmt.Sprintf("%s.%d", rpcTrace, rate))
			if err != nil {
				stopProfile()
				lj.close()
				return err
			}
			if err := trace.Start(f); err != nil {
				f.Close()
				stopProfile()
				lj.close()
				return err
			}
			stopCPU := stopProfile
			stopProfile = func() { trace.Stop(); f.Close(); stopCPU() }
		}
		before := b.blockStats()
		// This process now runs only the node (and its embedded L1): its
		// CPU over the generator's life is the node's.
		cpu0 := cpuTime()
		err = lj.run(ctx)
		cpu := cpuTime() - cpu0
		stopProfile()
		if rpcMemProfile != "" {
			if err := writeHeapProfile(fmt.Sprintf("%s.%d", rpcMemProfile, rate)); err != nil {
				return err
			}
		}
		var g loadgenResult
		if err == nil {
			g, err = lj.result()
		}
		lj.close()
		if err != nil {
			return err
		}
		if latencyDump != "" {
			if err := dumpLatencies(fmt.Sprintf("%s.%d", latencyDump, rate), time.Unix(0, g.Start), g.Latency); err != nil {
				return err
			}
		}
		after := b.blockStats()
		r := rateStats(g, warmup)
		r.cpuPerTx = cpu / time.Duration(len(reqs))
		if blocks := after.blocks - before.blocks; blocks > 0 {
			r.blockEntries = (after.entries - before.entries) / blocks
			r.blockCommit = time.Duration((after.commit - before.commit) / blocks * float64(time.Second))
		}
		if checks := after.checks - before.checks; checks > 0 {
			r.checkBatch = (after.checked - before.checked) / checks
		}
		for i := range r.stages {
			if n := after.stageCount[i] - before.stageCount[i]; n > 0 {
				r.stages[i] = time.Duration((after.stageSum[i] - before.stageSum[i]) / n * float64(time.Second))
			}
		}
		if r.firstErr != nil {
			log.Warn("requests failed", "rate", rate, "failed", r.errors, "first", r.firstErr)
		}
		emit(rate, r)
		// Let the node settle between rates.
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}
