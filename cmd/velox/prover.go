package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/urfave/cli/v2"

	"github.com/veloxlabs/velox/accel"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/dist"
)

func proverCommand() *cli.Command {
	return &cli.Command{
		Name:  "prover",
		Usage: "run a prover worker: take proving jobs from a node's NATS queue",
		Description: "A worker connects to the NATS server of a node (embedded in `velox node`, by\n" +
			"default on 127.0.0.1:4222, or an external cluster), takes one batch at a time\n" +
			"and proves it on all cores. It loads the circuit keys from --keys, or fetches\n" +
			"the node's keys from the queue once and caches them there. Start as many as you\n" +
			"have machines; stop one with Ctrl-C or SIGTERM and its job goes back to the queue.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "nats.url", Value: "nats://" + dist.DefaultAddr, Usage: "NATS server of the node's proving queue", EnvVars: []string{"VELOX_NATS_URL"}},
			&cli.StringFlag{Name: "keys", Usage: "circuit key cache (default: velox/keys in the user cache directory)", EnvVars: []string{"VELOX_KEYS"}},
			&cli.StringFlag{Name: "id", Usage: "worker name in results and status (default HOST-PID)", EnvVars: []string{"VELOX_PROVER_ID"}},
			&cli.IntFlag{Name: "jobs", Value: 2, Usage: "jobs proven at once: 2 overlaps one proof's solving with another's MSMs (more proofs per hour, twice the memory)", EnvVars: []string{"VELOX_PROVER_JOBS"}},
			&cli.StringFlag{Name: "backend", Value: "velox", Usage: "Groth16 prover: velox (accel kernels) or gnark", EnvVars: []string{"VELOX_PROVER_BACKEND"}},
			&cli.DurationFlag{Name: "test.hold-job", Hidden: true, Usage: "fault injection for tests: wait this long before each proof"},
		},
		Action: runProver,
	}
}

func runProver(c *cli.Context) error {
	log := slog.Default()
	accel.LogSelection(log)
	keyDir := c.String("keys")
	if keyDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("--keys: no user cache directory (%v); set one", err)
		}
		keyDir = filepath.Join(base, "velox", "keys")
	}
	id := c.String("id")
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	var backend prover.Backend
	switch c.String("backend") {
	case "velox":
		backend = prover.Velox
	case "gnark":
		backend = prover.Gnark
	default:
		return fmt.Errorf("--backend %q: want velox or gnark", c.String("backend"))
	}
	nc, err := dist.Connect(c.String("nats.url"), "velox-prover-"+id)
	if err != nil {
		return err
	}
	defer nc.Close()
	if _, err := jetstream.New(nc); err != nil {
		return err
	}
	w, err := dist.NewWorker(dist.WorkerConfig{Conn: nc, ID: id, KeyDir: keyDir, Backend: backend, Jobs: c.Int("jobs"), Log: log, HoldJob: c.Duration("test.hold-job")})
	if err != nil {
		return err
	}
	log.Info("prover worker starting", "worker", id, "nats", c.String("nats.url"), "keys", keyDir, "backend", backend, "jobs", c.Int("jobs"))
	start := time.Now()
	err = w.Run(c.Context)
	log.Info("prover worker stopped", "worker", id, "uptime", time.Since(start).Round(time.Second))
	if errors.Is(err, c.Context.Err()) {
		return nil
	}
	return err
}
