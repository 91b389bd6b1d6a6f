package client

import (
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// The JSON shapes of the Velox API (docs/RPC.md). Quantities are hex
// strings; field elements (roots, key hashes) are 32-byte big-endian hex.

// Header is a signed mini-block header.
type Header struct {
	ChainID     hexutil.Uint64 `json:"chainId"`
	Number      hexutil.Uint64 `json:"number"`
	ParentHash  common.Hash    `json:"parentHash"`
	TimeMicros  hexutil.Uint64 `json:"timestamp"`
	Batch       hexutil.Uint64 `json:"batch"`
	TxRoot      common.Hash    `json:"transactionsRoot"`
	ReceiptRoot common.Hash    `json:"receiptsRoot"`
}

// Op is an executed operation.
type Op struct {
	Type       string          `json:"type"`
	Account    hexutil.Uint64  `json:"account"`
	To         *hexutil.Uint64 `json:"to,omitempty"`
	Address    *common.Address `json:"address,omitempty"`
	Amount     *hexutil.Big    `json:"amount,omitempty"`
	Fee        *hexutil.Big    `json:"fee,omitempty"`
	Nonce      *hexutil.Uint64 `json:"nonce,omitempty"`
	PriorityID *hexutil.Uint64 `json:"priorityId,omitempty"`
}

// Receipt is a transaction's outcome: Status "ok", or "failed" with the
// ledger rule that failed.
type Receipt struct {
	TxHash   common.Hash    `json:"transactionHash"`
	Block    hexutil.Uint64 `json:"blockNumber"`
	Position hexutil.Uint64 `json:"position"`
	Batch    hexutil.Uint64 `json:"batch"`
	Status   string         `json:"status"`
	Error    string         `json:"error,omitempty"`
	Rule     string         `json:"rule,omitempty"`
	Op       *Op            `json:"op,omitempty"`
}

// OK reports a successful execution.
func (r *Receipt) OK() bool { return r.Status == "ok" }

// Preconfirmation is the sequencer's signed promise: the receipt and the
// header of the durably committed mini-block that holds it.
type Preconfirmation struct {
	Receipt    Receipt        `json:"receipt"`
	Header     Header         `json:"header"`
	HeaderHash common.Hash    `json:"headerHash"`
	Signature  hexutil.Bytes  `json:"signature"`
	Sequencer  common.Address `json:"sequencer"`
}

// Transaction statuses, in finality order (Failed is terminal).
const (
	StatusQueued       = "queued"
	StatusPreconfirmed = "preconfirmed"
	StatusProven       = "proven"
	StatusFinalized    = "finalized"
	StatusFailed       = "failed"
)

// TxStatus is a transaction's place on the finality ladder.
type TxStatus struct {
	Hash     common.Hash     `json:"hash"`
	Status   string          `json:"status"`
	Block    *hexutil.Uint64 `json:"blockNumber,omitempty"`
	Position *hexutil.Uint64 `json:"position,omitempty"`
	Batch    *hexutil.Uint64 `json:"batch,omitempty"`
	Error    string          `json:"error,omitempty"`
	Rule     string          `json:"rule,omitempty"`
}

// Entry is a mini-block entry: an L2 transaction (Raw) or a deposit.
type Entry struct {
	Hash    common.Hash   `json:"hash"`
	Raw     hexutil.Bytes `json:"raw,omitempty"`
	Deposit *Deposit      `json:"deposit,omitempty"`
}

// Deposit is an L1 deposit.
type Deposit struct {
	ID      hexutil.Uint64 `json:"id"`
	Address common.Address `json:"address"`
	Amount  *hexutil.Big   `json:"amount"`
}

// MiniBlock is a committed mini-block.
type MiniBlock struct {
	Header       Header        `json:"header"`
	Hash         common.Hash   `json:"hash"`
	Signature    hexutil.Bytes `json:"signature"`
	CutAfter     bool          `json:"cutAfter"`
	Transactions []Entry       `json:"transactions"`
	Receipts     []Receipt     `json:"receipts"`
}

// Batch is a proving batch.
type Batch struct {
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

// Account is an account's latest state with a Merkle proof of its leaf in
// the tree of the last cut batch.
type Account struct {
	Index      hexutil.Uint64 `json:"index"`
	Address    common.Address `json:"address"`
	PubKeyHash common.Hash    `json:"pubKeyHash"`
	Nonce      hexutil.Uint64 `json:"nonce"`
	Balance    *hexutil.Big   `json:"balance"`
	Proof      Proof          `json:"proof"`
}

// Proof proves Account at the account's index under Root (after batch
// Batch); Siblings are bottom-up.
type Proof struct {
	Batch    hexutil.Uint64 `json:"batch"`
	Root     common.Hash    `json:"root"`
	Account  Leaf           `json:"account"`
	Siblings []common.Hash  `json:"siblings"`
}

// Leaf is an account as the tree holds it.
type Leaf struct {
	Address    common.Address `json:"address"`
	PubKeyHash common.Hash    `json:"pubKeyHash"`
	Nonce      hexutil.Uint64 `json:"nonce"`
	Balance    *hexutil.Big   `json:"balance"`
}

// ProverStatus describes the node's prover.
type ProverStatus struct {
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

	// The proving queue: see docs/RPC.md.
	Queue        string         `json:"queue"`
	Waiting      int            `json:"waiting"`
	Duplicates   uint64         `json:"duplicates"`
	Redeliveries uint64         `json:"redeliveries"`
	Rejected     uint64         `json:"rejected"`
	Workers      []ProverWorker `json:"workers"`
	Parked       []ParkedJob    `json:"parked"`
}

// ProverWorker is a prover worker the node heard from recently.
type ProverWorker struct {
	ID       string          `json:"id"`
	InFlight int             `json:"inFlight"`
	Batch    *hexutil.Uint64 `json:"batch,omitempty"`
	Proven   uint64          `json:"proven"`
	Failed   uint64          `json:"failed"`
	LastSeen time.Time       `json:"lastSeen"`
}

// ParkedJob is a proving job the node stopped retrying.
type ParkedJob struct {
	Batch    hexutil.Uint64 `json:"batch"`
	Attempts int            `json:"attempts"`
	Reason   string         `json:"reason"`
	At       time.Time      `json:"at"`
}
