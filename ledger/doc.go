// Package ledger defines the Velox state machine: accounts, transactions,
// operations, their rules, signatures and the pubdata encoding. It is pure
// (no I/O) and is mirrored constraint for constraint by prover/circuit.
//
// The byte layouts are specified in docs/PROTOCOL.md; the code is the
// reference implementation of that document.
package ledger
