// Package executor applies the transactions of one mini-block, in their
// preset order, to a committed base state. Parallel is Block-STM
// (Gelashvili et al., PPoPP'23); Sequential is the reference executor with
// the same API. Both always return identical results (receipts, written
// accounts, next index, fees); only Stats differ.
//
// Stateless work (decoding, ledger.Check with signature verification) is
// done at most once per transaction, by the first incarnation, and never
// repeated by re-executions. Fees are summed in Result.Fees and never
// written per transaction: the caller credits them once per batch with
// ledger.CreditFees, so the fee account is no hot spot.
//
// # Design of Parallel
//
// Multi-version memory: one key per account field (address, pubKeyHash,
// nonce, balance of an index), per address→index entry and for the
// next-index counter, so transactions touching different fields of one
// account never conflict. Each key holds its entries linked from the
// highest transaction down, each tagged with the incarnation that wrote
// it or marked ESTIMATE; the first base value read is cached in an array
// beside the keys. Keys and entries are integer handles into arrays
// preallocated for the block, free of pointers and recycled across blocks,
// so the garbage collector neither scans nor frees them; the four keys of
// an account share one cache line and are found in a dense array (or,
// beyond it, a lock-free open-addressing table), those of an address in a
// lock-free open-addressing table. Writers of a key exclude each other
// with a per-key spinlock whose value counts the key's modifications and
// shares one word with the head of the key's list; readers take no lock,
// and a validator that finds that count unchanged since the read skips
// the re-read.
//
// Each incarnation runs ledger.Apply (or ApplyDeposit) on a ledger.State
// view: reads see the incarnation's own buffered writes, then the entry of
// the highest lower transaction, then the base state, and are recorded
// with the version seen; writes are buffered and published when the
// incarnation ends, removing keys the previous incarnation wrote and this
// one did not. Read and write sets are fixed-size arrays of key handles:
// an incarnation that would overflow them, or a block that would exhaust
// its preallocated memory, falls back to sequential execution as below.
// Validation re-reads the read set and aborts the incarnation if any
// version changed; an aborted incarnation's writes become ESTIMATE
// markers. A read that hits an ESTIMATE makes the view return an internal
// sentinel error (ledger passes it through): the transaction is suspended
// on the dependency list of the transaction that wrote the marker, and
// re-executed once that one has finished executing. No worker blocks on
// it; workers with nothing to do sleep on a condition variable until a
// task may be available or the block is done, never spinning.
//
// The collaborative scheduler is the paper's: shared execution and
// validation indices hand out the lowest task, per-transaction status and
// incarnation live in one atomic word (a mutex guards only the rare
// dependency lists), and completion is detected with the decrease counter
// and the number of active workers (counted from the moment a worker
// looks for a task until it goes idle, rather than per task, which spares
// two updates of a shared counter per task). Once the workers are done,
// the write set is assembled and the fees summed in parts, on as many
// goroutines.
//
// Once the re-executions of a block exceed Options.MaxReexecutions, the
// workers stop; the longest prefix of executed transactions whose read
// sets still validate is kept, and the rest runs on the sequential
// executor over the state that prefix leaves, reusing the stateless work
// already done, while the other workers' goroutines do the stateless
// checks of the remaining transactions ahead of it (each transaction is
// still checked once). Cancelling the context stops the workers, which
// finish their current task; Parallel then returns ctx.Err() with no
// goroutine left running.
package executor
