package settlement

import (
	"errors"
	"testing"
	"time"
)

func TestDevConfigCheck(t *testing.T) {
	for _, c := range []DevConfig{
		{HTTPAddr: "0.0.0.0:8545"},
		{HTTPAddr: "10.1.2.3:8545"},
		{HTTPAddr: "127.0.0.1"},
		{HTTPAddr: "127.0.0.1:99999"},
		{BlockTime: -time.Second},
		{Accounts: -1},
	} {
		if err := c.Check(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	for _, c := range []DevConfig{{}, {HTTPAddr: "127.0.0.1:8545"}, {HTTPAddr: "localhost:0"}, {HTTPAddr: "[::1]:8545"}} {
		if err := c.Check(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// TestDevChainHTTP serves JSON-RPC on loopback when asked.
func TestDevChainHTTP(t *testing.T) {
	ctx := testCtx(t)
	d, err := StartDevChain(DevConfig{HTTPAddr: "127.0.0.1:0", BlockTime: 100 * time.Millisecond, ChainID: 4242})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.HTTPEndpoint() == "" {
		t.Fatal("no HTTP endpoint")
	}
	c, err := Dial(ctx, d.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.Uint64() != 4242 {
		t.Fatalf("chain id %v", id)
	}
	bal, err := c.BalanceAt(ctx, NewAccount(DevKey(9)).Address, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Cmp(DevAccountBalance) != 0 {
		t.Fatalf("dev account 9 holds %v", bal)
	}
	if off := startDev(t, ""); off.HTTPEndpoint() != "" {
		t.Fatal("HTTP served without being asked")
	}
}

func TestWatcherRejectsBadCursor(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/cursor.json"
	if err := writeFileAtomic(path, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWatcher(nil, WatcherConfig{CursorPath: path}); !errors.Is(err, ErrCursor) {
		t.Fatalf("corrupt cursor: %v", err)
	}
	if _, err := NewWatcher(nil, WatcherConfig{}); err == nil {
		t.Fatal("watcher without a cursor file accepted")
	}
}
