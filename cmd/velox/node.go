package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"

	"github.com/veloxlabs/velox/accel"
	"github.com/veloxlabs/velox/node"
	"github.com/veloxlabs/velox/prover/dist"
)

func nodeCommand() *cli.Command {
	return &cli.Command{
		Name:  "node",
		Usage: "run a Velox node: sequencer, prover and settlement in one process",
		Description: "With no flags the node runs on its embedded defaults: state in ./velox-data,\n" +
			"JSON-RPC (HTTP and WebSocket), /metrics and /health on 127.0.0.1:9545, and an\n" +
			"embedded development L1 (a go-ethereum node) in the data directory. The first\n" +
			"start compiles the batch circuit and makes development keys (unsafe; cached);\n" +
			"later starts load them. Stop it with Ctrl-C: it finishes the current\n" +
			"mini-block and resumes from the data directory on the next start.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "datadir", Value: node.DefaultDataDir, Usage: "data directory (state, keys, embedded L1)", EnvVars: []string{"VELOX_DATADIR"}},
			&cli.StringFlag{Name: "rpc.addr", Value: "127.0.0.1:9545", Usage: "JSON-RPC (HTTP + WebSocket), /metrics and /health listen address", EnvVars: []string{"VELOX_RPC_ADDR"}},
			&cli.Uint64Flag{Name: "chain-id", Value: 4242, Usage: "L2 chain id signed into every transaction", EnvVars: []string{"VELOX_CHAIN_ID"}},
			&cli.IntFlag{Name: "circuit.slots", Value: 0, Usage: "operation slots per proving batch (0: the node's default)", EnvVars: []string{"VELOX_CIRCUIT_SLOTS"}},
			&cli.IntFlag{Name: "circuit.depth", Value: 0, Usage: "account tree depth (0: the node's default)", EnvVars: []string{"VELOX_CIRCUIT_DEPTH"}},
			&cli.StringFlag{Name: "keys", Usage: "circuit key directory (default DATADIR/keys)", EnvVars: []string{"VELOX_KEYS"}},
			&cli.BoolFlag{Name: "no-dev-setup", Usage: "refuse to make unsafe development keys when none are cached", EnvVars: []string{"VELOX_NO_DEV_SETUP"}},
			&cli.DurationFlag{Name: "block-time", Value: 10 * time.Millisecond, Usage: "how often the sequencer looks for deposits and batch timeouts (transactions do not wait for it)", EnvVars: []string{"VELOX_BLOCK_TIME"}},
			&cli.IntFlag{Name: "max-check-queue", Value: 0, Usage: "refuse new transactions (error -38015, retry later) while more than this many wait for signature checks (0: default 1024)", EnvVars: []string{"VELOX_MAX_CHECK_QUEUE"}},
			&cli.DurationFlag{Name: "max-check-linger", Value: 0, Usage: "longest a transaction waits for others to share its signature-check batch (hashed in vector lanes); it waits only while a mini-block is being built, or at rates where at least four arrive within this bound (0: default 500µs, negative: never)", EnvVars: []string{"VELOX_MAX_CHECK_LINGER"}},
			&cli.DurationFlag{Name: "max-block-linger", Value: 0, Usage: "longest the sequencer waits, once transactions are ready, for more to join the mini-block (fewer synced writes under load), taken only at rates where two more arrive within it (0: default 400µs, negative: never)", EnvVars: []string{"VELOX_MAX_BLOCK_LINGER"}},
			&cli.DurationFlag{Name: "batch-timeout", Value: 0, Usage: "close a partly filled proving batch after this long (0: default)", EnvVars: []string{"VELOX_BATCH_TIMEOUT"}},
			&cli.StringFlag{Name: "l1.rpc", Usage: "Ethereum JSON-RPC URL; empty runs the embedded development L1", EnvVars: []string{"VELOX_L1_RPC"}},
			&cli.StringFlag{Name: "l1.key", Usage: "hex private key that deploys the contracts on --l1.rpc", EnvVars: []string{"VELOX_L1_KEY"}},
			&cli.BoolFlag{Name: "l1.http", Usage: "serve the embedded L1's JSON-RPC on --l1.http.addr", EnvVars: []string{"VELOX_L1_HTTP"}},
			&cli.StringFlag{Name: "l1.http.addr", Value: "127.0.0.1:8545", Usage: "embedded L1 JSON-RPC listen address (loopback)", EnvVars: []string{"VELOX_L1_HTTP_ADDR"}},
			&cli.Uint64Flag{Name: "l1.confirmations", Usage: "L1 confirmations before a deposit is included and a batch is final (0: default)", EnvVars: []string{"VELOX_L1_CONFIRMATIONS"}},
			&cli.StringFlag{Name: "nats.url", Usage: "external NATS (JetStream) server for the proving queue; empty embeds one", EnvVars: []string{"VELOX_NATS_URL"}},
			&cli.StringFlag{Name: "nats.addr", Value: dist.DefaultAddr, Usage: "embedded NATS server listen address (prover workers connect here)", EnvVars: []string{"VELOX_NATS_ADDR"}},
			&cli.DurationFlag{Name: "nats.ack-wait", Value: dist.DefaultAckWait, Usage: "a worker silent this long loses its job to another worker", EnvVars: []string{"VELOX_NATS_ACK_WAIT"}},
			&cli.IntFlag{Name: "extra-procs", Value: node.DefaultExtraProcs, Usage: "Go scheduler slots (GOMAXPROCS) above the CPU count, so that CPUs keep running while a thread waits for a disk sync (0: none; a GOMAXPROCS environment variable overrides)", EnvVars: []string{"VELOX_EXTRA_PROCS"}},
			&cli.BoolFlag{Name: "prover.local", Value: true, Usage: "also prove in this process (--prover.local=false leaves proving to `velox prover` workers)", EnvVars: []string{"VELOX_PROVER_LOCAL"}},
		},
		Action: runNode,
	}
}

func runNode(c *cli.Context) error {
	cfg := node.Config{
		DataDir:        c.String("datadir"),
		RPCAddr:        c.String("rpc.addr"),
		ChainID:        c.Uint64("chain-id"),
		Slots:          c.Int("circuit.slots"),
		Depth:          c.Int("circuit.depth"),
		KeyDir:         c.String("keys"),
		NoDevSetup:     c.Bool("no-dev-setup"),
		BlockTime:      c.Duration("block-time"),
		BatchTimeout:   c.Duration("batch-timeout"),
		MaxCheckQueue:  c.Int("max-check-queue"),
		MaxCheckLinger: c.Duration("max-check-linger"),
		MaxBlockLinger: c.Duration("max-block-linger"),
		L1: node.L1Config{
			RPCURL:           c.String("l1.rpc"),
			EmbeddedHTTP:     c.Bool("l1.http"),
			EmbeddedHTTPAddr: c.String("l1.http.addr"),
			Confirmations:    c.Uint64("l1.confirmations"),
		},
		NATS: node.NATSConfig{
			URL:           c.String("nats.url"),
			AckWait:       c.Duration("nats.ack-wait"),
			NoLocalProver: !c.Bool("prover.local"),
		},
	}
	if cfg.NATS.URL == "" {
		cfg.NATS.Addr = c.String("nats.addr")
	}
	if k := c.String("l1.key"); k != "" {
		key, err := crypto.HexToECDSA(trim0x(k))
		if err != nil {
			return fmt.Errorf("--l1.key: %w", err)
		}
		cfg.L1.Key = key
	}
	cfg.SetupProgress = progress()
	cfg = cfg.WithDefaults()
	if err := cfg.Check(); err != nil {
		return err
	}
	log := slog.Default()
	accel.LogSelection(log)
	_, procs := node.AddProcs(c.Int("extra-procs"))
	log.Info("scheduler", "GOMAXPROCS", procs, "cpus", runtime.NumCPU())
	n, err := node.New(cfg, log)
	if err != nil {
		return err
	}
	if err := n.Start(c.Context); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "\nvelox node running\n  JSON-RPC  http://%s  (WebSocket on the same port)\n  metrics   http://%s/metrics\n  provers   %s  (velox prover --nats.url %s)\n  sequencer %v\n  data      %s\nPress Ctrl-C to stop.\n",
		n.RPCAddr(), n.RPCAddr(), n.NATSURL(), n.NATSURL(), n.SequencerAddress(), cfg.DataDir)
	<-c.Context.Done()
	fmt.Fprintln(os.Stderr, "stopping...")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return n.Stop(ctx)
}

func trim0x(s string) string {
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		return s[2:]
	}
	return s
}
