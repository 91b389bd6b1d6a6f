package ledger

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards/eddsa"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
)

// Sizes of keys and signatures on the wire.
const (
	PubKeySize    = 32 // compressed twisted Edwards point
	SignatureSize = 64 // compressed R || S
	EthSigSize    = 65 // r || s || v (v = 27 or 28)
)

// PubKey is a compressed L2 EdDSA public key (BN254 twisted Edwards).
type PubKey [PubKeySize]byte

// Signature is a compressed L2 EdDSA signature: R (32 bytes) || S (32 bytes).
type Signature [SignatureSize]byte

// PrivateKey is an L2 signing key.
type PrivateKey struct{ k *eddsa.PrivateKey }

// GenerateKey derives a private key from 32 bytes read from r.
func GenerateKey(r io.Reader) (*PrivateKey, error) {
	k, err := eddsa.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("ledger: generating key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// KeyDerivationMessage is the text an Ethereum key signs (EIP-191 personal
// message) to derive its L2 key for the given chain. Signing is
// deterministic (RFC 6979), so the same Ethereum key always yields the same
// L2 key; wallets must only produce this signature for Velox.
func KeyDerivationMessage(chainID uint64) []byte {
	return fmt.Appendf(nil, "Velox L2 key\nchain id: %d\nSign this only in a Velox wallet.", chainID)
}

// DeriveKey derives the L2 key of an Ethereum key: the seed is SHA-256 of the
// Ethereum signature over KeyDerivationMessage.
func DeriveKey(ethKey *ecdsa.PrivateKey, chainID uint64) (*PrivateKey, error) {
	sig, err := crypto.Sign(accounts.TextHash(KeyDerivationMessage(chainID)), ethKey)
	if err != nil {
		return nil, fmt.Errorf("ledger: signing key derivation message: %w", err)
	}
	return DeriveKeyFromSignature(sig)
}

// DeriveKeyFromSignature derives the L2 key from an Ethereum signature over
// KeyDerivationMessage, for wallets whose Ethereum key lives elsewhere. The
// recovery id may be given as 0/1 (go-ethereum's crypto.Sign) or 27/28
// (personal_sign); it is normalized to 0/1 before hashing, so both forms
// yield the key DeriveKey returns. It returns ErrMalformed for a wrong
// length or any other recovery id.
func DeriveKeyFromSignature(ethSig []byte) (*PrivateKey, error) {
	if len(ethSig) != EthSigSize {
		return nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(ethSig), EthSigSize)
	}
	var sig [EthSigSize]byte
	copy(sig[:], ethSig)
	if sig[64] >= 27 {
		sig[64] -= 27
	}
	if sig[64] > 1 {
		return nil, fmt.Errorf("%w: recovery id %d", ErrMalformed, ethSig[64])
	}
	seed := sha256.Sum256(sig[:])
	return GenerateKey(bytes.NewReader(seed[:]))
}

// Public returns the compressed public key.
func (k *PrivateKey) Public() PubKey {
	var p PubKey
	copy(p[:], k.k.PublicKey.Bytes())
	return p
}

// Sign signs a message hash (see Tx.Hash).
func (k *PrivateKey) Sign(msg fr.Element) (Signature, error) {
	var s Signature
	b := msg.Bytes()
	raw, err := k.k.Sign(b[:], poseidon2.NewMerkleDamgardHasher())
	if err != nil {
		return s, fmt.Errorf("ledger: signing: %w", err)
	}
	copy(s[:], raw)
	return s, nil
}

// Point decompresses the key into its affine coordinates. It returns
// ErrNonCanonical for an encoding that is not the canonical compression of
// a non-identity point of the prime-order subgroup.
func (p *PubKey) Point() (x, y fr.Element, err error) {
	k, err := p.decoded()
	if err != nil {
		return x, y, err
	}
	return k.pk.A.X, k.pk.A.Y, nil
}

// decodedKey is a public key decompressed and checked once, with its hash.
type decodedKey struct {
	pk   eddsa.PublicKey
	hash fr.Element
	// negA is the window table of -A for verify's cold path.
	negA *windowTable
	// hot is the hot-key state (verify_hot.go), the only mutable part.
	hot hotState
}

// keyCache remembers valid decoded keys by their encoding: decompression
// (a square root), the canonical-encoding check and the key hash are a
// large share of a signature check, and the same senders sign again and
// again. Entries are immutable but for their hot-key state (atomic); the
// cache is emptied when full.
var keyCache struct {
	sync.RWMutex
	m map[PubKey]*decodedKey
}

const keyCacheSize = 1 << 16

// decoded returns p decompressed, from the cache when it was seen before.
// Invalid keys are not cached.
func (p *PubKey) decoded() (*decodedKey, error) {
	keyCache.RLock()
	k := keyCache.m[*p]
	keyCache.RUnlock()
	if k != nil {
		return k, nil
	}
	pk, err := p.decode()
	if err != nil {
		return nil, err
	}
	var negA twistededwards.PointAffine
	negA.Neg(&pk.A)
	k = &decodedKey{pk: *pk, hash: Hash(pk.A.X, pk.A.Y), negA: newWindowTable(&negA)}
	keyCache.Lock()
	if keyCache.m == nil || len(keyCache.m) >= keyCacheSize {
		keyCache.m = make(map[PubKey]*decodedKey, 1024)
	}
	keyCache.m[*p] = k
	keyCache.Unlock()
	return k, nil
}

// decode decompresses p. gnark-crypto reduces the y coordinate modulo r and
// accepts either sign bit for x = 0, so several byte strings decode to the
// same point; only the one that recompresses to itself is accepted, which
// keeps transaction encodings unique.
func (p *PubKey) decode() (*eddsa.PublicKey, error) {
	var pk eddsa.PublicKey
	if _, err := pk.SetBytes(p[:]); err != nil {
		return nil, fmt.Errorf("%w: public key: %v", ErrNonCanonical, err)
	}
	if !bytes.Equal(pk.Bytes(), p[:]) {
		return nil, fmt.Errorf("%w: public key is not canonically compressed", ErrNonCanonical)
	}
	return &pk, nil
}

// Hash returns the pubKeyHash an account stores for this key:
// Hash(A.X, A.Y).
func (p *PubKey) Hash() (fr.Element, error) {
	k, err := p.decoded()
	if err != nil {
		return fr.Element{}, err
	}
	return k.hash, nil
}

// Verify checks sig over msg under p. It returns ErrBadSignature for any
// signature that does not verify, including malformed encodings.
func (p *PubKey) Verify(msg fr.Element, sig *Signature) error {
	k, err := p.decoded()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !k.verify(sig, &msg) {
		return ErrBadSignature
	}
	return nil
}
