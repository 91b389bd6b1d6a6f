// Package state is the Pebble-backed L2 state of Velox (DESIGN.md §3).
//
// One Pebble database holds two views of the accounts, under different key
// prefixes (see keys.go for the layout):
//
//   - the flat state: the sequencer's latest state, updated once per
//     mini-block through a Batch (accounts by index, address → index, next
//     free index), read concurrently through Store, which implements the
//     read half of ledger.State (Reader) with an in-memory account cache;
//   - the account tree (Tree): a sparse Merkle tree of depth Depth over
//     Poseidon2 (ledger.Compress), with its own copy of the leaf accounts,
//     address map and next index as of the last proving batch. It advances
//     once per batch: BuildWitness replays the batch's operations and
//     returns the circuit's witness and a TreeUpdate that is committed in
//     the same Batch as the batch record.
//
// Other packages store their records (mini-blocks, receipts, batch
// records) in the same atomic Batch under a Namespace. A Batch is atomic:
// after a crash it is present entirely or not at all, and a synced commit
// is always present.
package state
