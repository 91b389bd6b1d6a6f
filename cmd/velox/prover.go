package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
			&cli.StringFlag{Name: "metrics.addr", Usage: "serve Prometheus /metrics on this address (e.g. 127.0.0.1:9546); empty: off", EnvVars: []string{"VELOX_PROVER_METRICS_ADDR"}},
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
	w, err := dist.NewWorker(dist.WorkerConfig{Conn: nc, ID: id, KeyDir: keyDir, Backend: backend, Jobs: c.Int("jobs"), Log: log, HoldJob: c.Duration("test.hold-job")})
	if err != nil {
		return err
	}
	if addr := c.String("metrics.addr"); addr != "" {
		stop, err := serveWorkerMetrics(addr, w, log)
		if err != nil {
			return err
		}
		defer stop()
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

// serveWorkerMetrics serves the worker's counters as Prometheus metrics.
func serveWorkerMetrics(addr string, w *dist.Worker, log *slog.Logger) (stop func(), err error) {
	reg := prometheus.NewRegistry()
	stat := func(f func(dist.WorkerStats) float64) func() float64 { return func() float64 { return f(w.Stats()) } }
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "velox", Name: "worker_jobs_in_flight", Help: "Jobs this worker is proving."},
			stat(func(s dist.WorkerStats) float64 { return float64(s.InFlight) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "velox", Name: "worker_proofs_total", Help: "Proofs published.", ConstLabels: prometheus.Labels{"result": "ok"}},
			stat(func(s dist.WorkerStats) float64 { return float64(s.Proven) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "velox", Name: "worker_proofs_total", Help: "Proofs published.", ConstLabels: prometheus.Labels{"result": "failed"}},
			stat(func(s dist.WorkerStats) float64 { return float64(s.Failed) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "velox", Name: "worker_jobs_handed_back_total", Help: "Jobs returned to the queue on stop."},
			stat(func(s dist.WorkerStats) float64 { return float64(s.HandedBack) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "velox", Name: "worker_prove_seconds_total", Help: "Time spent proving."},
			stat(func(s dist.WorkerStats) float64 { return s.Proving.Seconds() })),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics.addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("worker metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { _ = srv.Close() }, nil
}
