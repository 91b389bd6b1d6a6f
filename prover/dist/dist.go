// Package dist distributes batch proofs over a NATS JetStream work queue
// (DESIGN.md §6): the node publishes proving jobs, prover workers on any
// number of machines take them, and the node checks each proof and settles
// batches in order whatever order the results arrive in.
//
// Subjects and streams:
//
//	velox.jobs.<circuit>     stream VELOX_JOBS (work queue): a batch witness, gzip'd gob
//	velox.results.<circuit>  stream VELOX_RESULTS (work queue): a proof or a failure
//	velox.workers.<circuit>  core NATS: worker heartbeats (status only)
//	bucket velox-keys        object store: the circuit's keys, for workers without them
//
// A circuit is named by its key directory name (prover.KeyDir): its
// configuration and a prefix of its R1CS hash, e.g. batch-8-d16-c4242-0f1e2d3c4b5a.
//
// Delivery guarantees: a worker acknowledges a job only after the result is
// stored in VELOX_RESULTS, so a worker that dies mid-proof has its job
// redelivered after the consumer's ack wait; heartbeats (in-progress acks)
// keep a long proof's job from being redelivered while the worker lives.
// Results are idempotent on the node: a result for a batch that is not
// pending (proven already, or a second worker's proof of a redelivered job)
// is counted and dropped. A proof that does not verify, or a failure the
// worker reports, retries the job (excluding that worker while another can
// take it) up to a limit; then the job is parked with its reason until the
// node restarts. A job whose deliveries run out without any result (workers
// keep dying on it) is treated the same way.
package dist

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
)

// Stream, bucket and subject names.
const (
	JobsStream    = "VELOX_JOBS"
	ResultsStream = "VELOX_RESULTS"
	KeysBucket    = "velox-keys"

	jobsPrefix    = "velox.jobs."
	resultsPrefix = "velox.results."
	workersPrefix = "velox.workers."

	// maxDeliveriesAdvisory is the server's event subject prefix for a
	// message whose deliveries ran out.
	maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"

	hdrBatch   = "Velox-Batch"
	hdrAttempt = "Velox-Attempt"
	// hdrExclude lists the workers (comma-separated) whose earlier attempt
	// at the job failed: they leave it to others while others are there.
	hdrExclude = "Velox-Exclude"
)

// Defaults.
const (
	DefaultAckWait     = 30 * time.Second
	DefaultMaxAttempts = 3
	DefaultMaxDeliver  = 5
	DefaultMaxPending  = 8
	// MaxJobBytes bounds a job message (a compressed witness) and is the
	// embedded server's max payload.
	MaxJobBytes = 64 << 20
)

// Errors.
var (
	// ErrBadJob: a job message that cannot be decoded.
	ErrBadJob = errors.New("dist: malformed job")
	// ErrBadResult: a result message that cannot be decoded.
	ErrBadResult = errors.New("dist: malformed result")
	// ErrBadCircuit: a circuit name that does not parse.
	ErrBadCircuit = errors.New("dist: malformed circuit name")
)

// CircuitID names the circuit of k: its key directory's name.
func CircuitID(k *prover.Keys) string {
	return filepath.Base(prover.KeyDir("", k.Config, k.CircuitHash))
}

var circuitRE = regexp.MustCompile(`^batch-(\d+)-d(\d+)-c(\d+)-([0-9a-f]{12})$`)

// ParseCircuitID returns the configuration and hash prefix (hex) a circuit
// name encodes.
func ParseCircuitID(id string) (circuit.Config, string, error) {
	m := circuitRE.FindStringSubmatch(id)
	if m == nil {
		return circuit.Config{}, "", fmt.Errorf("%w: %q (want batch-SLOTS-dDEPTH-cCHAIN-HASH12)", ErrBadCircuit, id)
	}
	slots, err1 := strconv.Atoi(m[1])
	depth, err2 := strconv.Atoi(m[2])
	chain, err3 := strconv.ParseUint(m[3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return circuit.Config{}, "", fmt.Errorf("%w: %q: %v", ErrBadCircuit, id, err)
	}
	cfg := circuit.Config{Slots: slots, Depth: depth, ChainID: chain}
	if err := cfg.Check(); err != nil {
		return circuit.Config{}, "", fmt.Errorf("%w: %q: %v", ErrBadCircuit, id, err)
	}
	return cfg, m[4], nil
}

func jobSubject(circuit string) string    { return jobsPrefix + circuit }
func resultSubject(circuit string) string { return resultsPrefix + circuit }
func workerSubject(circuit string) string { return workersPrefix + circuit }
func consumerName(circuit string) string  { return "provers-" + circuit }
func resultsConsumer(circuit string) string {
	return "node-" + circuit
}

// encodeJob compresses a witness for the queue.
func encodeJob(w *ledger.BatchWitness) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := gob.NewEncoder(zw).Encode(w); err != nil {
		return nil, fmt.Errorf("dist: encoding batch %d: %w", w.Number, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() > MaxJobBytes {
		return nil, fmt.Errorf("dist: batch %d witness is %d bytes compressed, over the %d-byte message limit", w.Number, buf.Len(), MaxJobBytes)
	}
	return buf.Bytes(), nil
}

// decodeJob reverses encodeJob; it bounds the decompressed size.
func decodeJob(b []byte) (*ledger.BatchWitness, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	w := new(ledger.BatchWitness)
	if err := gob.NewDecoder(io.LimitReader(zr, 16*MaxJobBytes)).Decode(w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	return w, nil
}

// jobHeader is what a job's headers carry.
type jobHeader struct {
	batch   uint64
	attempt int
	exclude []string
}

func (h jobHeader) set(m *nats.Msg, circuit, run string) {
	m.Header = nats.Header{}
	m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("%s.%s.b%d.a%d", circuit, run, h.batch, h.attempt))
	m.Header.Set(hdrBatch, strconv.FormatUint(h.batch, 10))
	m.Header.Set(hdrAttempt, strconv.Itoa(h.attempt))
	if len(h.exclude) > 0 {
		m.Header.Set(hdrExclude, strings.Join(h.exclude, ","))
	}
}

func parseJobHeader(h nats.Header) (jobHeader, error) {
	var j jobHeader
	var err error
	if j.batch, err = strconv.ParseUint(h.Get(hdrBatch), 10, 64); err != nil {
		return j, fmt.Errorf("%w: %s header: %v", ErrBadJob, hdrBatch, err)
	}
	if j.attempt, err = strconv.Atoi(h.Get(hdrAttempt)); err != nil {
		return j, fmt.Errorf("%w: %s header: %v", ErrBadJob, hdrAttempt, err)
	}
	if x := h.Get(hdrExclude); x != "" {
		j.exclude = strings.Split(x, ",")
	}
	return j, nil
}

// Result is a worker's answer to a job.
type Result struct {
	Circuit string `json:"circuit"`
	Batch   uint64 `json:"batch"`
	Attempt int    `json:"attempt"`
	Worker  string `json:"worker"`
	// Delivery is the job's delivery count when this worker took it (1 the
	// first time; more after a worker died or handed it back).
	Delivery uint64 `json:"delivery"`
	// Proof is the Groth16 proof in gnark's raw encoding; empty on failure.
	Proof []byte `json:"proof,omitempty"`
	// Error is why the worker could not prove the batch.
	Error string `json:"error,omitempty"`
	// ProveMillis is the worker's time to prove (and self-check) the batch;
	// QueueMillis the time from the job's publication to its start.
	ProveMillis float64 `json:"prove_ms"`
	QueueMillis float64 `json:"queue_ms"`
}

func (r *Result) msgID() string {
	return fmt.Sprintf("%s.b%d.a%d.%s.d%d", r.Circuit, r.Batch, r.Attempt, r.Worker, r.Delivery)
}

func decodeResult(b []byte) (*Result, error) {
	r := new(Result)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	return r, nil
}

// Heartbeat is a worker's periodic status, published on
// velox.workers.<circuit>.
type Heartbeat struct {
	Worker   string `json:"worker"`
	InFlight int    `json:"in_flight"`
	// Batch is the batch being proven, if InFlight > 0.
	Batch  uint64 `json:"batch,omitempty"`
	Proven uint64 `json:"proven"`
	Failed uint64 `json:"failed"`
}

// HeartbeatInterval is how often workers publish a Heartbeat; the node
// forgets a worker after three intervals without one.
const HeartbeatInterval = 2 * time.Second
