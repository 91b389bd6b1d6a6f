package settlement

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/veloxlabs/velox/ledger"
)

// Batch is a proven batch ready for L1.
type Batch struct {
	Number  uint64
	NewRoot [32]byte
	// Pubdata is the batch's pubdata (slots × 16 bytes).
	Pubdata []byte
	// Proof is the proof's calldata (ProofCalldata).
	Proof []byte
}

// SubmitterConfig configures a Submitter.
type SubmitterConfig struct {
	Rollup common.Address
	// FromBlock is the rollup's deployment block: where the search for
	// an already settled batch's BatchVerified event starts.
	FromBlock uint64
	// Key signs submitBatch; its address must be the contract's sequencer.
	Key *ecdsa.PrivateKey
	// StatePath is the file that keeps the in-flight transaction across
	// restarts (e.g. <datadir>/settlement/submitter.json).
	StatePath string
	// Confirmations: blocks on top of (and including) the one holding the
	// batch before Submit returns. Default 1.
	Confirmations uint64
	// PollInterval between receipt checks. Default 1s.
	PollInterval time.Duration
	// ResendAfter: a transaction not mined after this long is replaced
	// with higher fees. Default 30s.
	ResendAfter time.Duration
	// FeeBumpPercent raises both fee caps on a replacement (geth needs at
	// least 10). Default 25.
	FeeBumpPercent int64
	// MaxFeeCap bounds the fee cap per gas. Default 1000 gwei.
	MaxFeeCap *big.Int
	// Backoff is the first retry delay after a temporary error, doubled up
	// to 30s. Default 500ms.
	Backoff time.Duration
	// OnSent, if set, is called after each transaction is handed to the L1.
	OnSent func(batch uint64, tx common.Hash)
	Log    *slog.Logger
}

// Submitter settles proven batches on the rollup contract, one at a time
// and in order. It is idempotent across restarts: it reads the contract
// before sending (a settled batch is never sent again) and keeps the signed
// transaction of the batch in flight in StatePath, so a restarted
// submitter waits for (or rebroadcasts) it instead of sending another.
type Submitter struct {
	l1     L1
	rollup *Rollup
	cfg    SubmitterConfig
	from   common.Address
	signer types.Signer
	log    *slog.Logger

	// mu serializes Submit calls and guards the in-flight record.
	mu sync.Mutex
}

// inflight is the persisted transaction of the batch being settled: every
// fee version signed for one nonce, newest last.
type inflight struct {
	Batch uint64          `json:"batch"`
	Nonce uint64          `json:"nonce"`
	Txs   []hexutil.Bytes `json:"txs"`
}

// NewSubmitter returns a submitter for the rollup at cfg.Rollup.
func NewSubmitter(ctx context.Context, l1 L1, cfg SubmitterConfig) (*Submitter, error) {
	if cfg.Key == nil {
		return nil, errors.New("settlement: submitter needs a key")
	}
	if cfg.StatePath == "" {
		return nil, errors.New("settlement: submitter needs a state file")
	}
	if cfg.Confirmations == 0 {
		cfg.Confirmations = 1
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = 30 * time.Second
	}
	if cfg.FeeBumpPercent < 10 {
		cfg.FeeBumpPercent = 25
	}
	if cfg.MaxFeeCap == nil {
		cfg.MaxFeeCap = big.NewInt(1000 * params.GWei)
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	id, err := l1.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("settlement: chain id: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.StatePath), 0o755); err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	return &Submitter{l1: l1, rollup: NewRollup(l1, cfg.Rollup), cfg: cfg, from: crypto.PubkeyToAddress(cfg.Key.PublicKey),
		signer: types.LatestSignerForChainID(id), log: cfg.Log}, nil
}

// errTemporary marks errors worth retrying.
type errTemporary struct{ error }

func (e errTemporary) Unwrap() error { return e.error }

func temporary(err error) error {
	if err == nil {
		return nil
	}
	return errTemporary{err}
}

// Submit settles b and returns the receipt of the transaction that did it
// once it has cfg.Confirmations confirmations. A batch the contract already
// settled with the same root is not sent again (its receipt is returned).
// Temporary failures (RPC errors, a dropped or reorged-out transaction,
// a stuck one) are retried with backoff until ctx ends. Submit fails with
// ErrOutOfOrder if batch b-1 is not settled, ErrConflict if b's number was
// settled with another root, and ErrReverted (with the contract's reason)
// if the contract rejects the batch.
func (s *Submitter) Submit(ctx context.Context, b *Batch) (*types.Receipt, error) {
	if b == nil || b.Number == 0 {
		return nil, errors.New("settlement: no batch, or batch 0 (the genesis)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delay := s.cfg.Backoff
	for {
		rc, err := s.submitOnce(ctx, b)
		if err == nil {
			return rc, nil
		}
		var t errTemporary
		if !errors.As(err, &t) {
			return nil, err
		}
		s.log.Warn("batch submission retry", "batch", b.Number, "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("settlement: batch %d: %w (last error: %v)", b.Number, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

func (s *Submitter) submitOnce(ctx context.Context, b *Batch) (*types.Receipt, error) {
	st, err := s.rollup.State(ctx, nil)
	if err != nil {
		return nil, temporary(err)
	}
	if st.Number >= b.Number {
		return s.settled(ctx, b)
	}
	if st.Number+1 != b.Number {
		return nil, fmt.Errorf("%w: batch %d offered, contract is at %d", ErrOutOfOrder, b.Number, st.Number)
	}
	inf, err := s.load()
	if err != nil {
		return nil, err
	}
	if inf != nil && inf.Batch != b.Number {
		// A record of an earlier batch (settled: the contract is past
		// it) or of a later one (abandoned by a rollback): neither
		// applies.
		inf = nil
	}
	if inf != nil {
		if err := s.rebroadcast(ctx, inf); err != nil {
			if !errors.Is(err, errNonceUsed) {
				return nil, err
			}
			s.log.Warn("in-flight transaction's nonce is used by another transaction; sending anew", "batch", b.Number, "nonce", inf.Nonce)
			inf = nil
		}
	}
	if inf == nil {
		if inf, err = s.send(ctx, b); err != nil {
			return nil, err
		}
	}
	return s.wait(ctx, b, inf)
}

// settled handles a batch the contract already holds: it checks the root
// and returns the receipt of the settling transaction once confirmed.
func (s *Submitter) settled(ctx context.Context, b *Batch) (*types.Receipt, error) {
	logs, err := s.l1.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(s.cfg.FromBlock),
		Addresses: []common.Address{s.cfg.Rollup},
		Topics:    [][]common.Hash{{rollupABI.Events["BatchVerified"].ID}, {common.BigToHash(new(big.Int).SetUint64(b.Number))}},
	})
	if err != nil {
		return nil, temporary(fmt.Errorf("settlement: BatchVerified logs: %w", err))
	}
	if len(logs) == 0 {
		return nil, temporary(fmt.Errorf("settlement: batch %d settled but its BatchVerified event is not visible yet", b.Number))
	}
	l := logs[len(logs)-1]
	ev, err := s.rollup.b.UnpackBatchVerifiedEvent(&l)
	if err != nil {
		return nil, fmt.Errorf("settlement: BatchVerified event: %w", err)
	}
	if ev.NewRoot != b.NewRoot {
		return nil, fmt.Errorf("%w: batch %d has root %x on L1, offered %x", ErrConflict, b.Number, ev.NewRoot, b.NewRoot)
	}
	rc, err := s.l1.TransactionReceipt(ctx, l.TxHash)
	if err != nil {
		return nil, temporary(err)
	}
	if err := s.confirmed(ctx, rc); err != nil {
		return nil, err
	}
	if inf, _ := s.load(); inf != nil && inf.Batch <= b.Number {
		if err := s.store(nil); err != nil {
			return nil, err
		}
	}
	s.log.Info("batch already settled", "batch", b.Number, "tx", l.TxHash, "l1_block", rc.BlockNumber)
	return rc, nil
}

// confirmed returns nil when rc's block is canonical with enough blocks on
// top, and a temporary error otherwise.
func (s *Submitter) confirmed(ctx context.Context, rc *types.Receipt) error {
	head, err := s.l1.BlockNumber(ctx)
	if err != nil {
		return temporary(err)
	}
	if head+1 < rc.BlockNumber.Uint64()+s.cfg.Confirmations {
		return temporary(fmt.Errorf("settlement: %d of %d confirmations", head+1-rc.BlockNumber.Uint64(), s.cfg.Confirmations))
	}
	h, err := s.l1.HeaderByNumber(ctx, rc.BlockNumber)
	if err != nil {
		return temporary(err)
	}
	if h.Hash() != rc.BlockHash {
		return temporary(fmt.Errorf("settlement: block %d of tx %s was reorged out", rc.BlockNumber, rc.TxHash))
	}
	return nil
}

var errNonceUsed = errors.New("settlement: nonce already used")

func (s *Submitter) send(ctx context.Context, b *Batch) (*inflight, error) {
	data := s.rollup.SubmitBatchData(b)
	msg := ethereum.CallMsg{From: s.from, To: &s.cfg.Rollup, Data: data}
	gas, err := s.l1.EstimateGas(ctx, msg)
	if err != nil {
		if rerr := s.rollup.decodeRevert(err); errors.Is(rerr, ErrReverted) {
			return nil, fmt.Errorf("settlement: batch %d: %w", b.Number, rerr)
		}
		return nil, temporary(fmt.Errorf("settlement: estimating gas: %w", err))
	}
	nonce, err := s.l1.NonceAt(ctx, s.from, nil)
	if err != nil {
		return nil, temporary(err)
	}
	tip, feeCap, err := s.fees(ctx, nil)
	if err != nil {
		return nil, err
	}
	tx, err := types.SignNewTx(s.cfg.Key, s.signer, &types.DynamicFeeTx{
		Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas + gas/5, To: &s.cfg.Rollup, Data: data,
	})
	if err != nil {
		return nil, fmt.Errorf("settlement: signing: %w", err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, err
	}
	inf := &inflight{Batch: b.Number, Nonce: nonce, Txs: []hexutil.Bytes{raw}}
	// Persist first: a crash after sending must find the transaction.
	if err := s.store(inf); err != nil {
		return nil, err
	}
	if err := s.broadcast(ctx, b.Number, tx); err != nil {
		return nil, err
	}
	s.log.Info("batch sent", "batch", b.Number, "tx", tx.Hash(), "nonce", nonce, "gas", tx.Gas(), "tip", tip, "fee_cap", feeCap)
	return inf, nil
}

// fees returns the tip and fee cap for a new transaction, or for the
// replacement of prev: at least FeeBumpPercent above prev's.
func (s *Submitter) fees(ctx context.Context, prev *types.Transaction) (tip, feeCap *big.Int, err error) {
	tip, err = s.l1.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, temporary(err)
	}
	head, err := s.l1.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, temporary(err)
	}
	base := head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	feeCap = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	if prev != nil {
		bump := func(v *big.Int) *big.Int {
			r := new(big.Int).Mul(v, big.NewInt(100+s.cfg.FeeBumpPercent))
			return r.Div(r, big.NewInt(100))
		}
		if t := bump(prev.GasTipCap()); t.Cmp(tip) > 0 {
			tip = t
		}
		if f := bump(prev.GasFeeCap()); f.Cmp(feeCap) > 0 {
			feeCap = f
		}
	}
	if feeCap.Cmp(s.cfg.MaxFeeCap) > 0 {
		feeCap = new(big.Int).Set(s.cfg.MaxFeeCap)
	}
	if tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	return tip, feeCap, nil
}

func (s *Submitter) broadcast(ctx context.Context, batch uint64, tx *types.Transaction) error {
	err := s.l1.SendTransaction(ctx, tx)
	switch {
	case err == nil:
	case strings.Contains(err.Error(), "already known"):
		return nil
	case strings.Contains(err.Error(), "nonce too low"):
		return errNonceUsed
	default:
		return temporary(fmt.Errorf("settlement: sending batch %d: %w", batch, err))
	}
	if s.cfg.OnSent != nil {
		s.cfg.OnSent(batch, tx.Hash())
	}
	return nil
}

// rebroadcast hands the newest version of the in-flight transaction to the
// L1 again (after a restart, or when a reorg dropped it from the pool).
func (s *Submitter) rebroadcast(ctx context.Context, inf *inflight) error {
	for i := len(inf.Txs) - 1; i >= 0; i-- {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(inf.Txs[i]); err != nil {
			return fmt.Errorf("settlement: in-flight record: %w", err)
		}
		if rc, err := s.l1.TransactionReceipt(ctx, tx.Hash()); err == nil && rc != nil {
			return nil // mined
		}
	}
	last := new(types.Transaction)
	if err := last.UnmarshalBinary(inf.Txs[len(inf.Txs)-1]); err != nil {
		return fmt.Errorf("settlement: in-flight record: %w", err)
	}
	if _, pending, err := s.l1.TransactionByHash(ctx, last.Hash()); err == nil && pending {
		return nil
	}
	s.log.Info("rebroadcasting in-flight batch transaction", "batch", inf.Batch, "tx", last.Hash(), "nonce", inf.Nonce)
	return s.broadcast(ctx, inf.Batch, last)
}

// wait follows the in-flight transaction until one of its versions has
// enough confirmations, replacing it with higher fees when it is stuck and
// rebroadcasting it when the L1 lost it.
func (s *Submitter) wait(ctx context.Context, b *Batch, inf *inflight) (*types.Receipt, error) {
	lastSend := time.Now()
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		for i := len(inf.Txs) - 1; i >= 0; i-- {
			tx := new(types.Transaction)
			if err := tx.UnmarshalBinary(inf.Txs[i]); err != nil {
				return nil, fmt.Errorf("settlement: in-flight record: %w", err)
			}
			rc, err := s.l1.TransactionReceipt(ctx, tx.Hash())
			if (err != nil && receiptPending(err)) || (err == nil && rc == nil) {
				continue
			}
			if err != nil {
				return nil, temporary(err)
			}
			if rc.Status != types.ReceiptStatusSuccessful {
				_ = s.store(nil)
				return nil, fmt.Errorf("%w: batch %d in tx %s (block %d)", ErrReverted, b.Number, rc.TxHash, rc.BlockNumber)
			}
			if err := s.confirmed(ctx, rc); err != nil {
				var tmp errTemporary
				if errors.As(err, &tmp) && strings.Contains(err.Error(), "reorged out") {
					return nil, err
				}
				break // wait for more blocks
			}
			st, err := s.rollup.State(ctx, nil)
			if err != nil {
				return nil, temporary(err)
			}
			if st.Number < b.Number {
				return nil, temporary(fmt.Errorf("settlement: batch %d mined but the contract is at %d (reorg?)", b.Number, st.Number))
			}
			if err := s.store(nil); err != nil {
				return nil, err
			}
			s.log.Info("batch settled", "batch", b.Number, "tx", rc.TxHash, "l1_block", rc.BlockNumber, "gas_used", rc.GasUsed)
			return rc, nil
		}
		// Not mined (or not confirmed) yet.
		nonce, err := s.l1.NonceAt(ctx, s.from, nil)
		if err != nil {
			return nil, temporary(err)
		}
		if nonce > inf.Nonce && !s.anyMined(ctx, inf) {
			// Another transaction took the nonce; start over from the
			// contract's state.
			return nil, temporary(fmt.Errorf("settlement: nonce %d used by another transaction", inf.Nonce))
		}
		if nonce <= inf.Nonce {
			if err := s.rebroadcast(ctx, inf); err != nil && !errors.Is(err, errNonceUsed) {
				return nil, err
			}
			if time.Since(lastSend) > s.cfg.ResendAfter {
				if err := s.replace(ctx, b, inf); err != nil {
					return nil, err
				}
				lastSend = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("settlement: batch %d: %w", b.Number, ctx.Err())
		case <-t.C:
		}
	}
}

func (s *Submitter) anyMined(ctx context.Context, inf *inflight) bool {
	for _, raw := range inf.Txs {
		tx := new(types.Transaction)
		if tx.UnmarshalBinary(raw) != nil {
			continue
		}
		if rc, err := s.l1.TransactionReceipt(ctx, tx.Hash()); err == nil && rc != nil {
			return true
		}
	}
	return false
}

// replace signs the in-flight transaction again with bumped fees.
func (s *Submitter) replace(ctx context.Context, b *Batch, inf *inflight) error {
	prev := new(types.Transaction)
	if err := prev.UnmarshalBinary(inf.Txs[len(inf.Txs)-1]); err != nil {
		return fmt.Errorf("settlement: in-flight record: %w", err)
	}
	tip, feeCap, err := s.fees(ctx, prev)
	if err != nil {
		return err
	}
	if feeCap.Cmp(prev.GasFeeCap()) <= 0 {
		s.log.Warn("batch transaction stuck at the fee cap limit", "batch", b.Number, "fee_cap", feeCap)
		return nil
	}
	tx, err := types.SignNewTx(s.cfg.Key, s.signer, &types.DynamicFeeTx{
		Nonce: inf.Nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: prev.Gas(), To: prev.To(), Data: prev.Data(),
	})
	if err != nil {
		return fmt.Errorf("settlement: signing: %w", err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return err
	}
	inf.Txs = append(inf.Txs, raw)
	if err := s.store(inf); err != nil {
		return err
	}
	s.log.Info("replacing stuck batch transaction", "batch", b.Number, "tx", tx.Hash(), "tip", tip, "fee_cap", feeCap)
	if err := s.broadcast(ctx, b.Number, tx); err != nil && !errors.Is(err, errNonceUsed) {
		return err
	}
	return nil
}

// load reads the in-flight record; nil if there is none.
func (s *Submitter) load() (*inflight, error) {
	raw, err := os.ReadFile(s.cfg.StatePath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var inf inflight
	if err := json.Unmarshal(raw, &inf); err != nil {
		return nil, fmt.Errorf("settlement: submitter state %s: %w", s.cfg.StatePath, err)
	}
	if len(inf.Txs) == 0 {
		return nil, nil
	}
	return &inf, nil
}

// store replaces the in-flight record (nil clears it) atomically.
func (s *Submitter) store(inf *inflight) error {
	raw, err := json.Marshal(inf)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.cfg.StatePath, raw)
}

// writeFileAtomic writes data to a temporary file, syncs it and renames it
// over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("settlement: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("settlement: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("settlement: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("settlement: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("settlement: %w", err)
	}
	return nil
}

// Settle settles the batch of witness w with the proof calldata proof
// (ProofCalldata). It is Submit for the sequencer's Settler interface:
// idempotent, in order, nil once the batch is on L1 with enough
// confirmations.
func (s *Submitter) Settle(ctx context.Context, number uint64, proof []byte, w *ledger.BatchWitness) error {
	if w == nil || w.Number != number {
		return fmt.Errorf("settlement: witness does not belong to batch %d", number)
	}
	_, err := s.Submit(ctx, &Batch{Number: number, NewRoot: w.NewRoot.Bytes(), Pubdata: w.Pubdata, Proof: proof})
	return err
}
