package node

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/sequencer"
)

// The JSON shapes of the API (docs/RPC.md). Quantities are hex strings as
// in Ethereum's API; field elements (roots, key hashes) are 32-byte
// big-endian hex.

// HeaderJSON is a signed mini-block header.
type HeaderJSON struct {
	ChainID     hexutil.Uint64 `json:"chainId"`
	Number      hexutil.Uint64 `json:"number"`
	ParentHash  common.Hash    `json:"parentHash"`
	TimeMicros  hexutil.Uint64 `json:"timestamp"`
	Batch       hexutil.Uint64 `json:"batch"`
	TxRoot      common.Hash    `json:"transactionsRoot"`
	ReceiptRoot common.Hash    `json:"receiptsRoot"`
}

// OpJSON is an executed operation.
type OpJSON struct {
	Type       string          `json:"type"`
	Account    hexutil.Uint64  `json:"account"`
	To         *hexutil.Uint64 `json:"to,omitempty"`
	Address    *common.Address `json:"address,omitempty"`
	Amount     *hexutil.Big    `json:"amount,omitempty"`
	Fee        *hexutil.Big    `json:"fee,omitempty"`
	Nonce      *hexutil.Uint64 `json:"nonce,omitempty"`
	PriorityID *hexutil.Uint64 `json:"priorityId,omitempty"`
}

// ReceiptJSON is an entry's outcome. Status is "ok" or "failed"; a failed
// receipt names the ledger rule.
type ReceiptJSON struct {
	TxHash   common.Hash    `json:"transactionHash"`
	Block    hexutil.Uint64 `json:"blockNumber"`
	Position hexutil.Uint64 `json:"position"`
	Batch    hexutil.Uint64 `json:"batch"`
	Status   string         `json:"status"`
	Error    string         `json:"error,omitempty"`
	Rule     string         `json:"rule,omitempty"`
	Op       *OpJSON        `json:"op,omitempty"`
}

// PreconfirmationJSON is velox_sendTransaction's result.
type PreconfirmationJSON struct {
	Receipt    ReceiptJSON    `json:"receipt"`
	Header     HeaderJSON     `json:"header"`
	HeaderHash common.Hash    `json:"headerHash"`
	Signature  hexutil.Bytes  `json:"signature"`
	Sequencer  common.Address `json:"sequencer"`
}

// TxStatusJSON is a transaction's place on the finality ladder: queued,
// preconfirmed, proven, finalized or failed.
type TxStatusJSON struct {
	Hash     common.Hash     `json:"hash"`
	Status   string          `json:"status"`
	Block    *hexutil.Uint64 `json:"blockNumber,omitempty"`
	Position *hexutil.Uint64 `json:"position,omitempty"`
	Batch    *hexutil.Uint64 `json:"batch,omitempty"`
	Error    string          `json:"error,omitempty"`
	Rule     string          `json:"rule,omitempty"`
}

// EntryJSON is a mini-block entry: an L2 transaction (raw) or a deposit.
type EntryJSON struct {
	Hash    common.Hash   `json:"hash"`
	Raw     hexutil.Bytes `json:"raw,omitempty"`
	Deposit *DepositJSON  `json:"deposit,omitempty"`
}

// DepositJSON is an L1 deposit.
type DepositJSON struct {
	ID      hexutil.Uint64 `json:"id"`
	Address common.Address `json:"address"`
	Amount  *hexutil.Big   `json:"amount"`
}

// MiniBlockJSON is a committed mini-block.
type MiniBlockJSON struct {
	Header       HeaderJSON    `json:"header"`
	Hash         common.Hash   `json:"hash"`
	Signature    hexutil.Bytes `json:"signature"`
	CutAfter     bool          `json:"cutAfter"`
	Transactions []EntryJSON   `json:"transactions"`
	Receipts     []ReceiptJSON `json:"receipts"`
}

// BatchJSON is a cut proving batch.
type BatchJSON struct {
	Number      hexutil.Uint64 `json:"number"`
	Status      string         `json:"status"`
	OldRoot     common.Hash    `json:"oldRoot"`
	NewRoot     common.Hash    `json:"newRoot"`
	FirstBlock  hexutil.Uint64 `json:"firstBlock"`
	LastBlock   hexutil.Uint64 `json:"lastBlock"`
	Ops         []common.Hash  `json:"operations"`
	UsedChunks  hexutil.Uint64 `json:"usedChunks"`
	PriorityOps hexutil.Uint64 `json:"priorityOps"`
	FeeTotal    *hexutil.Big   `json:"feeTotal"`
	Pubdata     hexutil.Bytes  `json:"pubdata"`
	Proof       hexutil.Bytes  `json:"proof,omitempty"`
	CutAt       int64          `json:"cutAtMs"`
	ProvenAt    int64          `json:"provenAtMs,omitempty"`
}

// AccountJSON is velox_getAccount's result: the latest (preconfirmed)
// account and a Merkle proof of its leaf in the account tree as of the
// last cut batch (the tree lags the preconfirmed state by at most a batch).
type AccountJSON struct {
	Index      hexutil.Uint64 `json:"index"`
	Address    common.Address `json:"address"`
	PubKeyHash common.Hash    `json:"pubKeyHash"`
	Nonce      hexutil.Uint64 `json:"nonce"`
	Balance    *hexutil.Big   `json:"balance"`
	Proof      ProofJSON      `json:"proof"`
}

// ProofJSON proves Account at Index under Root, the tree root after batch
// Batch: siblings bottom-up (state.VerifyProof).
type ProofJSON struct {
	Batch    hexutil.Uint64 `json:"batch"`
	Root     common.Hash    `json:"root"`
	Account  LeafJSON       `json:"account"`
	Siblings []common.Hash  `json:"siblings"`
}

// LeafJSON is an account as the tree holds it.
type LeafJSON struct {
	Address    common.Address `json:"address"`
	PubKeyHash common.Hash    `json:"pubKeyHash"`
	Nonce      hexutil.Uint64 `json:"nonce"`
	Balance    *hexutil.Big   `json:"balance"`
}

// ProverStatusJSON is velox_proverStatus's result.
type ProverStatusJSON struct {
	Circuit          string          `json:"circuit"`
	Slots            int             `json:"slots"`
	Depth            int             `json:"depth"`
	DevKeys          bool            `json:"devKeys"`
	InFlight         int             `json:"inFlight"`
	Queued           int             `json:"queued"`
	Proven           uint64          `json:"proven"`
	Failed           uint64          `json:"failed"`
	LastBatch        *hexutil.Uint64 `json:"lastBatch,omitempty"`
	LastProveSeconds float64         `json:"lastProveSeconds,omitempty"`
	LastError        string          `json:"lastError,omitempty"`
	TreeBatch        hexutil.Uint64  `json:"treeBatch"`

	// The proving queue (NATS JetStream): its server, jobs waiting for a
	// worker, results dropped as duplicates, deliveries after a worker died
	// or handed a job back, proofs that did not verify, the workers heard
	// from in the last few seconds, and jobs parked after repeated failures
	// (Failed counts them; a restart retries them).
	Queue        string          `json:"queue"`
	Waiting      int             `json:"waiting"`
	Duplicates   uint64          `json:"duplicates"`
	Redeliveries uint64          `json:"redeliveries"`
	Rejected     uint64          `json:"rejected"`
	Workers      []WorkerJSON    `json:"workers"`
	Parked       []ParkedJobJSON `json:"parked"`
}

// WorkerJSON is a prover worker in ProverStatusJSON.
type WorkerJSON struct {
	ID       string          `json:"id"`
	InFlight int             `json:"inFlight"`
	Batch    *hexutil.Uint64 `json:"batch,omitempty"`
	Proven   uint64          `json:"proven"`
	Failed   uint64          `json:"failed"`
	LastSeen time.Time       `json:"lastSeen"`
}

// ParkedJobJSON is a proving job that failed too often.
type ParkedJobJSON struct {
	Batch    hexutil.Uint64 `json:"batch"`
	Attempts int            `json:"attempts"`
	Reason   string         `json:"reason"`
	At       time.Time      `json:"at"`
}

func elemHash(e fr.Element) common.Hash { return common.Hash(e.Bytes()) }

func u64p(v uint64) *hexutil.Uint64 { h := hexutil.Uint64(v); return &h }

func headerJSON(h *sequencer.Header) HeaderJSON {
	return HeaderJSON{ChainID: hexutil.Uint64(h.ChainID), Number: hexutil.Uint64(h.Number), ParentHash: h.Parent,
		TimeMicros: hexutil.Uint64(h.Time), Batch: hexutil.Uint64(h.Batch), TxRoot: h.TxRoot, ReceiptRoot: h.ReceiptRoot}
}

func opJSON(op *ledger.Op) *OpJSON {
	o := &OpJSON{Type: op.Type.String(), Account: hexutil.Uint64(op.Account)}
	amount := func() { o.Amount = (*hexutil.Big)(op.Amount.ToBig()) }
	addr := func() { a := op.Address; o.Address = &a }
	switch op.Type {
	case ledger.OpDeposit:
		addr()
		amount()
		o.PriorityID = u64p(op.PriorityID)
	case ledger.OpTransfer, ledger.OpTransferToNew, ledger.OpWithdraw:
		if op.Type != ledger.OpWithdraw {
			o.To = u64p(uint64(op.To))
		}
		if op.Type != ledger.OpTransfer {
			addr()
		}
		amount()
		o.Fee = (*hexutil.Big)(op.Fee.ToBig())
		o.Nonce = u64p(uint64(op.Nonce))
	case ledger.OpChangePubKey:
		addr()
		o.Nonce = u64p(uint64(op.Nonce))
	}
	return o
}

func receiptJSON(r *sequencer.Receipt) ReceiptJSON {
	j := ReceiptJSON{TxHash: r.TxHash, Block: hexutil.Uint64(r.Block), Position: hexutil.Uint64(r.Position), Batch: hexutil.Uint64(r.Batch)}
	if r.Err != nil {
		j.Status, j.Error, j.Rule = "failed", r.Err.Error(), RuleName(r.Err)
		return j
	}
	j.Status, j.Op = "ok", opJSON(&r.Op)
	return j
}

func statusJSON(s *sequencer.TxStatus) TxStatusJSON {
	j := TxStatusJSON{Hash: s.Hash, Status: s.Status.String()}
	if s.Block != 0 {
		j.Block, j.Position = u64p(s.Block), u64p(uint64(s.Position))
	}
	if s.Batch != 0 {
		j.Batch = u64p(s.Batch)
	}
	if s.Err != nil {
		j.Error, j.Rule = s.Err.Error(), RuleName(s.Err)
	}
	return j
}

func miniBlockJSON(mb *sequencer.MiniBlock) *MiniBlockJSON {
	j := &MiniBlockJSON{Header: headerJSON(&mb.Header), Hash: mb.Hash, Signature: mb.Signature, CutAfter: mb.CutAfter,
		Transactions: make([]EntryJSON, len(mb.Entries)), Receipts: make([]ReceiptJSON, len(mb.Receipts))}
	for i, e := range mb.Entries {
		j.Transactions[i] = EntryJSON{Hash: e.Hash, Raw: e.Raw}
		if d := e.Deposit; d != nil {
			j.Transactions[i].Deposit = &DepositJSON{ID: hexutil.Uint64(d.ID), Address: d.Address, Amount: (*hexutil.Big)(d.Amount.ToBig())}
		}
	}
	for i := range mb.Receipts {
		j.Receipts[i] = receiptJSON(&mb.Receipts[i])
	}
	return j
}

func batchJSON(b *sequencer.BatchRecord) *BatchJSON {
	j := &BatchJSON{Number: hexutil.Uint64(b.Number), Status: b.Status.String(), OldRoot: elemHash(b.OldRoot), NewRoot: elemHash(b.NewRoot),
		FirstBlock: hexutil.Uint64(b.FirstBlock), LastBlock: hexutil.Uint64(b.LastBlock), Ops: b.Ops, UsedChunks: hexutil.Uint64(b.Used),
		PriorityOps: hexutil.Uint64(b.PriorityOps), FeeTotal: (*hexutil.Big)(b.FeeTotal.ToBig()), Pubdata: b.Pubdata, Proof: b.Proof,
		CutAt: b.CutAt.UnixMilli()}
	if j.Ops == nil {
		j.Ops = []common.Hash{}
	}
	if !b.ProvenAt.IsZero() {
		j.ProvenAt = b.ProvenAt.UnixMilli()
	}
	return j
}

func leafJSON(a *ledger.Account) LeafJSON {
	return LeafJSON{Address: a.Address, PubKeyHash: elemHash(a.PubKeyHash), Nonce: hexutil.Uint64(a.Nonce), Balance: (*hexutil.Big)(a.Balance.ToBig())}
}

// Number is a JSON-RPC number parameter: a hex quantity ("0x1a"), a
// decimal number (26 or "26") or "latest".
type Number struct {
	N      uint64
	Latest bool
}

// UnmarshalJSON accepts a hex quantity, a decimal, or "latest".
func (n *Number) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return fmt.Errorf("a number is required")
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	if s == "latest" || s == "pending" {
		n.Latest = true
		return nil
	}
	var err error
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		n.N, err = hexutil.DecodeUint64(s)
	} else {
		n.N, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return fmt.Errorf("%q is not a number (want a hex quantity like \"0x1a\", a decimal, or \"latest\")", s)
	}
	return nil
}
