package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/veloxlabs/velox/client"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/node"
	"github.com/veloxlabs/velox/sequencer"
	"github.com/veloxlabs/velox/settlement"
	"github.com/veloxlabs/velox/state"
)

const testChainID = 9

// keyDir is shared by the test binary's nodes, so the development setup
// (minutes on a loaded machine) runs once. It is a cache across runs too:
// $VELOX_TEST_KEYS, or velox/test-keys under the user cache directory.
// Keys are stored by circuit hash, so a changed circuit gets new keys.
var keyDir string

func TestMain(m *testing.M) {
	keyDir = os.Getenv("VELOX_TEST_KEYS")
	if keyDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		keyDir = filepath.Join(base, "velox", "test-keys")
	}
	if err := os.MkdirAll(keyDir, 0o755); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func testConfig(dataDir string) node.Config {
	return node.Config{
		DataDir: dataDir, RPCAddr: "127.0.0.1:0", ChainID: testChainID, Slots: 8, Depth: 4, KeyDir: keyDir,
		BlockTime: 2 * time.Millisecond, BatchTimeout: time.Second, SendTimeout: 20 * time.Second,
		MaxBodyBytes: 64 << 10, MaxBatchItems: 20,
		L1:   node.L1Config{EmbeddedBlockTime: 100 * time.Millisecond, Confirmations: 2, PollInterval: 100 * time.Millisecond},
		NATS: node.NATSConfig{Addr: "127.0.0.1:0"},
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startNode(t *testing.T, cfg node.Config) *node.Node {
	t.Helper()
	n, err := node.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("node started in %v on %s", time.Since(start), n.RPCAddr())
	return n
}

func stopNode(t *testing.T, n *node.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Error(err)
	}
}

func dial(t *testing.T, url string) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether)) }

func wallet(t *testing.T, i int) *client.Wallet {
	t.Helper()
	w, err := client.NewWallet(settlement.DevKey(i), testChainID)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func elem(t *testing.T, h common.Hash) fr.Element {
	t.Helper()
	var e fr.Element
	if err := e.SetBytesCanonical(h[:]); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkProof verifies velox_getAccount's Merkle proof with the state
// package's verifier.
func checkProof(t *testing.T, a *client.Account) {
	t.Helper()
	leaf := ledger.Account{Address: a.Proof.Account.Address, PubKeyHash: elem(t, a.Proof.Account.PubKeyHash), Nonce: uint32(a.Proof.Account.Nonce)}
	leaf.Balance.SetFromBig(a.Proof.Account.Balance.ToInt())
	sib := make([]fr.Element, len(a.Proof.Siblings))
	for i, s := range a.Proof.Siblings {
		sib[i] = elem(t, s)
	}
	if err := state.VerifyProof(elem(t, a.Proof.Root), uint32(a.Index), leaf, sib); err != nil {
		t.Fatalf("account %d: proof does not verify: %v", a.Index, err)
	}
	// A proof of another balance does not verify.
	leaf.Balance.AddUint64(&leaf.Balance, 1)
	if err := state.VerifyProof(elem(t, a.Proof.Root), uint32(a.Index), leaf, sib); err == nil {
		t.Fatal("a forged leaf verifies")
	}
}

// TestEndToEnd runs a node with the embedded L1 and real proofs: deposits,
// key changes, transfers and a withdrawal over JSON-RPC, every transaction
// finalized, the L2 root equal to the root verified on L1, the withdrawal
// claimed; bad input is rejected with clear errors; a restart on the same
// data directory resumes.
func TestEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	n := startNode(t, testConfig(dataDir))
	stopped := false
	defer func() {
		if !stopped {
			stopNode(t, n)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	httpURL, wsURL := "http://"+n.RPCAddr(), "ws://"+n.RPCAddr()
	c, ws := dial(t, httpURL), dial(t, wsURL)

	if id, err := c.ChainID(ctx); err != nil || id != testChainID {
		t.Fatalf("chain id %d, %v", id, err)
	}
	blocks := make(chan *client.MiniBlock, 1024)
	bsub, err := ws.SubscribeMiniBlocks(ctx, blocks)
	if err != nil {
		t.Fatal(err)
	}
	defer bsub.Unsubscribe()

	// Deposits on L1, picked up by the watcher.
	l1 := n.L1()
	rollup := settlement.NewRollup(l1, n.Deployment().Rollup)
	a, b := wallet(t, 1), wallet(t, 2)
	x := settlement.NewAccount(settlement.DevKey(3)) // L1 recipient of the withdrawal
	for _, d := range []struct {
		w   *client.Wallet
		amt *big.Int
	}{{a, ether(5)}, {b, ether(1)}} {
		if _, err := rollup.Deposit(ctx, settlement.NewAccount(d.w.Eth), d.w.Address, d.amt); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Minute, "deposits on L2", func() bool {
		bal, err := c.Balance(ctx, b.Address)
		return err == nil && bal.Cmp(ether(1)) == 0
	})
	if bal, _ := c.Balance(ctx, a.Address); bal.Cmp(ether(5)) != 0 {
		t.Fatalf("balance of a %v, want 5 ether", bal)
	}

	var hashes []common.Hash
	send := func(what string, pre *client.Preconfirmation, err error) *client.Preconfirmation {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !pre.Receipt.OK() {
			t.Fatalf("%s failed: %s (%s)", what, pre.Receipt.Error, pre.Receipt.Rule)
		}
		hdr := sequencer.Header{ChainID: uint64(pre.Header.ChainID), Number: uint64(pre.Header.Number), Parent: pre.Header.ParentHash,
			Time: uint64(pre.Header.TimeMicros), Batch: uint64(pre.Header.Batch), TxRoot: pre.Header.TxRoot, ReceiptRoot: pre.Header.ReceiptRoot}
		if hdr.Hash() != pre.HeaderHash {
			t.Fatalf("%s: header hash mismatch", what)
		}
		if err := sequencer.VerifyHeader(&hdr, pre.Signature, pre.Sequencer); err != nil || pre.Sequencer != n.SequencerAddress() {
			t.Fatalf("%s: preconfirmation signature: %v", what, err)
		}
		hashes = append(hashes, pre.Receipt.TxHash)
		return pre
	}
	pre, err := c.SetKey(ctx, a)
	send("key change a", pre, err)
	pre, err = c.SetKey(ctx, b)
	send("key change b", pre, err)
	pre, err = c.Transfer(ctx, a, b.Address, ether(1), big.NewInt(1000))
	send("transfer a→b", pre, err)
	pre, err = c.Transfer(ctx, b, a.Address, new(big.Int).Div(ether(1), big.NewInt(2)), big.NewInt(1000))
	send("transfer b→a", pre, err)
	pre, err = c.Withdraw(ctx, a, x.Address, ether(2), big.NewInt(1000))
	withdrawal := send("withdraw a→L1", pre, err).Receipt.TxHash

	// The withdrawal's status, streamed.
	statuses := make(chan *client.TxStatus, 16)
	ssub, err := ws.SubscribeTransactionStatus(ctx, withdrawal, statuses)
	if err != nil {
		t.Fatal(err)
	}
	defer ssub.Unsubscribe()

	t.Run("bad-input", func(t *testing.T) { badInput(t, n, c, a, b) })

	// Every transaction reaches finalized.
	for _, h := range hashes {
		s, err := c.WaitStatus(ctx, h, client.StatusFinalized, 100*time.Millisecond)
		if err != nil {
			ps, _ := c.ProverStatus(ctx)
			t.Fatalf("%v: %v (prover %+v)", h, err, ps)
		}
		if s.Batch == nil || s.Block == nil {
			t.Fatalf("finalized status without position: %+v", s)
		}
	}
	var seen []string
	eventually(t, 10*time.Second, "streamed finalized status", func() bool {
		for {
			select {
			case s := <-statuses:
				seen = append(seen, s.Status)
			default:
				return len(seen) > 0 && seen[len(seen)-1] == client.StatusFinalized
			}
		}
	})
	for i := 1; i < len(seen); i++ {
		if !client.Reached(seen[i], seen[i-1]) || seen[i] == seen[i-1] {
			t.Fatalf("status stream went %v", seen)
		}
	}

	// The L2 tree root is the root verified on L1.
	onL1, err := rollup.State(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Batch(ctx, onL1.Number)
	if err != nil {
		t.Fatal(err)
	}
	if batch.NewRoot != common.Hash(onL1.Root) || batch.Status != "finalized" || len(batch.Proof) == 0 {
		t.Fatalf("batch %d: root %v status %s, L1 root %x", onL1.Number, batch.NewRoot, batch.Status, onL1.Root)
	}
	acc, err := c.Account(ctx, a.Address)
	if err != nil {
		t.Fatal(err)
	}
	checkProof(t, acc)
	if uint64(acc.Proof.Batch) == onL1.Number && acc.Proof.Root != common.Hash(onL1.Root) {
		t.Fatalf("account proof root %v at batch %d, L1 root %x", acc.Proof.Root, acc.Proof.Batch, onL1.Root)
	}
	// a: 5 - 1 + 0.5 - 2 ether, minus two fees.
	want := new(big.Int).Sub(new(big.Int).Div(ether(5), big.NewInt(2)), big.NewInt(2000))
	if acc.Balance.ToInt().Cmp(want) != 0 || acc.Nonce != 3 {
		t.Fatalf("account a: balance %v nonce %d, want %v 3", acc.Balance.ToInt(), acc.Nonce, want)
	}
	if uint64(acc.Proof.Batch) == onL1.Number && acc.Proof.Account.Balance.ToInt().Cmp(want) != 0 {
		t.Fatalf("tree leaf of a: %v", acc.Proof.Account.Balance.ToInt())
	}

	// The withdrawal is claimed on L1.
	owed, err := rollup.PendingWithdrawal(ctx, x.Address)
	if err != nil || owed.Cmp(ether(2)) != 0 {
		t.Fatalf("pending withdrawal %v, %v", owed, err)
	}
	if _, err := rollup.ClaimWithdrawal(ctx, x); err != nil {
		t.Fatal(err)
	}
	if owed, _ := rollup.PendingWithdrawal(ctx, x.Address); owed.Sign() != 0 {
		t.Fatalf("still owed %v after the claim", owed)
	}

	// The subscribed mini-blocks are signed and chained.
	var got []*client.MiniBlock
	for len(blocks) > 0 {
		got = append(got, <-blocks)
	}
	if len(got) == 0 {
		t.Fatal("no mini-block notifications")
	}
	for i, mb := range got {
		hdr := sequencer.Header{ChainID: uint64(mb.Header.ChainID), Number: uint64(mb.Header.Number), Parent: mb.Header.ParentHash,
			Time: uint64(mb.Header.TimeMicros), Batch: uint64(mb.Header.Batch), TxRoot: mb.Header.TxRoot, ReceiptRoot: mb.Header.ReceiptRoot}
		if err := sequencer.VerifyHeader(&hdr, mb.Signature, n.SequencerAddress()); err != nil || hdr.Hash() != mb.Hash {
			t.Fatalf("mini-block %d: %v", mb.Header.Number, err)
		}
		if i > 0 && (mb.Header.Number != got[i-1].Header.Number+1 || mb.Header.ParentHash != got[i-1].Hash) {
			t.Fatalf("mini-block %d does not follow %d", mb.Header.Number, got[i-1].Header.Number)
		}
		if len(mb.Transactions) != len(mb.Receipts) || len(mb.Transactions) == 0 {
			t.Fatalf("mini-block %d: %d entries, %d receipts", mb.Header.Number, len(mb.Transactions), len(mb.Receipts))
		}
	}
	if mb, err := c.MiniBlock(ctx, uint64(got[0].Header.Number)); err != nil || mb.Hash != got[0].Hash {
		t.Fatalf("velox_getMiniBlock: %v", err)
	}
	ps, err := c.ProverStatus(ctx)
	if err != nil || ps.Proven == 0 || ps.Failed != 0 || !ps.DevKeys || ps.Slots != 8 {
		t.Fatalf("prover status %+v, %v", ps, err)
	}
	checkHTTP(t, httpURL)

	// Restart on the same data directory: the state, the deployment and
	// the deposit log are reused, and the node takes new transactions.
	head, _ := c.BlockNumber(ctx)
	deployment := n.Deployment()
	stopNode(t, n)
	stopped = true
	n = startNode(t, testConfig(dataDir))
	stopped = false
	if n.Deployment() != deployment {
		t.Fatalf("redeployed: %+v, was %+v", n.Deployment(), deployment)
	}
	c2 := dial(t, "http://"+n.RPCAddr())
	if h, err := c2.BlockNumber(ctx); err != nil || h != head {
		t.Fatalf("head after restart %d (%v), was %d", h, err, head)
	}
	pre, err = c2.Transfer(ctx, b, a.Address, big.NewInt(1_000_000), big.NewInt(1000))
	send("transfer after restart", pre, err)
	if s, err := c2.WaitStatus(ctx, pre.Receipt.TxHash, client.StatusFinalized, 100*time.Millisecond); err != nil {
		t.Fatalf("after restart: %v %+v", err, s)
	}
}

// checkHTTP checks /health and /metrics.
func checkHTTP(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("/health: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"velox_preconfirmation_seconds_count", "velox_miniblock_entries", "velox_mempool_txs",
		"velox_batch_proof_latency_seconds", "velox_prover_prove_seconds", `velox_l1_submissions_total{result="ok"}`} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	// The transfer after the restart went through every stage.
	for _, st := range node.StageNames {
		name := `velox_preconfirm_stage_seconds_count{stage="` + st + `"} `
		_, rest, ok := strings.Cut(string(body), name)
		if n, _, _ := strings.Cut(rest, "\n"); !ok || n == "0" {
			t.Errorf("/metrics: %s%s, want a count of at least 1", name, n)
		}
	}
}

// rawCall posts body to url and returns the HTTP status and the response.
func rawCall(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

type rpcResponse struct {
	Error *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// badInput sends malformed and rule-breaking requests: each gets a
// JSON-RPC error with a code and a clear message; nothing changes.
func badInput(t *testing.T, n *node.Node, c *client.Client, a, b *client.Wallet) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := "http://" + n.RPCAddr()
	accA, err := c.Account(ctx, a.Address)
	if err != nil {
		t.Fatal(err)
	}
	accB, _ := c.Account(ctx, b.Address)
	head, _ := c.BlockNumber(ctx)
	idx, nonce := uint32(accA.Index), uint32(accA.Nonce)

	mustTx := func(raw []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	badSig := mustTx(a.Transfer(idx, b.Address, big.NewInt(10), big.NewInt(1), nonce))
	badSig[len(badSig)-1] ^= 1
	otherKey := mustTx(b.Transfer(idx, b.Address, big.NewInt(10), big.NewInt(1), nonce)) // signed by b for a's account
	gap := mustTx(a.Transfer(idx, b.Address, big.NewInt(10), big.NewInt(1), nonce+1000))
	low := mustTx(a.Transfer(idx, b.Address, big.NewInt(10), big.NewInt(1), nonce-1))
	overdraft := mustTx(a.Transfer(idx, b.Address, ether(1000), big.NewInt(1), nonce))
	notPackable := mustTx(a.Transfer(idx, b.Address, big.NewInt(10), big.NewInt(2049), nonce))
	noAccount := mustTx(a.Transfer(15, b.Address, big.NewInt(10), big.NewInt(1), 0))
	mb, err := c.MiniBlock(ctx, uint64(head))
	if err != nil {
		t.Fatal(err)
	}
	var replay []byte
	for _, e := range mb.Transactions {
		if len(e.Raw) > 0 {
			replay = e.Raw
		}
	}
	if replay == nil {
		t.Fatal("no transaction to replay in the newest mini-block")
	}

	sendCases := []struct {
		name string
		raw  []byte
		code int
		msg  string
	}{
		{"bad signature", badSig, node.CodeBadSignature, "signature"},
		{"signed by another key", otherKey, node.CodeBadSignature, "not the account's key"}, // refused at admission: it could only fail
		{"nonce gap", gap, node.CodeNonceGap, "nonce"},
		{"nonce too low", low, node.CodeNonceTooLow, "nonce"},
		{"replay", replay, node.CodeDuplicate, "duplicate"},
		{"overdraft", overdraft, node.CodeInsufficient, "insufficient balance"},
		{"fee not packable", notPackable, node.CodeInvalidTx, "fee"},
		{"no account", noAccount, node.CodeUnknownAccount, "deposit"},
		{"truncated", badSig[:40], node.CodeInvalidTx, "malformed"},
		{"too large", append(bytes.Clone(badSig), make([]byte, 1000)...), node.CodeInvalidTx, "too large"},
	}
	for _, tc := range sendCases {
		pre, err := c.SendTransaction(ctx, tc.raw)
		if err == nil {
			t.Errorf("%s: accepted (%+v)", tc.name, pre.Receipt)
			continue
		}
		if code := client.ErrorCode(err); code != tc.code || !strings.Contains(strings.ToLower(err.Error()), tc.msg) {
			t.Errorf("%s: error %d %q, want code %d mentioning %q", tc.name, code, err, tc.code, tc.msg)
		}
	}

	rawCases := []struct {
		name, body string
		code       int
		msg        string
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":[`, -32700, "parse"},
		{"wrong param type", `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":[123]}`, -32602, "argument 0"},
		{"bad hex", `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0xzz"]}`, -32602, "hex"},
		{"odd hex", `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x123"]}`, -32602, "hex"},
		{"empty tx", `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x"]}`, -32602, "empty transaction"},
		{"missing param", `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":[]}`, -32602, "missing value"},
		{"bad block tag", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["` + a.Address.Hex() + `","earliest"]}`, node.CodeBlockTag, "latest"},
		{"bad address", `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12","latest"]}`, -32602, "argument 0"},
		{"bad block number", `{"jsonrpc":"2.0","id":1,"method":"velox_getMiniBlock","params":[{"a":1}]}`, -32602, "number"},
		{"unknown block", `{"jsonrpc":"2.0","id":1,"method":"velox_getMiniBlock","params":["0xffffff"]}`, node.CodeNotFound, "no mini-block"},
		{"unknown batch", `{"jsonrpc":"2.0","id":1,"method":"velox_getBatch","params":[999999]}`, node.CodeNotFound, "not cut"},
		{"bad account", `{"jsonrpc":"2.0","id":1,"method":"velox_getAccount","params":["bob"]}`, -32602, "neither an address"},
		{"index outside tree", `{"jsonrpc":"2.0","id":1,"method":"velox_getAccount","params":["99"]}`, -32602, "outside the tree"},
		{"unknown tx", `{"jsonrpc":"2.0","id":1,"method":"velox_getTransactionStatus","params":["0x` + strings.Repeat("ab", 32) + `"]}`, node.CodeNotFound, "unknown"},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"velox_nope","params":[]}`, -32601, "does not exist"},
	}
	for _, tc := range rawCases {
		status, body := rawCall(t, url, tc.body)
		var r rpcResponse
		if err := json.Unmarshal([]byte(body), &r); err != nil || r.Error == nil {
			t.Errorf("%s: HTTP %d %s", tc.name, status, body)
			continue
		}
		if r.Error.Code != tc.code || !strings.Contains(strings.ToLower(r.Error.Message), tc.msg) {
			t.Errorf("%s: error %d %q, want %d mentioning %q", tc.name, r.Error.Code, r.Error.Message, tc.code, tc.msg)
		}
	}

	// Oversized body: refused before parsing.
	huge := `{"jsonrpc":"2.0","id":1,"method":"velox_sendTransaction","params":["0x` + strings.Repeat("00", 64<<10) + `"]}`
	if status, body := rawCall(t, url, huge); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: HTTP %d %.200s", status, body)
	}
	// Oversized batch: more calls than the limit.
	var calls []string
	for i := range 21 {
		calls = append(calls, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"eth_blockNumber","params":[]}`, i))
	}
	_, body := rawCall(t, url, "["+strings.Join(calls, ",")+"]")
	if !strings.Contains(body, "batch too large") {
		t.Errorf("oversized batch: %.300s", body)
	}
	// A batch within the limit works.
	elems := make([]rpc.BatchElem, 20)
	for i := range elems {
		elems[i] = rpc.BatchElem{Method: "eth_blockNumber", Result: new(hexutil.Uint64)}
	}
	if err := c.RPC().BatchCallContext(ctx, elems); err != nil || elems[19].Error != nil {
		t.Errorf("batch of 20: %v %v", err, elems[19].Error)
	}

	// An oversized WebSocket message: refused, the connection dropped,
	// the node unharmed.
	big := dial(t, "ws://"+n.RPCAddr())
	if err := big.RPC().CallContext(ctx, nil, "velox_sendTransaction", hexutil.Bytes(make([]byte, 64<<10))); err == nil {
		t.Error("oversized WebSocket message accepted")
	}

	// Nothing changed, and the node still serves.
	after, err := c.Account(ctx, a.Address)
	if err != nil {
		t.Fatal(err)
	}
	afterB, _ := c.Account(ctx, b.Address)
	if after.Nonce != accA.Nonce || after.Balance.ToInt().Cmp(accA.Balance.ToInt()) != 0 ||
		afterB.Nonce != accB.Nonce || afterB.Balance.ToInt().Cmp(accB.Balance.ToInt()) != 0 {
		t.Fatalf("state changed: a %+v→%+v, b %+v→%+v", accA, after, accB, afterB)
	}
	if h, err := c.BlockNumber(ctx); err != nil || h > head+1 {
		// The wrong-key transfer may be preconfirmed as failed (one block).
		t.Fatalf("head %d → %d (%v)", head, h, err)
	}
}

func TestConfigCheck(t *testing.T) {
	good := node.Config{}.WithDefaults()
	if err := good.Check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if good.DataDir != "./velox-data" || good.RPCAddr != "127.0.0.1:9545" || good.KeyDir != filepath.Join("velox-data", "keys") ||
		good.BlockTime != 10*time.Millisecond || good.Slots != 8 || good.Depth != 16 || good.NATS.Addr != "127.0.0.1:4222" || good.NATS.NoLocalProver {
		t.Fatalf("defaults: %+v", good)
	}
	if c := (node.Config{L1: node.L1Config{EmbeddedHTTP: true}}).WithDefaults(); c.L1.EmbeddedHTTPAddr != "127.0.0.1:8545" || c.Check() != nil {
		t.Fatalf("embedded HTTP default: %q %v", c.L1.EmbeddedHTTPAddr, c.Check())
	}
	cases := []struct {
		name  string
		tweak func(*node.Config)
		msg   string
	}{
		{"bad rpc addr", func(c *node.Config) { c.RPCAddr = "9545" }, "RPC address"},
		{"few slots", func(c *node.Config) { c.Slots = 4 }, "slots"},
		{"deep tree", func(c *node.Config) { c.Depth = 40 }, "depth"},
		{"slow blocks", func(c *node.Config) { c.BlockTime = 2 * time.Second; c.BatchTimeout = time.Minute }, "mini-block time"},
		{"batch timeout", func(c *node.Config) { c.BatchTimeout = time.Millisecond }, "batch timeout"},
		{"tiny body", func(c *node.Config) { c.MaxBodyBytes = 10 }, "body limit"},
		{"url without key", func(c *node.Config) { c.L1.RPCURL = "http://127.0.0.1:8545" }, "private key"},
		{"bad url", func(c *node.Config) { c.L1.RPCURL = "ftp://x"; c.L1.Key = settlement.DevKey(0) }, "L1 RPC URL"},
		{"key without url", func(c *node.Config) { c.L1.Key = settlement.DevKey(0) }, "only used with an external L1"},
		{"external L1 and embedded HTTP", func(c *node.Config) {
			c.L1.RPCURL, c.L1.Key, c.L1.EmbeddedHTTP, c.L1.EmbeddedHTTPAddr = "http://127.0.0.1:8545", settlement.DevKey(0), true, "127.0.0.1:8546"
		}, "embedded L1's HTTP"},
		{"public L1 HTTP", func(c *node.Config) { c.L1.EmbeddedHTTP, c.L1.EmbeddedHTTPAddr = true, "0.0.0.0:8545" }, "loopback"},
		{"same ports", func(c *node.Config) { c.L1.EmbeddedHTTP, c.L1.EmbeddedHTTPAddr = true, c.RPCAddr }, "both listen"},
		{"bad NATS url", func(c *node.Config) { c.NATS.URL, c.NATS.Addr = "http://x:4222", "" }, "NATS URL"},
		{"NATS url and addr", func(c *node.Config) { c.NATS.URL = "nats://10.0.0.1:4222" }, "cannot be set with an external NATS"},
		{"bad NATS addr", func(c *node.Config) { c.NATS.Addr = "4222" }, "NATS address"},
		{"NATS on the RPC port", func(c *node.Config) { c.NATS.Addr = c.RPCAddr }, "embedded NATS server and another service"},
		{"short ack wait", func(c *node.Config) { c.NATS.AckWait = time.Millisecond }, "ack wait"},
	}
	for _, tc := range cases {
		c := good
		tc.tweak(&c)
		err := c.Check()
		if !errors.Is(err, node.ErrConfig) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.msg)
		}
	}
	if _, err := node.New(node.Config{Slots: 4}, nil); !errors.Is(err, node.ErrConfig) {
		t.Fatalf("New with a bad config: %v", err)
	}
}
