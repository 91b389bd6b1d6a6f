// Package sequencer is the Velox sequencer (DESIGN.md §5): it admits L2
// transactions, orders them into mini-blocks that it executes with the
// parallel executor and commits durably, signs each mini-block header, and
// cuts the executed operations into proving batches that it hands to a
// Prover and then to a Settler.
//
// # Admission and preconfirmation
//
// Submit checks a transaction without state (size, decoding, ranges,
// packing, signature — on at most Config.CheckWorkers goroutines), then
// its nonce against the committed state, and queues it in a per-account,
// nonce-ordered mempool. Only the nonce is checked against state at
// admission: every other stateful rule (unknown account, missing or wrong
// key, balance, overflow, full tree) is decided at execution and gives a
// failed receipt, which is preconfirmed like a success. A failed
// transaction consumes no nonce, so the account's later queued
// transactions fail with ledger.ErrNonce, or wait, if not yet ready, until
// the nonce is filled or their TTL expires. A transaction hash is included
// at most once, even if it failed (ErrDuplicate); change a field (e.g. the
// fee) to retry.
//
// Submit returns only after the transaction's mini-block is committed with
// a synced Pebble write; nothing is announced before. Production is a
// group commit: as soon as transactions are ready and the previous synced
// write is done, the loop takes what is ready (up to Config.MaxBlockTxs
// entries: the ready priority operations, deposits in L1 order, first,
// then the ready transactions — each account's consecutive nonces,
// accounts in order of arrival), makes it into as many mini-blocks as
// batch boundaries require, and writes them all in one synced write; what
// arrives meanwhile goes into the next write. Under load a write carries
// many transactions for one fsync; when idle a lone transaction waits for
// one fsync only. Every Config.BlockTime the loop also looks for deposits
// and batch timeouts; no mini-block is made when nothing is ready.
//
// Header: chainID, number, parent hash, time (µs), batch number, TxRoot
// and ReceiptRoot; see Header.Encode. The roots are binary keccak256
// Merkle roots (MerkleRoot) over the entries' hashes (TxHash, DepositHash)
// and over keccak256 of each receipt encoding (see codec.go). The signature
// is the secp256k1 signature of keccak256(Header.Encode()); VerifyHeader
// checks it.
//
// # Batches
//
// The successful operations, in order, fill proving batches of exactly
// Config.Slots chunks. A mini-block never spans two batches: when a
// block's operations would overflow the open batch, the block ends where
// the batch ends and the rest goes into the next block (of the same write,
// unless the next operation first needs a batch closed between blocks). A batch
// is closed when full, when the next operation does not fit, or
// Config.BatchTimeout after its first operation (it is then padded with
// Noop). Closing credits the batch's fees to the fee account in the flat
// state (ledger.CreditFees, once per batch) at exactly the batch end, in
// the synced write of the block that closes it (or a write of its own
// between blocks), so the flat state and the tree agree batch by batch.
// A separate goroutine then cuts closed batches in order, off the
// preconfirmation path: it builds the witness from the tree
// (state.Tree.BuildWitness) and commits the tree update, the batch record
// and the witness in one synced write. Batches are then submitted to the
// Prover in order; Proven records a proof and queues the batch for the
// Settler (in order); Finalized records L1 finality. A transaction's
// Status follows its batch: preconfirmed → proven → finalized, or failed.
//
// Only the mini-block loop writes flat state; the cutter writes the tree
// and records, and Proven, Finalized and the settler write records only,
// so their concurrent commits never rest on stale reads.
//
// # Storage
//
// Everything lives in the state store, written in the same atomic batches
// as the state, under the state package's record namespaces:
//
//	NamespaceMiniBlock number(8 BE)  → header (128) ‖ signature (65) ‖ cutAfter (1) ‖ n (4) ‖ n entry hashes (32)
//	NamespaceTx        hash(32)      → block (8) ‖ position (4) ‖ kind (1: 0 tx, 1 deposit) ‖ encoding
//	NamespaceReceipt   hash(32)      → receipt (encodeReceipt; hashed into ReceiptRoot)
//	NamespaceBatch     'r' number(8) → batch record (gob)
//	NamespaceBatch     'w' number(8) → batch witness (gob), deleted at finality
//	NamespaceBatch     'c' number(8) → last block (8) of a batch closed between blocks, until cut
//	NamespaceMeta      "sequencer/head" → last block number (8) ‖ hash (32) ‖ next priority ID (8)
//
// One mini-block is one synced write: account writes, next index, the
// transaction and receipt records, the block record and the head.
//
// # Recovery
//
// New + Start on an existing store resume from the last committed
// mini-block: numbers and parent hashes continue, deposits continue from
// the next priority ID. The mempool starts empty: transactions that were
// not preconfirmed are not kept, and their senders must resubmit. The
// batches closed but not cut, and the open batch, are rebuilt from the
// receipts of the mini-blocks after the last cut (block headers name their
// batch; CutAfter and the close records say where batches end). Batches
// cut but not proven are submitted to the Prover again; proven but not
// submitted ones to the Settler.
package sequencer
