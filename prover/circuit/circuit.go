// Package circuit is the Velox batch circuit: one gnark circuit for a batch
// of N operation slots over an account tree of depth D. It enforces every
// rule of package ledger, the chain of Merkle roots, the fee credit and the
// pubdata bytes, and exposes exactly one public input (ledger.PublicInput).
//
// It depends on ledger only: how the circuit is proven is not its concern.
package circuit

import (
	"errors"
	"fmt"
	"math/big"

	tedwards "github.com/consensys/gnark-crypto/ecc/twistededwards"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/algebra/native/twistededwards"
	p2hash "github.com/consensys/gnark/std/hash/poseidon2"
	"github.com/consensys/gnark/std/permutation/poseidon2"
	"github.com/consensys/gnark/std/rangecheck"
	"github.com/consensys/gnark/std/signature/eddsa"

	"github.com/veloxlabs/velox/ledger"
)

// Config fixes the shape of a batch circuit. Two circuits with different
// configs are different circuits with different keys.
type Config struct {
	// Slots is the number of 16-byte pubdata chunks (operation slots) per batch.
	Slots int
	// Depth is the account tree depth, 1..ledger.MaxDepth.
	Depth int
	// ChainID is the L2 chain id signed into transactions.
	ChainID uint64
}

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("circuit: invalid config")

// Check validates the configuration.
func (c Config) Check() error {
	if c.Slots < 1 || c.Slots > 1<<16 {
		return fmt.Errorf("%w: slots %d not in [1, 65536]", ErrConfig, c.Slots)
	}
	if c.Depth < 1 || c.Depth > ledger.MaxDepth {
		return fmt.Errorf("%w: depth %d not in [1, %d]", ErrConfig, c.Depth, ledger.MaxDepth)
	}
	return nil
}

// String names the circuit, e.g. "batch-16-d32-c1".
func (c Config) String() string {
	return fmt.Sprintf("batch-%d-d%d-c%d", c.Slots, c.Depth, c.ChainID)
}

// Params returns the ledger parameters the circuit enforces.
func (c Config) Params() ledger.Params { return ledger.Params{ChainID: c.ChainID, Depth: c.Depth} }

// Flag positions of Slot.Flags: exactly one is set in every slot.
const (
	flagNoop = iota
	flagDeposit
	flagTransfer
	flagTransferToNew
	flagWithdraw
	flagChangePubKey
	flagContinuation // the slot carries a later chunk of the previous operation
	numFlags
)

// opOfFlag maps a flag to its operation type (continuation excluded).
var opOfFlag = [numFlags - 1]ledger.OpType{ledger.OpNoop, ledger.OpDeposit, ledger.OpTransfer,
	ledger.OpTransferToNew, ledger.OpWithdraw, ledger.OpChangePubKey}

// Account is a leaf's fields.
type Account struct {
	Address, PubKeyHash, Nonce, Balance frontend.Variable
}

// Update is one leaf write: the leaf's index, its fields before the write,
// and its Depth siblings from the leaf upwards. The fields after the write
// are computed by the circuit from the operation, never taken from the
// prover.
type Update struct {
	Index    frontend.Variable
	Before   Account
	Siblings []frontend.Variable
}

// Slot is one operation slot (one pubdata chunk).
type Slot struct {
	Flags [numFlags]frontend.Variable
	// Address: deposit owner, TransferToNew/Transfer recipient address,
	// Withdraw L1 recipient, ChangePubKey owner.
	Address frontend.Variable
	// Amount is the full amount; for transfers it must equal
	// AmountMantissa·10^AmountExponent.
	Amount, AmountMantissa, AmountExponent frontend.Variable
	FeeMantissa, FeeExponent               frontend.Variable
	NewPubKeyHash                          frontend.Variable
	EthSignature                           [ledger.EthSigSize]frontend.Variable
	PubKey                                 eddsa.PublicKey
	Signature                              eddsa.Signature
	// Updates[0] is the sender / credited / key-changing account,
	// Updates[1] the transfer recipient.
	Updates [2]Update
}

// Batch is the batch circuit. Allocate it with New.
type Batch struct {
	// PublicInput is ledger.PublicInput of the batch.
	PublicInput frontend.Variable `gnark:",public"`
	Number      frontend.Variable
	OldRoot     frontend.Variable
	Slots       []Slot
	// Fee credits the batch's fees to ledger.FeeAccount.
	Fee Update

	cfg Config
}

// New allocates a circuit of the given shape for compilation or assignment.
func New(cfg Config) (*Batch, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	b := &Batch{cfg: cfg, Slots: make([]Slot, cfg.Slots)}
	for i := range b.Slots {
		for j := range b.Slots[i].Updates {
			b.Slots[i].Updates[j].Siblings = make([]frontend.Variable, cfg.Depth)
		}
	}
	b.Fee.Siblings = make([]frontend.Variable, cfg.Depth)
	return b, nil
}

// Config returns the circuit's shape.
func (b *Batch) Config() Config { return b.cfg }

// Sizes of the byte tables a slot's pubdata is built from.
const (
	maxOpBytes = 8 * ledger.ChunkSize // the longest operation (ChangePubKey)
	carryBytes = maxOpBytes - ledger.ChunkSize
)

// gadgets bundles what Define uses, created once per circuit.
type gadgets struct {
	api   frontend.API
	perm  *poseidon2.Permutation
	rc    frontend.Rangechecker
	curve twistededwards.Curve
	depth int
	chain uint64
}

// Define implements frontend.Circuit.
func (b *Batch) Define(api frontend.API) error {
	cfg := b.cfg
	if err := cfg.Check(); err != nil {
		return err
	}
	if len(b.Slots) != cfg.Slots || len(b.Fee.Siblings) != cfg.Depth {
		return fmt.Errorf("%w: circuit not allocated with New", ErrConfig)
	}
	perm, err := poseidon2.NewPoseidon2(api)
	if err != nil {
		return err
	}
	curve, err := twistededwards.NewEdCurve(api, tedwards.BN254)
	if err != nil {
		return err
	}
	g := &gadgets{api: api, perm: perm, rc: rangecheck.New(api), curve: curve, depth: cfg.Depth, chain: cfg.ChainID}

	root := b.OldRoot
	var feeTotal, priorityOps frontend.Variable = 0, 0
	var remaining frontend.Variable = 0
	carry := make([]frontend.Variable, carryBytes)
	for i := range carry {
		carry[i] = 0
	}
	pubdata := make([]frontend.Variable, 0, cfg.Slots*ledger.ChunkSize)
	for i := range b.Slots {
		s := &b.Slots[i]
		var chunk []frontend.Variable
		var fee frontend.Variable
		root, fee, chunk, carry, remaining, err = g.slot(s, root, carry, remaining)
		if err != nil {
			return fmt.Errorf("slot %d: %w", i, err)
		}
		feeTotal = api.Add(feeTotal, fee)
		priorityOps = api.Add(priorityOps, s.Flags[flagDeposit])
		pubdata = append(pubdata, chunk...)
	}
	// No operation may run past the end of the batch.
	api.AssertIsEqual(remaining, 0)

	// Fee credit, once per batch, to the fee account.
	feeBits := g.indexBits(b.Fee.Index)
	api.AssertIsEqual(b.Fee.Index, ledger.FeeAccount)
	feeAfter := b.Fee.Before
	feeAfter.Balance = api.Add(b.Fee.Before.Balance, feeTotal)
	g.rc.Check(feeAfter.Balance, 128)
	api.AssertIsEqual(g.isEmpty(b.Fee.Before), 0)
	root = g.update(root, feeBits, b.Fee.Siblings, b.Fee.Before, feeAfter)

	// Public input: sha256(number || oldRoot || newRoot || priorityOps || pubdata) mod r.
	msg := make([]frontend.Variable, 0, 8+32+32+4+len(pubdata))
	msg = append(msg, g.toBytes(b.Number, 8)...)
	msg = append(msg, g.toBytes(b.OldRoot, 32)...)
	msg = append(msg, g.toBytes(root, 32)...)
	msg = append(msg, g.toBytes(priorityOps, 4)...)
	msg = append(msg, pubdata...)
	var pi frontend.Variable = 0
	for _, d := range sha256Bytes(api, msg) {
		pi = api.Add(api.Mul(pi, 256), d)
	}
	api.AssertIsEqual(pi, b.PublicInput)
	return nil
}

// slot constrains one slot and returns the next root, the fee it collects,
// its 16 pubdata bytes and the continuation state.
func (g *gadgets) slot(s *Slot, root frontend.Variable, carry []frontend.Variable, remaining frontend.Variable) (
	newRoot, fee frontend.Variable, chunk, nextCarry []frontend.Variable, nextRemaining frontend.Variable, err error) {
	api := g.api
	f := s.Flags
	var sum frontend.Variable = 0
	for _, x := range f {
		api.AssertIsBoolean(x)
		sum = api.Add(sum, x)
	}
	api.AssertIsEqual(sum, 1)
	// A slot continues the previous operation exactly when chunks remain.
	api.AssertIsEqual(f[flagContinuation], api.Sub(1, api.IsZero(remaining)))

	isDeposit, isT, isTN, isW, isC := f[flagDeposit], f[flagTransfer], f[flagTransferToNew], f[flagWithdraw], f[flagChangePubKey]
	isSigned := api.Add(isT, isTN, isW)
	isTransfer := api.Add(isT, isTN)

	// Field ranges; the byte decompositions double as range checks.
	addrBytes := g.toBytes(s.Address, 20)
	amountBytes := g.toBytes(s.Amount, 16)
	// Recipients and depositors are never the zero address (its leaf would
	// read as empty and swallow the funds).
	api.AssertIsEqual(api.Mul(api.Add(isTransfer, isW, isDeposit), api.IsZero(s.Address)), 0)

	// Packed amount and fee (decimal floating point, 5-bit exponent).
	amountExp := api.ToBinary(s.AmountExponent, ledger.ExponentBits)
	g.rc.Check(s.AmountMantissa, ledger.AmountMantissaBits)
	packedAmount := g.toBytes(api.Add(api.Mul(s.AmountMantissa, 1<<ledger.ExponentBits), s.AmountExponent), ledger.PackedAmountSize)
	api.AssertIsEqual(api.Mul(isTransfer, api.Sub(s.Amount, api.Mul(s.AmountMantissa, pow10(api, amountExp)))), 0)
	feeExp := api.ToBinary(s.FeeExponent, ledger.ExponentBits)
	g.rc.Check(s.FeeMantissa, ledger.FeeMantissaBits)
	packedFeeValue := api.Add(api.Mul(s.FeeMantissa, 1<<ledger.ExponentBits), s.FeeExponent)
	packedFee := g.toBytes(packedFeeValue, ledger.PackedFeeSize)
	// Below 2047·10^31 < 2^128: a fee never needs a range check.
	// Canonical packing (the smallest exponent, docs/PROTOCOL.md): a
	// non-zero exponent needs mantissa·10 ≥ 2^bits, so that pubdata
	// decodes to one value only.
	g.canonical(s.AmountMantissa, s.AmountExponent, ledger.AmountMantissaBits)
	g.canonical(s.FeeMantissa, s.FeeExponent, ledger.FeeMantissaBits)
	feeValue := api.Mul(s.FeeMantissa, pow10(api, feeExp))
	fee = api.Mul(isSigned, feeValue)

	// --- Update A: sender, credited or key-changing account.
	a := &s.Updates[0]
	aBits := g.indexBits(a.Index)
	aEmpty := g.isEmpty(a.Before)
	// Every operation but a deposit needs an existing account.
	api.AssertIsEqual(api.Mul(api.Add(isSigned, isC), aEmpty), 0)
	// A deposit to an existing account, or a key change, must match its owner.
	api.AssertIsEqual(api.Mul(api.Add(api.Mul(isDeposit, api.Sub(1, aEmpty)), isC), api.Sub(a.Before.Address, s.Address)), 0)
	create := api.Mul(isDeposit, aEmpty)
	keep := api.Sub(1, create) // fields carried over from Before
	var aAfter Account
	aAfter.Address = api.Add(a.Before.Address, api.Mul(create, s.Address))
	aAfter.PubKeyHash = api.Select(isC, s.NewPubKeyHash, api.Mul(keep, a.Before.PubKeyHash))
	bumps := api.Add(isSigned, isC)
	aAfter.Nonce = api.Add(api.Mul(keep, a.Before.Nonce), bumps)
	// Nonce overflow: a bump from 2^32-1 is not allowed.
	api.AssertIsEqual(api.Mul(bumps, api.IsZero(api.Sub(a.Before.Nonce, uint64(1)<<32-1))), 0)
	var debit frontend.Variable = api.Mul(isSigned, api.Add(s.Amount, fee))
	aAfter.Balance = api.Sub(api.Add(api.Mul(keep, a.Before.Balance), api.Mul(isDeposit, s.Amount)), debit)
	// balance ≥ amount + fee and no overflow: the result is a 128-bit value.
	g.rc.Check(aAfter.Balance, 128)
	g.rc.Check(aAfter.Nonce, 32)

	// Signature over Hash(m0, m1), the fields packed as ledger.Tx.Hash
	// packs them, by the key the account registered. The packing is
	// injective only because every field is range-checked to its width
	// above or below: nonce (nonceBytes), account (aBits), to (addrBytes),
	// amount (amountBytes), packed fee (packedFee); type and chain id are
	// constants. Without those checks, to+2^160 with account-1 would sign
	// as to with account.
	txType := api.Add(int(ledger.TxTransfer), api.Mul(isW, int(ledger.TxWithdraw-ledger.TxTransfer)))
	m0 := api.Add(txType, api.Mul(a.Before.Nonce, pow2(ledger.MsgNonceShift)),
		api.Mul(a.Index, pow2(ledger.MsgAccountShift)), api.Mul(s.Address, pow2(ledger.MsgToShift)))
	chainTerm := new(big.Int).Lsh(new(big.Int).SetUint64(g.chain), ledger.MsgChainShift)
	m1 := api.Add(packedFeeValue, api.Mul(s.Amount, pow2(ledger.MsgAmountShift)), chainTerm)
	msg := g.hash(m0, m1)
	keyHash := g.hash(s.PubKey.A.X, s.PubKey.A.Y)
	api.AssertIsEqual(api.Mul(isSigned, api.Sub(keyHash, a.Before.PubKeyHash)), 0)
	hasher, err := p2hash.New(api)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	valid, err := eddsa.IsValid(g.curve, s.Signature, msg, s.PubKey, hasher)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	api.AssertIsEqual(api.Mul(isSigned, api.Sub(1, valid)), 0)

	root = g.update(root, aBits, a.Siblings, a.Before, aAfter)

	// --- Update B: transfer recipient (existing, or created by TransferToNew).
	bu := &s.Updates[1]
	bBits := g.indexBits(bu.Index)
	bEmpty := g.isEmpty(bu.Before)
	api.AssertIsEqual(api.Mul(isTN, api.Sub(1, bEmpty)), 0)
	api.AssertIsEqual(api.Mul(isT, bEmpty), 0)
	api.AssertIsEqual(api.Mul(isT, api.Sub(bu.Before.Address, s.Address)), 0)
	bKeep := api.Sub(1, isTN)
	var bAfter Account
	bAfter.Address = api.Add(bu.Before.Address, api.Mul(isTN, s.Address))
	bAfter.PubKeyHash = api.Mul(bKeep, bu.Before.PubKeyHash)
	bAfter.Nonce = api.Mul(bKeep, bu.Before.Nonce)
	bAfter.Balance = api.Add(api.Mul(bKeep, bu.Before.Balance), api.Mul(isTransfer, s.Amount))
	g.rc.Check(bAfter.Balance, 128)
	root = g.update(root, bBits, bu.Siblings, bu.Before, bAfter)

	// --- Pubdata: the operation's bytes, then the continuation state.
	idxA := bitsToBytes(api, aBits, 4)
	idxB := bitsToBytes(api, bBits, 4)
	nonceBytes := g.toBytes(a.Before.Nonce, 4)
	pkhBytes := g.toBytes(s.NewPubKeyHash, 32)
	for i := range s.EthSignature {
		g.rc.Check(s.EthSignature[i], 8)
	}
	// Byte tables, named so that layouts sharing a table at the same
	// offset can share one product.
	const (
		tIdxA = iota
		tIdxB
		tAddr
		tAmount
		tPackedAmount
		tPackedFee
		tPubKeyHash
		tNonce
		tEthSig
	)
	tables := [...][]frontend.Variable{idxA, idxB, addrBytes, amountBytes, packedAmount, packedFee, pkhBytes, nonceBytes, s.EthSignature[:]}
	layouts := [...]struct {
		flag   frontend.Variable
		fields []int
	}{
		{isDeposit, []int{tIdxA, tAddr, tAmount}},
		{isT, []int{tIdxA, tIdxB, tPackedAmount, tPackedFee}},
		{isTN, []int{tIdxA, tIdxB, tAddr, tPackedAmount, tPackedFee}},
		{isW, []int{tIdxA, tAddr, tAmount, tPackedFee}},
		{isC, []int{tIdxA, tAddr, tPubKeyHash, tNonce, tEthSig}},
	}
	// full[k] = Σ_types flag·byte_k. Where several types place the same
	// table byte at k, their flags are summed first to share one product.
	type term struct {
		coef       frontend.Variable
		table, pos int
	}
	terms := make([][]term, maxOpBytes)
	for _, l := range layouts {
		k := 1
		for _, t := range l.fields {
			for pos := range tables[t] {
				merged := false
				for i := range terms[k] {
					if terms[k][i].table == t && terms[k][i].pos == pos {
						terms[k][i].coef = api.Add(terms[k][i].coef, l.flag)
						merged = true
						break
					}
				}
				if !merged {
					terms[k] = append(terms[k], term{l.flag, t, pos})
				}
				k++
			}
		}
	}
	full := make([]frontend.Variable, maxOpBytes)
	var typeByte frontend.Variable = 0
	for fl, op := range opOfFlag {
		typeByte = api.Add(typeByte, api.Mul(f[fl], int(op)))
	}
	full[0] = typeByte
	for k := 1; k < maxOpBytes; k++ {
		var acc frontend.Variable = 0
		for _, t := range terms[k] {
			acc = api.Add(acc, api.Mul(t.coef, tables[t.table][t.pos]))
		}
		full[k] = acc
	}
	cont := f[flagContinuation]
	chunk = make([]frontend.Variable, ledger.ChunkSize)
	for j := range chunk {
		chunk[j] = api.Add(api.Mul(cont, carry[j]), full[j])
	}
	nextCarry = make([]frontend.Variable, carryBytes)
	for j := range nextCarry {
		var c frontend.Variable = 0
		if j+ledger.ChunkSize < carryBytes {
			c = api.Mul(cont, carry[j+ledger.ChunkSize])
		}
		nextCarry[j] = api.Add(c, full[j+ledger.ChunkSize])
	}
	nextRemaining = api.Mul(cont, api.Sub(remaining, 1))
	for fl, op := range opOfFlag {
		if n := op.Chunks() - 1; n > 0 {
			nextRemaining = api.Add(nextRemaining, api.Mul(f[fl], n))
		}
	}
	return root, fee, chunk, nextCarry, nextRemaining, nil
}

// canonical constrains (mantissa, exponent) to the minimal-exponent
// packing: exponent = 0, or mantissa·10 - 2^bits ∈ [0, 2^(bits+4)).
func (g *gadgets) canonical(mantissa, exponent frontend.Variable, bits int) {
	api := g.api
	nonZero := api.Sub(1, api.IsZero(exponent))
	excess := api.Sub(api.Mul(mantissa, 10), new(big.Int).Lsh(big.NewInt(1), uint(bits)))
	g.rc.Check(api.Mul(nonZero, excess), bits+4)
}

// hash is ledger.Hash in the circuit: Merkle–Damgård over Compress.
func (g *gadgets) hash(xs ...frontend.Variable) frontend.Variable {
	var s frontend.Variable = 0
	for _, x := range xs {
		s = g.perm.Compress(s, x)
	}
	return s
}

// isEmpty is 1 for an empty leaf (zero address), else 0.
func (g *gadgets) isEmpty(a Account) frontend.Variable { return g.api.IsZero(a.Address) }

// leaf is Account.Hash in the circuit: 0 for the empty leaf.
func (g *gadgets) leaf(a Account) frontend.Variable {
	h := g.hash(a.Address, a.PubKeyHash, a.Nonce, a.Balance)
	return g.api.Select(g.isEmpty(a), 0, h)
}

// indexBits decomposes a leaf index into Depth bits (which also bounds it
// by the tree size).
func (g *gadgets) indexBits(idx frontend.Variable) []frontend.Variable {
	return g.api.ToBinary(idx, g.depth)
}

// update checks before against root and returns the root with after
// written at the same position.
func (g *gadgets) update(root frontend.Variable, bits, siblings []frontend.Variable, before, after Account) frontend.Variable {
	api := g.api
	api.AssertIsEqual(g.root(bits, siblings, g.leaf(before)), root)
	return g.root(bits, siblings, g.leaf(after))
}

// root climbs from a leaf to the root: bit i of the index says whether the
// node at level i is a right (1) or left (0) child.
func (g *gadgets) root(bits, siblings []frontend.Variable, leaf frontend.Variable) frontend.Variable {
	api := g.api
	cur := leaf
	for i, sib := range siblings {
		l := api.Select(bits[i], sib, cur)
		r := api.Add(cur, sib)
		r = api.Sub(r, l)
		cur = g.perm.Compress(l, r)
	}
	return cur
}

// toBytes returns the n big-endian bytes of v, each range checked, with
// their recomposition equal to v; for n < 32 this also proves v < 2^(8n).
func (g *gadgets) toBytes(v frontend.Variable, n int) []frontend.Variable {
	api := g.api
	out, err := api.Compiler().NewHint(bytesHint, n, v)
	if err != nil {
		panic(err) // only for a wrong hint registration, a programming error
	}
	var acc frontend.Variable = 0
	for _, b := range out {
		g.rc.Check(b, 8)
		acc = api.Add(api.Mul(acc, 256), b)
	}
	api.AssertIsEqual(acc, v)
	return out
}

// bitsToBytes packs little-endian bits into n big-endian bytes (zero above).
func bitsToBytes(api frontend.API, bits []frontend.Variable, n int) []frontend.Variable {
	out := make([]frontend.Variable, n)
	for i := range out {
		var acc frontend.Variable = 0
		base := (n - 1 - i) * 8
		for j := 7; j >= 0; j-- {
			acc = api.Mul(acc, 2)
			if base+j < len(bits) {
				acc = api.Add(acc, bits[base+j])
			}
		}
		out[i] = acc
	}
	return out
}

// pow10 returns 10^e for the little-endian exponent bits.
func pow10(api frontend.API, bits []frontend.Variable) frontend.Variable {
	var acc frontend.Variable = 1
	for j, b := range bits {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(1<<j), nil)
		// 1 + b·(10^(2^j) - 1)
		acc = api.Mul(acc, api.Add(1, api.Mul(b, new(big.Int).Sub(p, big.NewInt(1)))))
	}
	return acc
}

// pow2 returns 2^n as a circuit constant.
func pow2(n int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(n)) }
