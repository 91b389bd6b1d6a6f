package node

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/sequencer"
	"github.com/veloxlabs/velox/settlement"
	"github.com/veloxlabs/velox/state"
)

// Deployment records the contracts the node deployed on its L1, in
// DataDir/deployment.json, so that they are deployed once.
type Deployment struct {
	L1ChainID   uint64         `json:"l1ChainId"`
	Verifier    common.Address `json:"verifier"`
	Rollup      common.Address `json:"rollup"`
	Block       uint64         `json:"block"`
	Circuit     string         `json:"circuit"`
	CircuitHash string         `json:"circuitHash"`
	Sequencer   common.Address `json:"sequencer"`
}

// deploy loads the deployment record, or deploys the verifier of k and the
// rollup contract (genesis: the tree root of st) and records them.
func deploy(ctx context.Context, path string, l1 settlement.L1, from settlement.Account, k *prover.Keys, st *state.Store,
	seqAddr common.Address, cfg *Config) (*Deployment, error) {
	id, err := l1.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: L1 chain id: %w", err)
	}
	hash := hex.EncodeToString(k.CircuitHash[:])
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		var d Deployment
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("node: deployment record %s: %w", path, err)
		}
		if d.L1ChainID != id.Uint64() {
			return nil, fmt.Errorf("node: %s is a deployment on L1 chain %d, the L1 is chain %d (use another data directory)", path, d.L1ChainID, id)
		}
		if d.CircuitHash != hash || d.Sequencer != seqAddr {
			return nil, fmt.Errorf("node: %s was deployed for circuit %s and sequencer %v, the node runs %v and %v (use another data directory)",
				path, d.Circuit, d.Sequencer, k.Config, seqAddr)
		}
		code, err := l1.CodeAt(ctx, d.Rollup, nil)
		if err != nil {
			return nil, fmt.Errorf("node: reading the rollup contract: %w", err)
		}
		if len(code) == 0 {
			return nil, fmt.Errorf("node: no rollup contract at %v on the L1 (was the L1 reset?); remove %s to deploy anew", d.Rollup, path)
		}
		return &d, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("node: %w", err)
	}
	head, err := l1.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: L1 head: %w", err)
	}
	art, err := settlement.CompileVerifier(ctx, k)
	if err != nil {
		return nil, err
	}
	vaddr, err := settlement.Deploy(ctx, l1, from, art.Bin, nil)
	if err != nil {
		return nil, fmt.Errorf("node: deploying the verifier: %w", err)
	}
	tree := st.Tree()
	raddr, err := settlement.DeployRollup(ctx, l1, from, settlement.RollupConfig{Verifier: vaddr, Sequencer: seqAddr, ChainID: cfg.ChainID,
		GenesisRoot: tree.Root(), GenesisNumber: tree.Number(), PriorityDeadline: cfg.L1.PriorityDeadline, Depth: tree.Depth()})
	if err != nil {
		return nil, fmt.Errorf("node: deploying the rollup: %w", err)
	}
	d := &Deployment{L1ChainID: id.Uint64(), Verifier: vaddr, Rollup: raddr, Block: head, Circuit: k.Config.String(), CircuitHash: hash, Sequencer: seqAddr}
	raw, err = json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, raw, 0o644); err != nil {
		return nil, err
	}
	return d, nil
}

// fund tops up addr from `from` on the development L1 so that it can pay
// for batch submissions.
func fund(ctx context.Context, l1 settlement.L1, from *ecdsa.PrivateKey, to common.Address) error {
	min := new(big.Int).Mul(big.NewInt(10), big.NewInt(params.Ether))
	bal, err := l1.BalanceAt(ctx, to, nil)
	if err != nil {
		return fmt.Errorf("node: sequencer L1 balance: %w", err)
	}
	if bal.Cmp(min) >= 0 {
		return nil
	}
	id, err := l1.ChainID(ctx)
	if err != nil {
		return err
	}
	fromAddr := crypto.PubkeyToAddress(from.PublicKey)
	nonce, err := l1.PendingNonceAt(ctx, fromAddr)
	if err != nil {
		return err
	}
	head, err := l1.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(params.GWei))
	tx, err := types.SignNewTx(from, types.LatestSignerForChainID(id), &types.DynamicFeeTx{
		Nonce: nonce, GasTipCap: big.NewInt(params.GWei), GasFeeCap: feeCap, Gas: 21000, To: &to,
		Value: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether)),
	})
	if err != nil {
		return err
	}
	if err := l1.SendTransaction(ctx, tx); err != nil {
		return fmt.Errorf("node: funding the sequencer on L1: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := settlement.WaitMined(wctx, l1, tx.Hash()); err != nil {
		return fmt.Errorf("node: funding the sequencer on L1: %w", err)
	}
	return nil
}

// depositLog is the sequencer's source of priority operations. The L1
// watcher delivers each deposit once (its cursor moves past it), so the
// log keeps every deposit in DataDir/deposits.jsonl (appended and synced
// before the watcher moves on): the sequencer may need them again after a
// restart, from the priority ID of its last mini-block.
type depositLog struct {
	path string
	// deadline is how long a deposit may wait, from its arrival.
	deadline time.Duration
	mu       struct {
		sync.Mutex
		// ops[i] has ID i; guarded by mu.
		ops []sequencer.PriorityOp
	}
}

type depositRecord struct {
	ID       uint64         `json:"id"`
	Address  common.Address `json:"address"`
	Amount   string         `json:"amount"`
	Deadline time.Time      `json:"deadline"`
}

var _ sequencer.PriorityOps = (*depositLog)(nil)

func openDepositLog(path string, deadline time.Duration) (*depositLog, error) {
	l := &depositLog{path: path, deadline: deadline}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r depositRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break // a torn last line: the watcher delivers that deposit again
		}
		amt, ok := new(big.Int).SetString(r.Amount, 10)
		if !ok || r.ID != uint64(len(l.mu.ops)) {
			return nil, fmt.Errorf("node: deposit log %s: record %d is corrupt", path, len(l.mu.ops))
		}
		op := sequencer.PriorityOp{Deposit: ledger.Deposit{ID: r.ID, Address: r.Address}, Deadline: r.Deadline}
		if op.Deposit.Amount.SetFromBig(amt) {
			return nil, fmt.Errorf("node: deposit log %s: amount of %d overflows", path, r.ID)
		}
		l.mu.ops = append(l.mu.ops, op)
	}
	return l, sc.Err()
}

// add appends d (a repeat of a known ID is ignored) and syncs the log.
func (l *depositLog) add(d ledger.Deposit) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := uint64(len(l.mu.ops))
	if d.ID < n {
		return nil
	}
	if d.ID > n {
		return fmt.Errorf("node: deposit %d arrived before deposit %d", d.ID, n)
	}
	op := sequencer.PriorityOp{Deposit: d, Deadline: time.Now().Add(l.deadline)}
	raw, err := json.Marshal(depositRecord{ID: d.ID, Address: d.Address, Amount: d.Amount.Dec(), Deadline: op.Deadline})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	_, werr := f.Write(append(raw, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("node: deposit log: %w", err)
	}
	l.mu.ops = append(l.mu.ops, op)
	return nil
}

// Pending implements sequencer.PriorityOps.
func (l *depositLog) Pending(_ context.Context, from uint64, max int) ([]sequencer.PriorityOp, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from >= uint64(len(l.mu.ops)) || max <= 0 {
		return nil, nil
	}
	out := l.mu.ops[from:]
	if len(out) > max {
		out = out[:max]
	}
	return append([]sequencer.PriorityOp(nil), out...), nil
}

// settler implements sequencer.Settler with the settlement Submitter.
type settler struct {
	sub    *settlement.Submitter
	m      *metrics
	exodus *atomic.Pointer[exodusInfo]
}

// errExodus: the rollup contract accepts no batches any more.
var errExodus = errors.New("node: the L1 rollup is in exodus mode; batches can no longer settle")

var _ sequencer.Settler = (*settler)(nil)

// Settle submits batch n and waits for its confirmations; the Submitter is
// idempotent (a batch the contract holds is not sent again).
func (s *settler) Settle(ctx context.Context, n uint64, proof []byte, w *ledger.BatchWitness) error {
	if s.exodus.Load() != nil {
		return errExodus // sending would only burn gas
	}
	start := time.Now()
	_, err := s.sub.Submit(ctx, &settlement.Batch{Number: n, NewRoot: w.NewRoot.Bytes(), Pubdata: w.Pubdata, Proof: proof})
	if err != nil {
		s.m.l1Submissions.WithLabelValues("error").Inc()
		return err
	}
	s.m.l1Submissions.WithLabelValues("ok").Inc()
	s.m.l1Submit.Observe(time.Since(start).Seconds())
	return nil
}

// writeFileAtomic writes data to a synced temporary file renamed over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("node: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("node: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("node: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// loadOrCreateKey reads the sequencer's secp256k1 key (hex) from path, or
// generates one and writes it with 0600 permissions.
func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("node: sequencer key %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
		}
		k, err := crypto.HexToECDSA(string(bytes.TrimSpace(raw)))
		if err != nil {
			return nil, fmt.Errorf("node: sequencer key %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("node: %w", err)
	}
	k, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("node: generating the sequencer key: %w", err)
	}
	if err := writeFileAtomic(path, []byte(hex.EncodeToString(crypto.FromECDSA(k))+"\n"), 0o600); err != nil {
		return nil, err
	}
	return k, nil
}
