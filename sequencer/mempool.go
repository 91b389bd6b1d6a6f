package sequencer

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// pending is an admitted transaction waiting for its mini-block.
type pending struct {
	hash    common.Hash
	raw     []byte
	checked *ledger.Checked
	account uint32
	nonce   uint32
	seq     uint64
	arrived time.Time
	// inflight is set while the transaction is in a mini-block built but
	// not yet committed (readyTxs to included or release); guarded by the
	// pool's mu.
	inflight bool
	// pooled is when it entered the pool, taken when a mini-block last
	// took it (readyTxs), built when that block was built: for
	// Metrics.Stages.
	pooled, taken, built time.Time
	// done receives exactly one outcome (buffered, never blocks).
	done chan outcome
}

type outcome struct {
	pre *Preconfirmation
	err error
}

// accountQueue holds one account's pending transactions by nonce. base is
// the account's next nonce in the committed state. inflight counts the
// queued transactions that are in mini-blocks built but not yet committed
// (readyTxs marks them; included or release clears them); next is the
// nonce after the last of them, base when there are none. run is the
// number of consecutive nonces next, next+1, … present (the ready ones).
//
// balance is the account's committed balance as the pool last read it:
// when the queue was made and after each commit that included some of its
// transactions, so that it never counts a spend that spend counts too.
// Transfers to the account since then are missing from it, so it is never
// above the true balance. spend is what the queued transactions may take
// from the balance (amount + fee of each transfer and withdrawal).
//
// keyHash is the account's committed L2 key hash, read with balance;
// keyChanges counts the queued ChangePubKey transactions, which make the
// key a transaction will meet unknown.
type accountQueue struct {
	base       uint32
	next       uint32
	inflight   int
	run        int
	txs        map[uint32]*pending
	balance    uint256.Int
	spend      uint256.Int
	keyHash    fr.Element
	keyChanges int
	// owner is the account's address (zero: no such account).
	owner common.Address
}

// committedFunc returns an account in the committed state.
type committedFunc func(uint32) (ledger.Account, error)

// refresh sets q's committed view from a.
func (q *accountQueue) refresh(a *ledger.Account) {
	q.base, q.balance, q.keyHash, q.owner = a.Nonce, a.Balance, a.PubKeyHash, a.Address
	if q.inflight == 0 {
		q.next = q.base
	}
}

// spendOf is what tx may take from its account's balance.
func spendOf(tx *pending) uint256.Int {
	var need uint256.Int
	if t := tx.checked.Tx; t.Type == ledger.TxTransfer || t.Type == ledger.TxWithdraw {
		need.Add(&t.Amount, &t.Fee) // packed amounts: no overflow
	}
	return need
}

// unqueue removes tx (queued in q) from the pool.
func (p *mempool) unqueue(q *accountQueue, tx *pending) {
	delete(q.txs, tx.nonce)
	delete(p.mu.byHash, tx.hash)
	if tx.inflight {
		tx.inflight = false
		q.inflight--
	}
	need := spendOf(tx)
	q.spend.Sub(&q.spend, &need)
	if tx.checked.Tx.Type == ledger.TxChangePubKey {
		q.keyChanges--
	}
}

// mempool is a set of per-account, nonce-ordered queues with global and
// per-account limits and duplicate detection by hash. Safe for concurrent
// use.
type mempool struct {
	maxTxs, maxAccount int
	maxGap             uint32
	ttl                time.Duration
	// ready is signalled (non-blocking) when transactions become ready:
	// the mini-block loop starts a block as soon as it is free.
	ready chan struct{}

	mu struct {
		sync.Mutex
		// byHash, accounts, ready, seq are guarded by mu.
		byHash   map[common.Hash]*pending
		accounts map[uint32]*accountQueue
		ready    int
		seq      uint64
		closed   bool
	}
}

func newMempool(cfg *Config) *mempool {
	p := &mempool{maxTxs: cfg.MaxPoolTxs, maxAccount: cfg.MaxAccountTxs, maxGap: cfg.MaxNonceGap,
		ttl: cfg.QueueTTL, ready: make(chan struct{}, 1)}
	p.mu.byHash = map[common.Hash]*pending{}
	p.mu.accounts = map[uint32]*accountQueue{}
	return p
}

// has reports whether hash is queued.
func (p *mempool) has(h common.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.mu.byHash[h]
	return ok
}

func (p *mempool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.mu.byHash)
}

// readyCount is the number of ready transactions.
func (p *mempool) readyCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.ready
}

// add queues tx. The functions it is given are called under the pool lock,
// so that they agree with the queue bases the mini-block loop updates
// after each commit (a committed transaction leaves byHash only then):
// committedNonce returns an account's next nonce in the committed state,
// included whether a hash is in a committed mini-block (a store lookup),
// and failed whether a hash is a committed transaction that failed at
// execution (failedSet, usually no store lookup).
//
// Only a transaction that failed leaves its nonce unused: a new
// transaction (nonce at or above the base, the common case) is looked for
// among those, and a replay below the base in the store, for a precise
// error.
//
// A transfer or withdrawal that could only fail at execution (and so be
// included for free) is refused: signed with a key that is not the
// account's (ErrWrongKey), or whose amount and fee exceed the account's
// committed balance less what its queued transactions may spend
// (ErrOverdraft).
func (p *mempool) add(tx *pending, committed committedFunc, included, failed func(common.Hash) (bool, error)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return ErrShuttingDown
	}
	if _, ok := p.mu.byHash[tx.hash]; ok {
		return fmt.Errorf("%w: %v is pending", ErrDuplicate, tx.hash)
	}
	q := p.mu.accounts[tx.account]
	if q == nil {
		a, err := committed(tx.account)
		if err != nil {
			return err
		}
		q = &accountQueue{txs: map[uint32]*pending{}}
		q.refresh(&a)
	}
	lookup := failed
	if tx.nonce < q.base {
		lookup = included
	}
	if known, err := lookup(tx.hash); err != nil {
		return err
	} else if known {
		return fmt.Errorf("%w: %v is already included", ErrDuplicate, tx.hash)
	}
	switch {
	case tx.nonce < q.base:
		return fmt.Errorf("%w: nonce %d, account %d is at %d", ErrNonceTooLow, tx.nonce, tx.account, q.base)
	case tx.nonce-q.base > p.maxGap:
		return fmt.Errorf("%w: nonce %d, account %d is at %d (max gap %d)", ErrNonceGap, tx.nonce, tx.account, q.base, p.maxGap)
	case q.txs[tx.nonce] != nil:
		return fmt.Errorf("%w: nonce %d of account %d", ErrNonceInUse, tx.nonce, tx.account)
	case len(q.txs) >= p.maxAccount:
		return fmt.Errorf("%w: account %d has %d pending", ErrAccountQueueFull, tx.account, len(q.txs))
	case len(p.mu.byHash) >= p.maxTxs:
		return fmt.Errorf("%w: %d pending", ErrMempoolFull, len(p.mu.byHash))
	}
	if err := q.admits(tx); err != nil {
		return err
	}
	need := spendOf(tx)
	if !q.affords(&need) {
		// Funds may have come in since balance was read. The store's
		// balance may miss a commit in flight that spend still counts, so
		// it too is never above the truth: take the larger.
		if a, err := committed(tx.account); err != nil {
			return err
		} else if a.Balance.Gt(&q.balance) {
			q.balance = a.Balance
		}
		if !q.affords(&need) {
			return fmt.Errorf("%w: %w: account %d has %v wei, its %d pending transactions may spend %v, this one needs %v",
				ErrOverdraft, ledger.ErrInsufficientBalance, tx.account, q.balance.Dec(), len(q.txs), q.spend.Dec(), need.Dec())
		}
	}
	q.spend.Add(&q.spend, &need)
	if tx.checked.Tx.Type == ledger.TxChangePubKey {
		q.keyChanges++
	}
	p.mu.seq++
	tx.seq = p.mu.seq
	p.mu.accounts[tx.account] = q
	p.mu.byHash[tx.hash] = tx
	q.txs[tx.nonce] = tx
	before := p.mu.ready
	p.extend(q)
	if p.mu.ready > before {
		p.signal()
	}
	return nil
}

// admits refuses what could only fail at execution: a transaction of an
// account that does not exist, a ChangePubKey not signed by the account's
// owner, and a transfer or withdrawal signed with a key that is not the
// account's (or by an account with no key) unless a queued ChangePubKey
// may change the key first. An account's owner never changes.
func (q *accountQueue) admits(tx *pending) error {
	t := tx.checked.Tx
	if q.owner == (common.Address{}) {
		return fmt.Errorf("%w: %w: account %d does not exist (deposit to your address on L1 first)", ErrWrongKey, ledger.ErrUnknownAccount, tx.account)
	}
	if t.Type == ledger.TxChangePubKey && tx.checked.Signer != q.owner {
		return fmt.Errorf("%w: %w: ChangePubKey signed by %v, account %d is owned by %v", ErrBadSignature, ledger.ErrBadSignature, tx.checked.Signer, tx.account, q.owner)
	}
	if (t.Type != ledger.TxTransfer && t.Type != ledger.TxWithdraw) || q.keyChanges > 0 || tx.checked.KeyHash == q.keyHash {
		return nil
	}
	if q.keyHash.IsZero() {
		return fmt.Errorf("%w: %w: account %d has no L2 key yet (send a ChangePubKey first)", ErrWrongKey, ledger.ErrNoPubKey, tx.account)
	}
	return fmt.Errorf("%w: %w: signed with a key that is not account %d's", ErrWrongKey, ledger.ErrWrongKey, tx.account)
}

// affords reports whether the balance covers the queued spends and need.
func (q *accountQueue) affords(need *uint256.Int) bool {
	var total uint256.Int
	if _, overflow := total.AddOverflow(&q.spend, need); overflow {
		return false
	}
	return !q.balance.Lt(&total)
}

// signal wakes the mini-block loop.
func (p *mempool) signal() {
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// extend recomputes q.run and the global ready count.
func (p *mempool) extend(q *accountQueue) {
	run := 0
	for q.txs[q.next+uint32(run)] != nil {
		run++
	}
	p.mu.ready += run - q.run
	q.run = run
}

// readyTxs returns up to max ready transactions: each account's
// consecutive nonces from its next nonce (committed, or after its
// transactions in flight), accounts ordered by the arrival of their first
// ready transaction. They stay queued, in flight, until included, or
// until release returns those that a mini-block did not take.
func (p *mempool) readyTxs(max int) []*pending {
	p.mu.Lock()
	defer p.mu.Unlock()
	if max <= 0 || p.mu.ready == 0 {
		return nil
	}
	var heads []*accountQueue
	for _, q := range p.mu.accounts {
		if q.run > 0 {
			heads = append(heads, q)
		}
	}
	slices.SortFunc(heads, func(a, b *accountQueue) int {
		sa, sb := a.txs[a.next].seq, b.txs[b.next].seq
		switch {
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
	var out []*pending
	now := time.Now()
	for _, q := range heads {
		for q.run > 0 && len(out) < max {
			tx := q.txs[q.next]
			tx.inflight = true
			tx.taken = now
			out = append(out, tx)
			q.inflight++
			q.next++
			q.run--
			p.mu.ready--
		}
		if len(out) == max {
			break
		}
	}
	return out
}

// release returns transactions that readyTxs handed out, and that no
// mini-block took, to the ready ones. Per account they must be the last
// ones handed out (a suffix of readyTxs' result is).
func (p *mempool) release(txs []*pending) {
	p.mu.Lock()
	defer p.mu.Unlock()
	touched := map[*accountQueue]bool{}
	for i := len(txs) - 1; i >= 0; i-- {
		tx := txs[i]
		q := p.mu.accounts[tx.account]
		if q == nil || q.txs[tx.nonce] != tx || !tx.inflight || tx.nonce+1 != q.next {
			continue // dropped meanwhile, or not the last in flight
		}
		tx.inflight = false
		q.inflight--
		q.next--
		touched[q] = true
	}
	for q := range touched {
		if q.inflight == 0 {
			q.next = q.base
		}
		p.extend(q)
	}
	if p.mu.ready > 0 {
		p.signal()
	}
}

// included removes the transactions of a committed mini-block and moves
// their accounts' bases to the committed nonces. Queued transactions whose
// nonce fell below the base are dropped and returned, with their error.
func (p *mempool) included(txs []*pending, committed committedFunc) []dropped {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []dropped
	touched := map[uint32]*accountQueue{}
	for _, tx := range txs {
		q := p.mu.accounts[tx.account]
		if q == nil || q.txs[tx.nonce] != tx {
			continue
		}
		p.unqueue(q, tx)
		touched[tx.account] = q
	}
	for acc, q := range touched {
		if a, err := committed(acc); err == nil {
			q.refresh(&a)
		}
		for n, tx := range q.txs {
			if n < q.base && !tx.inflight {
				p.unqueue(q, tx)
				out = append(out, dropped{tx, fmt.Errorf("%w: nonce %d, account %d is at %d", ErrNonceTooLow, n, acc, q.base)})
			}
		}
		p.extend(q)
		if len(q.txs) == 0 {
			p.mu.ready -= q.run
			delete(p.mu.accounts, acc)
		}
	}
	if p.mu.ready > 0 {
		// Left over from a full block, or ready by the new bases.
		p.signal()
	}
	return out
}

type dropped struct {
	tx  *pending
	err error
}

// expire drops transactions that waited more than the TTL for a nonce gap.
func (p *mempool) expire(now time.Time) []dropped {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []dropped
	for acc, q := range p.mu.accounts {
		for n, tx := range q.txs {
			if n >= q.next+uint32(q.run) && now.Sub(tx.arrived) > p.ttl {
				p.unqueue(q, tx)
				out = append(out, dropped{tx, fmt.Errorf("%w: nonce %d of account %d waited %v", ErrExpired, n, acc, p.ttl)})
			}
		}
		if len(q.txs) == 0 {
			p.mu.ready -= q.run
			delete(p.mu.accounts, acc)
		}
	}
	return out
}

// close empties the pool and refuses further adds; it returns what was
// queued.
func (p *mempool) close() []*pending {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.closed = true
	out := make([]*pending, 0, len(p.mu.byHash))
	for _, tx := range p.mu.byHash {
		out = append(out, tx)
	}
	clear(p.mu.byHash)
	clear(p.mu.accounts)
	p.mu.ready = 0
	return out
}
