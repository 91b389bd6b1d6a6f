package sequencer

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// Benchmark parameters of BenchLatency.
const (
	benchDepth   = 24
	benchSlots   = 256
	benchUsers   = 64
	benchChainID = 1
)

// BenchLatency measures preconfirmation latency in process: it opens a
// fresh store in dir (synced Pebble writes), starts a sequencer with the
// default block time, funds benchUsers accounts through deposits and
// ChangePubKey, then submits n pre-signed transfers open-loop at rate
// transactions per second (each on its own goroutine at its scheduled
// time) and measures each Submit call until its preconfirmation. It
// returns the latency percentiles and the achieved rate (n divided by the
// time from the first submission to the last preconfirmation). No prover
// is attached; batches are cut (witness built) as in production. The
// numbers exclude JSON-RPC.
func BenchLatency(ctx context.Context, dir string, rate, n int) (p50, p99, p999 time.Duration, achievedTPS float64, err error) {
	if rate <= 0 || n <= 0 {
		return 0, 0, 0, 0, fmt.Errorf("%w: rate %d, n %d", ErrConfig, rate, n)
	}
	st, err := state.Open(dir, state.Options{Depth: benchDepth})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(uint64(rate), uint64(n)))
	key, err := ecdsa.GenerateKey(crypto.S256(), randReader{rng})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	src := &benchQueue{}
	seq, err := New(st, Config{
		Params: ledger.Params{ChainID: benchChainID, Depth: benchDepth}, Key: key,
		FeeOwner: common.Address{0xfe}, Slots: benchSlots, BatchTimeout: time.Second,
		PriorityOps: src, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if err := seq.Start(ctx); err != nil {
		return 0, 0, 0, 0, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, seq.Stop(stopCtx))
	}()
	users, err := benchFund(ctx, seq, src, rng)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	raws := make([][]byte, n)
	for i := range raws {
		u, to := users[i%len(users)], users[(i+1)%len(users)]
		tx := &ledger.Tx{Type: ledger.TxTransfer, Account: u.index, To: to.addr, Nonce: u.nonce}
		u.nonce++
		tx.Amount.SetUint64(1000)
		tx.Fee.SetUint64(1)
		if err := tx.SignL2(u.l2, benchChainID); err != nil {
			return 0, 0, 0, 0, err
		}
		raws[i] = tx.Encode()
	}

	lats := make([]time.Duration, n)
	errs := make([]error, n)
	var last time.Time
	var lastMu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i, raw := range raws {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			t0 := time.Now()
			pre, err := seq.Submit(ctx, raw)
			lats[i] = time.Since(t0)
			if err == nil && pre.Receipt.Err != nil {
				err = pre.Receipt.Err
			}
			errs[i] = err
			lastMu.Lock()
			if now := time.Now(); now.After(last) {
				last = now
			}
			lastMu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, 0, 0, err
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
	return pct(0.50), pct(0.99), pct(0.999), float64(n) / last.Sub(start).Seconds(), nil
}

type benchUser struct {
	eth   *ecdsa.PrivateKey
	addr  common.Address
	l2    *ledger.PrivateKey
	index uint32
	nonce uint32
}

type randReader struct{ r *rand.Rand }

func (r randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// benchQueue is an in-memory L1 priority queue.
type benchQueue struct {
	mu  sync.Mutex
	ops []PriorityOp
}

func (q *benchQueue) Pending(_ context.Context, from uint64, max int) ([]PriorityOp, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if from >= uint64(len(q.ops)) {
		return nil, nil
	}
	return slices.Clone(q.ops[from:min(uint64(len(q.ops)), from+uint64(max))]), nil
}

func benchFund(ctx context.Context, seq *Sequencer, q *benchQueue, rng *rand.Rand) ([]*benchUser, error) {
	users := make([]*benchUser, benchUsers)
	q.mu.Lock()
	for i := range users {
		k, err := ecdsa.GenerateKey(crypto.S256(), randReader{rng})
		if err != nil {
			q.mu.Unlock()
			return nil, err
		}
		l2, err := ledger.DeriveKey(k, benchChainID)
		if err != nil {
			q.mu.Unlock()
			return nil, err
		}
		u := &benchUser{eth: k, addr: crypto.PubkeyToAddress(k.PublicKey), l2: l2}
		users[i] = u
		q.ops = append(q.ops, PriorityOp{Deposit: ledger.Deposit{ID: uint64(i), Address: u.addr, Amount: *uint256.NewInt(1 << 60)}})
	}
	q.mu.Unlock()
	for _, u := range users {
		for {
			idx, _, err := seq.AccountByAddress(u.addr)
			if err == nil {
				u.index = idx
				break
			}
			if !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(users))
	for i, u := range users {
		pk := u.l2.Public()
		h, err := pk.Hash()
		if err != nil {
			return nil, err
		}
		tx := &ledger.Tx{Type: ledger.TxChangePubKey, Account: u.index, NewPubKeyHash: h}
		if err := tx.SignChangePubKey(u.eth, benchChainID); err != nil {
			return nil, err
		}
		u.nonce = 1
		wg.Go(func() {
			pre, err := seq.Submit(ctx, tx.Encode())
			if err == nil && pre.Receipt.Err != nil {
				err = pre.Receipt.Err
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return users, errors.Join(errs...)
}
