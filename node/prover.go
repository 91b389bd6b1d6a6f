package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/nats-io/nats.go"

	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/dist"
	"github.com/veloxlabs/velox/sequencer"
	"github.com/veloxlabs/velox/settlement"
)

// proving is the node's side of proving: batches go to the NATS JetStream
// job queue (an embedded server by default), results come back verified,
// and a local worker proves on this machine unless disabled. Workers on
// other machines (`velox prover`) take jobs from the same queue.
type proving struct {
	srv   *dist.Server // nil with an external NATS
	url   string
	nc    *nats.Conn
	d     *dist.Dispatcher
	local *dist.Worker
	keys  *prover.Keys
}

// startProving connects the queue; seq is set later with setSequencer.
func (n *Node) startProving(ctx context.Context) (*proving, error) {
	cfg := &n.cfg
	p := &proving{keys: n.keys, url: cfg.NATS.URL}
	if p.url == "" {
		var err error
		if p.srv, err = dist.StartServer(dist.ServerConfig{Dir: filepath.Join(cfg.DataDir, "nats"), Addr: cfg.NATS.Addr,
			Log: n.log.With("component", "nats")}); err != nil {
			return nil, err
		}
		p.url = p.srv.URL()
	}
	nc, err := dist.Connect(p.url, "velox-node")
	if err != nil {
		p.close()
		return nil, err
	}
	p.nc = nc
	p.d, err = dist.NewDispatcher(ctx, dist.DispatcherConfig{Conn: nc, Keys: n.keys, KeyDir: cfg.KeyDir,
		OnProof: n.onProof, AckWait: cfg.NATS.AckWait, Metrics: n.m, Log: n.log})
	if err != nil {
		p.close()
		return nil, err
	}
	if !cfg.NATS.NoLocalProver {
		host, _ := os.Hostname()
		if p.local, err = dist.NewWorker(dist.WorkerConfig{Conn: nc, ID: fmt.Sprintf("%s-%d-local", host, os.Getpid()),
			Keys: []*prover.Keys{n.keys}, Log: n.log}); err != nil {
			p.close()
			return nil, err
		}
	}
	return p, nil
}

// run serves the queue until ctx ends.
func (p *proving) run(ctx context.Context, log *slog.Logger) {
	done := make(chan struct{})
	if p.local != nil {
		go func() {
			defer close(done)
			if err := p.local.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("local prover worker", "err", err)
			}
		}()
	} else {
		close(done)
	}
	if err := p.d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("proving queue", "err", err)
	}
	<-done
}

func (p *proving) close() {
	if p.nc != nil {
		p.nc.Close()
	}
	if p.srv != nil {
		p.srv.Close()
	}
}

// onProof records a verified proof with the sequencer, which settles
// batches in order.
func (n *Node) onProof(ctx context.Context, batch uint64, proof groth16.Proof) error {
	calldata, err := settlement.ProofCalldata(proof)
	if err != nil {
		return err
	}
	return n.seq.Proven(ctx, batch, calldata)
}

var _ sequencer.Prover = (*dist.Dispatcher)(nil)

func (p *proving) status() ProverStatusJSON {
	s := p.d.Status()
	out := ProverStatusJSON{Circuit: p.keys.Config.String(), Slots: p.keys.Config.Slots, Depth: p.keys.Config.Depth, DevKeys: p.keys.Dev,
		InFlight: s.InFlight, Queued: s.Pending, Waiting: s.Waiting, Proven: s.Proven, Failed: uint64(len(s.Parked)),
		LastError: s.LastError, Queue: p.url, Duplicates: s.Duplicates, Redeliveries: s.Redeliveries, Rejected: s.Rejected,
		Workers: []WorkerJSON{}, Parked: []ParkedJobJSON{}}
	if p.srv != nil {
		out.Queue = "embedded " + p.url
	}
	if s.LastBatch != nil {
		out.LastBatch = u64p(*s.LastBatch)
		out.LastProveSeconds = s.LastProve.Seconds()
	}
	for _, w := range s.Workers {
		wj := WorkerJSON{ID: w.ID, InFlight: w.InFlight, Proven: w.Proven, Failed: w.Failed, LastSeen: w.LastSeen.UTC().Truncate(time.Millisecond)}
		if w.InFlight > 0 {
			wj.Batch = u64p(w.Batch)
		}
		out.Workers = append(out.Workers, wj)
	}
	for _, j := range s.Parked {
		out.Parked = append(out.Parked, ParkedJobJSON{Batch: hexutil.Uint64(j.Batch), Attempts: j.Attempts, Reason: j.Reason, At: j.At.UTC()})
	}
	return out
}
