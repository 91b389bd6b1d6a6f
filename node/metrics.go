package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/veloxlabs/velox/prover/dist"
	"github.com/veloxlabs/velox/sequencer"
)

// metrics are the node's Prometheus metrics on a private registry. They
// implement sequencer.Metrics.
type metrics struct {
	reg *prometheus.Registry

	preconf        prometheus.Histogram
	blockEntries   prometheus.Histogram
	checkBatch     prometheus.Histogram
	blockExec      prometheus.Histogram
	blockCommit    prometheus.Histogram
	mempool        prometheus.Gauge
	batchUsed      prometheus.Histogram
	batchCut       prometheus.Histogram
	batchProven    prometheus.Histogram
	prove          prometheus.Histogram
	l1Submissions  *prometheus.CounterVec
	l1Submit       prometheus.Histogram
	l1Deposits     prometheus.Counter
	l1Finalized    prometheus.Counter
	rpcSubscribers prometheus.Gauge
	// stages are velox_preconfirm_stage_seconds by StageNames.
	stages [len(StageNames)]prometheus.Observer

	// The proving queue (dist.Metrics).
	queueWaiting   prometheus.Gauge
	queueInFlight  prometheus.Gauge
	workerJobs     *prometheus.GaugeVec
	proofTotal     prometheus.Histogram
	redeliveries   prometheus.Counter
	rejectedProofs prometheus.Counter
	duplicates     prometheus.Counter
	parkedJobs     prometheus.Counter
}

var (
	_ sequencer.Metrics = (*metrics)(nil)
	_ dist.Metrics      = (*metrics)(nil)
)

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	f := func(name, help string, buckets []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "velox", Name: name, Help: help, Buckets: buckets})
		reg.MustRegister(h)
		return h
	}
	latency := []float64{.0005, .001, .002, .005, .01, .015, .02, .05, .1, .25, .5, 1, 5}
	slow := prometheus.ExponentialBuckets(0.1, 2, 14) // 0.1 s .. ~13 min
	m := &metrics{reg: reg,
		preconf:      f("preconfirmation_seconds", "Time from admission to preconfirmation.", latency),
		blockEntries: f("miniblock_entries", "Entries (transactions and deposits) per mini-block.", prometheus.ExponentialBuckets(1, 2, 13)),
		checkBatch:   f("check_batch_txs", "Transactions whose signatures were checked together in one batch.", prometheus.LinearBuckets(1, 1, 8)),
		blockExec:    f("miniblock_exec_seconds", "Execution time of a mini-block.", latency),
		blockCommit:  f("miniblock_commit_seconds", "Synced commit time of a mini-block.", latency),
		batchUsed:    f("batch_used_chunks", "Chunks of a proving batch used by operations (the rest is padding).", prometheus.ExponentialBuckets(1, 2, 12)),
		batchCut:     f("batch_cut_seconds", "Time to build and commit a batch witness.", latency),
		batchProven:  f("batch_proof_latency_seconds", "Time from a batch's cut to its proof.", slow),
		prove:        f("prover_prove_seconds", "Worker time to prove (and check) one batch.", slow),
		proofTotal:   f("prover_job_seconds", "Time from publishing a proving job to its verified proof, queueing included.", slow),
		l1Submit:     f("l1_submit_seconds", "Time to settle a batch on L1, confirmations included.", slow),
	}
	stages := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "velox", Name: "preconfirm_stage_seconds",
		Help:    "Where a preconfirmed transaction's time in the sequencer went, by stage: check (admission and signature check, waiting for a check batch included), ready (in the pool until a mini-block took it), build (execution and building of its block), queued (behind the synced write in flight), write (its block's synced write).",
		Buckets: prometheus.ExponentialBuckets(25e-6, 2, 16)}, []string{"stage"}) // 25 µs .. 0.8 s
	reg.MustRegister(stages)
	for i, st := range StageNames {
		m.stages[i] = stages.WithLabelValues(st)
	}
	m.mempool = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "velox", Name: "mempool_txs", Help: "Queued transactions."})
	m.rpcSubscribers = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "velox", Name: "rpc_subscriptions", Help: "Open eth_subscribe subscriptions."})
	m.l1Submissions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "velox", Name: "l1_submissions_total", Help: "Batch settlements on L1 by result."}, []string{"result"})
	m.l1Deposits = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "velox", Name: "l1_deposits_total", Help: "Deposits read from L1."})
	m.l1Finalized = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "velox", Name: "l1_finalized_batches_total", Help: "Batches final on L1."})
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "velox", Name: name, Help: help})
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "velox", Name: name, Help: help})
	}
	m.queueWaiting = gauge("prover_queue_waiting", "Proving jobs waiting for a worker.")
	m.queueInFlight = gauge("prover_queue_in_flight", "Proving jobs taken by a worker and not yet acknowledged.")
	m.workerJobs = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "velox", Name: "prover_worker_jobs_in_flight",
		Help: "Jobs in flight per prover worker (from its heartbeats)."}, []string{"worker"})
	m.redeliveries = counter("prover_redeliveries_total", "Job deliveries after a worker died, timed out or handed a job back.")
	m.rejectedProofs = counter("prover_rejected_proofs_total", "Worker proofs that did not verify.")
	m.duplicates = counter("prover_duplicate_results_total", "Results dropped because their batch was already proven.")
	m.parkedJobs = counter("prover_parked_jobs_total", "Proving jobs parked after repeated failures.")
	reg.MustRegister(m.queueWaiting, m.queueInFlight, m.workerJobs, m.redeliveries, m.rejectedProofs, m.duplicates, m.parkedJobs)
	reg.MustRegister(m.mempool, m.rpcSubscribers, m.l1Submissions, m.l1Deposits, m.l1Finalized,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// StageNames are the stage labels of velox_preconfirm_stage_seconds, in
// the order of sequencer.Metrics.Stages' arguments.
var StageNames = [5]string{"check", "ready", "build", "queued", "write"}

func (m *metrics) Preconfirmed(d time.Duration) { m.preconf.Observe(d.Seconds()) }
func (m *metrics) Stages(check, ready, build, queued, write time.Duration) {
	for i, d := range [...]time.Duration{check, ready, build, queued, write} {
		m.stages[i].Observe(d.Seconds())
	}
}
func (m *metrics) MiniBlock(entries int, exec, commit time.Duration) {
	m.blockEntries.Observe(float64(entries))
	m.blockExec.Observe(exec.Seconds())
	m.blockCommit.Observe(commit.Seconds())
}
func (m *metrics) Mempool(n int)      { m.mempool.Set(float64(n)) }
func (m *metrics) CheckBatch(txs int) { m.checkBatch.Observe(float64(txs)) }
func (m *metrics) BatchCut(used int, d time.Duration) {
	m.batchUsed.Observe(float64(used))
	m.batchCut.Observe(d.Seconds())
}
func (m *metrics) BatchProven(d time.Duration) { m.batchProven.Observe(d.Seconds()) }

func (m *metrics) QueueDepth(waiting, inFlight int) {
	m.queueWaiting.Set(float64(waiting))
	m.queueInFlight.Set(float64(inFlight))
}
func (m *metrics) WorkerJobs(worker string, n int) {
	if n < 0 {
		m.workerJobs.DeleteLabelValues(worker)
		return
	}
	m.workerJobs.WithLabelValues(worker).Set(float64(n))
}
func (m *metrics) Proof(prove, total time.Duration) {
	m.prove.Observe(prove.Seconds())
	m.proofTotal.Observe(total.Seconds())
}
func (m *metrics) Redelivered(n int) { m.redeliveries.Add(float64(n)) }
func (m *metrics) Rejected()         { m.rejectedProofs.Inc() }
func (m *metrics) Duplicate()        { m.duplicates.Inc() }
func (m *metrics) Parked()           { m.parkedJobs.Inc() }
