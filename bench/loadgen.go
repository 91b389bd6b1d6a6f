package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// The RPC benchmark's load generator runs in a child process, as a real
// client would: in the node's process its sender goroutine queued behind
// the node's goroutines (late sends) and its CPU was counted as the node's.
// The child is the running executable again, started with loadgenEnv set
// to the path of its job file; LoadgenMain makes it the generator.
const loadgenEnv = "VELOX_BENCH_LOADGEN"

// loadgenJob is the child's job file.
type loadgenJob struct {
	URL      string `json:"url"`
	Rate     int    `json:"rate"`
	Requests string `json:"requests"` // prepared requests, each a big-endian uint32 length and the bytes
	Conns    int    `json:"conns"`
	Results  string `json:"results"` // where the child writes its loadgenResult
}

// loadgenResult is what the child measured, written to the job's Results.
type loadgenResult struct {
	Latency []int64 `json:"latency_ns"` // per request, from its scheduled time to its response
	// SendDelay is, per request, the time from its schedule to its send
	// (the generator's own lateness, included in Latency).
	SendDelay []int64 `json:"send_delay_ns"`
	OK        []bool  `json:"ok"`
	Errors    int     `json:"errors"`
	FirstErr  string  `json:"first_err,omitempty"`
	Late      int     `json:"late_sends"` // requests sent more than 1 ms after their scheduled time
	LastDone  int64   `json:"last_done_ns"`
	CPU       int64   `json:"cpu_ns"`        // the child's CPU during the sending loop
	Start     int64   `json:"start_unix_ns"` // when request 0 was scheduled
}

// LoadgenMain makes this process the RPC benchmark's load generator child
// if it was started as one (the VELOX_BENCH_LOADGEN environment variable
// is set): it runs the job and exits the process. Otherwise it returns at
// once. Every binary that runs the sequencer suite (the velox command, the
// bench package's tests) must call it first thing in main or TestMain.
func LoadgenMain() {
	path := os.Getenv(loadgenEnv)
	if path == "" {
		return
	}
	if err := loadgenChild(path); err != nil {
		fmt.Fprintln(os.Stderr, "velox load generator:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func loadgenChild(path string) error {
	var job loadgenJob
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &job); err != nil {
		return fmt.Errorf("job %s: %w", path, err)
	}
	if data, err = os.ReadFile(job.Requests); err != nil {
		return err
	}
	var reqs [][]byte
	for len(data) > 0 {
		if len(data) < 4 || uint64(len(data)-4) < uint64(binary.BigEndian.Uint32(data)) {
			return fmt.Errorf("%s: truncated request %d", job.Requests, len(reqs))
		}
		n := 4 + int(binary.BigEndian.Uint32(data))
		reqs, data = append(reqs, data[4:n]), data[n:]
	}
	lc, err := newLoadClient(job.URL, job.Conns)
	if err != nil {
		return err
	}
	defer lc.close()
	// The parent holds the write end of our stdin open while it waits for
	// us: EOF means it is gone, and its load generator must not outlive it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // ends with the process
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	res := sendOpenLoop(ctx, lc, reqs, job.Rate)
	if ctx.Err() != nil {
		return errors.New("the benchmark process is gone")
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(job.Results, out, 0o600)
}

// sendOpenLoop sends the prepared requests (postRequest) open-loop
// at rate per second: request i is scheduled at start + i/rate and sent on
// its own goroutine at that time over lc's pool of keep-alive connections;
// its latency runs from the scheduled time (not the actual send) to the
// response, so a stalled server or generator shows up in the latency
// instead of lowering the offered load (no coordinated omission). A
// request counts as OK if its response is HTTP 200 with a JSON-RPC result
// of status "ok".
func sendOpenLoop(ctx context.Context, lc *loadClient, reqs [][]byte, rate int) loadgenResult {
	n := len(reqs)
	res := loadgenResult{Latency: make([]int64, n), SendDelay: make([]int64, n), OK: make([]bool, n)}
	var (
		errMu    sync.Mutex
		firstErr error
		nerr     atomic.Int64
		late     atomic.Int64
		lastDone atomic.Int64
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		nerr.Add(1)
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	interval := float64(time.Second) / float64(rate)
	cpu0 := cpuTime()
	start := time.Now().Add(time.Millisecond)
	res.Start = start.UnixNano()
	for i := 0; i < n; {
		now := time.Now()
		for ; i < n; i++ {
			at := start.Add(time.Duration(float64(i) * interval))
			if at.After(now) {
				break
			}
			if now.Sub(at) > time.Millisecond {
				late.Add(1)
			}
			i := i
			wg.Go(func() {
				res.SendDelay[i] = int64(time.Since(at))
				defer func() {
					t := time.Now()
					res.Latency[i] = int64(t.Sub(at))
					for {
						l := lastDone.Load()
						if t.UnixNano() <= l || lastDone.CompareAndSwap(l, t.UnixNano()) {
							break
						}
					}
				}()
				code, body, err := lc.do(ctx, reqs[i])
				switch {
				case err != nil:
					fail(err)
				case code != http.StatusOK:
					fail(fmt.Errorf("HTTP %d: %s", code, body))
				case bytes.Contains(body, []byte(`"error":`)) || !bytes.Contains(body, []byte(`"status":"ok"`)):
					fail(fmt.Errorf("response %s", body))
				default:
					res.OK[i] = true
				}
			})
		}
		if i < n {
			sleepUntil(start.Add(time.Duration(float64(i) * interval)))
		}
	}
	wg.Wait()
	res.CPU = int64(cpuTime() - cpu0)
	res.Errors, res.Late = int(nerr.Load()), int(late.Load())
	if firstErr != nil {
		res.FirstErr = firstErr.Error()
	}
	if l := lastDone.Load(); l > 0 {
		res.LastDone = l - start.UnixNano()
	}
	return res
}

// runLoadgen sends reqs to url open-loop at rate (sendOpenLoop) from a load
// generator child process (see LoadgenMain) and returns what it measured:
// prepareLoadgen, then loadgenRun.run and loadgenRun.result.
func runLoadgen(ctx context.Context, url string, reqs [][]byte, rate int) (loadgenResult, error) {
	lj, err := prepareLoadgen(url, reqs, rate)
	if err != nil {
		return loadgenResult{}, err
	}
	defer lj.close()
	if err := lj.run(ctx); err != nil {
		return loadgenResult{}, err
	}
	return lj.result()
}

// loadgenRun is a load generator job written to disk, ready to run.
type loadgenRun struct {
	dir, jobPath, results string
	n                     int
}

// prepareLoadgen writes the job of sending reqs to url at rate: done
// before a measurement starts, so that the caller's CPU accounting covers
// only the child's run.
func prepareLoadgen(url string, reqs [][]byte, rate int) (*loadgenRun, error) {
	dir, err := os.MkdirTemp("", "velox-loadgen-")
	if err != nil {
		return nil, err
	}
	lj := &loadgenRun{dir: dir, jobPath: filepath.Join(dir, "job.json"), results: filepath.Join(dir, "results.json"), n: len(reqs)}
	size := 0
	for _, r := range reqs {
		size += 4 + len(r)
	}
	buf := make([]byte, 0, size)
	for _, r := range reqs {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(r)))
		buf = append(buf, r...)
	}
	job := loadgenJob{URL: url, Rate: rate, Requests: filepath.Join(dir, "requests"), Conns: rpcConns, Results: lj.results}
	jobData, err := json.Marshal(job)
	if err == nil {
		err = os.WriteFile(job.Requests, buf, 0o600)
	}
	if err == nil {
		err = os.WriteFile(lj.jobPath, jobData, 0o600)
	}
	if err != nil {
		lj.close()
		return nil, err
	}
	return lj, nil
}

func (lj *loadgenRun) close() { os.RemoveAll(lj.dir) }

// run runs the job in a child process. The child is a fresh process, so
// the first requests also open its connection pool: the caller leaves a
// warm-up out of the statistics. The child is killed if ctx ends, and
// always reaped; run fails if the child exits non-zero, with the tail of
// its output.
func (lj *loadgenRun) run(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// The child's stdin: we hold the write end until it has exited, so it
	// sees EOF (and stops) only if this process dies first.
	stdin, stdinW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer stdinW.Close()
	cmd := exec.CommandContext(ctx, exe) // killed (SIGKILL) when ctx ends
	cmd.Env = append(os.Environ(), loadgenEnv+"="+lj.jobPath)
	cmd.Stdin = stdin
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	stdin.Close() // the child has its own copy
	if err != nil {
		return fmt.Errorf("bench: starting the load generator: %w", err)
	}
	if err := cmd.Wait(); err != nil { // reaps the child on every path
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("bench: load generator: %w: %s", err, bytes.TrimSpace(stderr.b))
	}
	return nil
}

// result reads what the finished child measured.
func (lj *loadgenRun) result() (loadgenResult, error) {
	var res loadgenResult
	out, err := os.ReadFile(lj.results)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, err
	}
	if len(res.Latency) != lj.n || len(res.OK) != lj.n {
		return res, fmt.Errorf("bench: load generator reported %d of %d requests", len(res.Latency), lj.n)
	}
	return res, nil
}

// tailBuffer keeps the last 4 KiB written to it: enough of a failed
// child's stderr to say why.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - 4096; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}
