// Package node runs a Velox node (DESIGN.md §8): it wires the state store,
// the sequencer, the prover and settlement on an L1 (an embedded
// development chain by default) under one lifecycle, and serves the
// JSON-RPC API (HTTP and WebSocket on one port, docs/RPC.md), /metrics and
// /health.
package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/veloxlabs/velox/asm"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
	"github.com/veloxlabs/velox/sequencer"
	"github.com/veloxlabs/velox/settlement"
	"github.com/veloxlabs/velox/state"
)

// Node is a Velox node. Start it once; Stop ends it. Restarting on the
// same data directory resumes from the committed state.
type Node struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	st       *state.Store
	seq      *sequencer.Sequencer
	keys     *prover.Keys
	prover   *proving
	dev      *settlement.DevChain
	l1       *ethclient.Client
	deploy   *Deployment
	deposits *depositLog
	watcher  *settlement.Watcher

	rpc   *rpc.Server
	http  *http.Server
	front *front
	ln    net.Listener

	// cancel stops the node's background goroutines (watcher, prover,
	// subscriptions), which wg waits for.
	cancel context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		// started and stopped are guarded by mu.
		started, stopped bool
	}

	// exodus is set when the L1 rollup enters exodus mode: nothing settles
	// any more.
	exodus atomic.Pointer[exodusInfo]
}

type exodusInfo struct {
	LastBatch uint64
	Root      common.Hash
}

// New checks cfg (after applying defaults) and returns a stopped node.
func New(cfg Config, log *slog.Logger) (*Node, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if asm.Supported() {
		// Admission hashes queued transactions eight at a time.
		ledger.SetLanePermutation(asm.Poseidon2x8)
	}
	return &Node{cfg: cfg, log: log, m: newMetrics()}, nil
}

// Config returns the node's configuration, defaults applied.
func (n *Node) Config() Config { return n.cfg }

// Start opens the state, generates or loads the sequencer key, loads or
// sets up the circuit keys (minutes on a new circuit: see
// Config.SetupProgress), starts the L1 and deploys the contracts once,
// starts the sequencer, the prover and the L1 watcher, and serves
// JSON-RPC. ctx bounds start-up only. On error everything started is
// stopped again.
func (n *Node) Start(ctx context.Context) (err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.started {
		return errors.New("node: already started")
	}
	n.mu.started = true
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			n.stop(stopCtx)
		}
	}()
	n.ctx, n.cancel = context.WithCancel(context.Background())
	cfg := &n.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("node: data directory: %w", err)
	}

	key, err := loadOrCreateKey(filepath.Join(cfg.DataDir, "sequencer.key"))
	if err != nil {
		return err
	}
	seqAddr := settlement.NewAccount(key).Address
	if n.st, err = state.Open(filepath.Join(cfg.DataDir, "state"), state.Options{Depth: cfg.Depth}); err != nil {
		return fmt.Errorf("node: opening the state (created with another depth?): %w", err)
	}
	if err := n.st.Genesis(ctx, seqAddr); err != nil {
		return fmt.Errorf("node: genesis: %w", err)
	}

	ccfg := circuit.Config{Slots: cfg.Slots, Depth: cfg.Depth, ChainID: cfg.ChainID}
	n.log.Info("loading circuit keys", "circuit", ccfg, "dir", cfg.KeyDir)
	if n.keys, err = prover.LoadOrSetup(ctx, cfg.KeyDir, ccfg, prover.KeyOptions{Setup: !cfg.NoDevSetup, Progress: cfg.SetupProgress, Log: n.log}); err != nil {
		return err
	}
	if cfg.SetupProgress != nil {
		cfg.SetupProgress("ready")
	}
	if n.keys.Dev {
		n.log.Warn("circuit keys come from the UNSAFE development setup: never secure real value with them")
	}

	if err := n.startL1(ctx, seqAddr); err != nil {
		return err
	}
	l1BlockTime := cfg.L1.EmbeddedBlockTime
	if cfg.L1.RPCURL != "" {
		l1BlockTime = 12 * time.Second // Ethereum's slot
	}
	if n.deposits, err = openDepositLog(filepath.Join(cfg.DataDir, "deposits.jsonl"),
		time.Duration(cfg.L1.PriorityDeadline)*l1BlockTime); err != nil {
		return err
	}
	sub, err := settlement.NewSubmitter(ctx, n.l1, settlement.SubmitterConfig{Rollup: n.deploy.Rollup, Key: key,
		StatePath: filepath.Join(cfg.DataDir, "settlement", "submitter.json"), Confirmations: cfg.L1.Confirmations,
		PollInterval: cfg.L1.PollInterval, Log: n.log.With("component", "submitter")})
	if err != nil {
		return err
	}
	if n.prover, err = n.startProving(ctx); err != nil {
		return err
	}
	n.seq, err = sequencer.New(n.st, sequencer.Config{
		Params: ccfg.Params(), Key: key, FeeOwner: seqAddr, BlockTime: cfg.BlockTime, BatchTimeout: cfg.BatchTimeout,
		MaxPoolTxs: cfg.MaxPoolTxs, MaxCheckQueue: cfg.MaxCheckQueue, MaxCheckLinger: cfg.MaxCheckLinger, MaxBlockLinger: cfg.MaxBlockLinger, Slots: cfg.Slots, PriorityOps: n.deposits, Prover: n.prover.d,
		Settler: &settler{sub: sub, m: n.m, exodus: &n.exodus}, Log: n.log, Metrics: n.m,
	})
	if err != nil {
		return err
	}
	if n.watcher, err = settlement.NewWatcher(n.l1, settlement.WatcherConfig{Rollup: n.deploy.Rollup, FromBlock: n.deploy.Block,
		Confirmations: cfg.L1.Confirmations, CursorPath: filepath.Join(cfg.DataDir, "settlement", "watcher.json"),
		PollInterval: cfg.L1.PollInterval, OnDeposit: n.onDeposit, OnBatchVerified: n.onBatchVerified, OnExodus: n.onExodus,
		Log: n.log.With("component", "watcher")}); err != nil {
		return err
	}
	if err := n.seq.Start(ctx); err != nil {
		return err
	}
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.prover.run(n.ctx, n.log)
	}()
	go func() {
		defer n.wg.Done()
		_ = n.watcher.Run(n.ctx)
	}()
	return n.serveRPC()
}

func (n *Node) startL1(ctx context.Context, seqAddr common.Address) error {
	cfg := &n.cfg
	var deployer settlement.Account
	if cfg.L1.RPCURL == "" {
		dc := settlement.DevConfig{DataDir: filepath.Join(cfg.DataDir, "l1"), BlockTime: cfg.L1.EmbeddedBlockTime,
			Log: n.log.With("component", "l1")}
		if cfg.L1.EmbeddedHTTP {
			dc.HTTPAddr = cfg.L1.EmbeddedHTTPAddr
		}
		dev, err := settlement.StartDevChain(dc)
		if err != nil {
			return err
		}
		n.dev, n.l1 = dev, dev.Client()
		deployer = settlement.NewAccount(settlement.DevKey(0))
	} else {
		c, err := settlement.Dial(ctx, cfg.L1.RPCURL)
		if err != nil {
			return err
		}
		n.l1 = c
		deployer = settlement.NewAccount(cfg.L1.Key)
	}
	if n.dev != nil {
		if err := fund(ctx, n.l1, deployer.Key, seqAddr); err != nil {
			return err
		}
	} else if bal, err := n.l1.BalanceAt(ctx, seqAddr, nil); err == nil && bal.Sign() == 0 {
		n.log.Warn("the sequencer address has no ETH on L1: batch submissions will fail until it is funded", "address", seqAddr)
	}
	var err error
	n.deploy, err = deploy(ctx, filepath.Join(cfg.DataDir, "deployment.json"), n.l1, deployer, n.keys, n.st, seqAddr, cfg)
	if err != nil {
		return err
	}
	n.log.Info("rollup contract", "address", n.deploy.Rollup, "verifier", n.deploy.Verifier, "l1_chain", n.deploy.L1ChainID, "from_block", n.deploy.Block)
	return nil
}

func (n *Node) onDeposit(_ context.Context, d ledger.Deposit, _ uint64) error {
	if err := n.deposits.add(d); err != nil {
		return err
	}
	n.m.l1Deposits.Inc()
	return nil
}

func (n *Node) onBatchVerified(ctx context.Context, number uint64, root [32]byte, _ uint64) error {
	rec, err := n.seq.Batch(number)
	if err != nil {
		return fmt.Errorf("node: L1 verified batch %d: %w", number, err)
	}
	if got := rec.NewRoot.Bytes(); got != root {
		// Not ours: the L1 and this node disagree. Stop finalizing.
		n.log.Error("L1 verified a batch with another root", "batch", number, "l1_root", common.Hash(root), "root", common.Hash(got))
		return fmt.Errorf("node: batch %d has root %x on L1 and %x here", number, root, got)
	}
	if err := n.seq.Finalized(ctx, number); err != nil {
		return err
	}
	n.m.l1Finalized.Inc()
	return nil
}

func (n *Node) onExodus(_ context.Context, number uint64, root [32]byte, _ uint64) error {
	n.exodus.Store(&exodusInfo{LastBatch: number, Root: root})
	n.log.Error("the rollup is in exodus mode on L1: this node can no longer settle; users exit on L1 against the last verified root",
		"last_batch", number, "root", common.Hash(root))
	return nil
}

// serveRPC starts JSON-RPC over HTTP and WebSocket, /metrics and /health
// on one listener.
func (n *Node) serveRPC() error {
	cfg := &n.cfg
	n.rpc = rpc.NewServer()
	n.rpc.SetHTTPBodyLimit(cfg.MaxBodyBytes)
	n.rpc.SetWebsocketReadLimit(int64(cfg.MaxBodyBytes))
	n.rpc.SetBatchLimits(cfg.MaxBatchItems, cfg.MaxBatchResponse)
	if err := n.rpc.RegisterName("eth", &ethAPI{n}); err != nil {
		return err
	}
	if err := n.rpc.RegisterName("velox", &veloxAPI{n}); err != nil {
		return err
	}
	ws := n.rpc.WebsocketHandler(cfg.WSOrigins)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(n.m.reg, promhttp.HandlerOpts{Registry: n.m.reg}))
	mux.HandleFunc("/health", n.health)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			ws.ServeHTTP(w, r)
			return
		}
		if r = n.fastSend(w, r); r != nil {
			n.rpc.ServeHTTP(w, r)
		}
	})
	ln, err := net.Listen("tcp", cfg.RPCAddr)
	if err != nil {
		return fmt.Errorf("node: RPC listener on %s: %w", cfg.RPCAddr, err)
	}
	n.ln = ln
	// The front end (front.go) serves velox_sendTransaction itself and
	// hands every other connection to the net/http server.
	n.front = newFront(n, ln)
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: frontReadTimeout, IdleTimeout: frontIdleTimeout}
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.front.serve()
	}()
	go func() {
		defer n.wg.Done()
		if err := n.http.Serve(n.front.handoff); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("RPC server", "err", err)
		}
	}()
	n.log.Info("JSON-RPC listening", "http", "http://"+ln.Addr().String(), "ws", "ws://"+ln.Addr().String())
	return nil
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

func (n *Node) health(w http.ResponseWriter, _ *http.Request) {
	head, _ := n.seq.Head()
	body := map[string]any{"status": "ok", "miniBlock": head, "treeBatch": n.st.Tree().Number()}
	code := http.StatusOK
	if err := n.seq.Err(); err != nil {
		body["status"], body["error"] = "failing", err.Error()
		code = http.StatusServiceUnavailable
	}
	if ex := n.exodus.Load(); ex != nil {
		body["status"], body["error"] = "exodus", fmt.Sprintf("the L1 rollup is in exodus mode after batch %d: nothing settles any more", ex.LastBatch)
		body["exodusRoot"] = ex.Root
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// serve runs a subscription's delivery loop, step, until it returns false,
// then releases the sequencer subscription. The node owns the goroutine.
func (n *Node) serve(release func(), step func() bool) {
	n.m.rpcSubscribers.Inc()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.m.rpcSubscribers.Dec()
		defer release()
		for step() {
			if n.ctx.Err() != nil {
				return
			}
		}
	}()
}

// RPCAddr returns the address JSON-RPC listens on (after Start).
func (n *Node) RPCAddr() string {
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// SequencerAddress returns the address that signs mini-blocks and submits
// batches.
func (n *Node) SequencerAddress() common.Address { return n.seq.Address() }

// NATSURL returns the URL of the proving queue's NATS server, where
// prover workers connect (after Start).
func (n *Node) NATSURL() string {
	if n.prover == nil {
		return ""
	}
	return n.prover.url
}

// L1 returns the node's L1 client (after Start).
func (n *Node) L1() *ethclient.Client { return n.l1 }

// DevChain returns the embedded L1, or nil with an external one.
func (n *Node) DevChain() *settlement.DevChain { return n.dev }

// Deployment returns the L1 contracts (after Start).
func (n *Node) Deployment() Deployment { return *n.deploy }

// Stop stops serving, stops the sequencer (finishing the mini-block in
// progress), the prover and the watcher, closes the L1 and the state. It
// waits for every goroutine or for ctx.
func (n *Node) Stop(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stop(ctx)
}

func (n *Node) stop(ctx context.Context) error {
	if n.mu.stopped {
		return nil
	}
	n.mu.stopped = true
	var errs []error
	if n.http != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n.front.close(sctx)
		if err := n.http.Shutdown(sctx); err != nil {
			_ = n.http.Close()
		}
		cancel()
	}
	if n.rpc != nil {
		n.rpc.Stop()
	}
	if n.seq != nil {
		errs = append(errs, n.seq.Stop(ctx))
	}
	if n.cancel != nil {
		n.cancel()
	}
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("node: stopping: %w", ctx.Err()))
	}
	if n.prover != nil {
		n.prover.close()
	}
	if n.dev != nil {
		errs = append(errs, n.dev.Close())
	} else if n.l1 != nil {
		n.l1.Close()
	}
	if n.st != nil {
		errs = append(errs, n.st.Close())
	}
	err := errors.Join(errs...)
	n.log.Info("node stopped", "err", err)
	return err
}
