package node_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/settlement"
)

// TestExodusStopsSettlement lets a deposit miss its L1 deadline, activates
// exodus mode on the rollup, and checks that the node notices: /health
// reports it (503) and the node stops sending batches.
func TestExodusStopsSettlement(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig(t.TempDir())
	// A deadline of one L1 block: no batch can be proven and settled in
	// time, so the first deposit expires.
	cfg.L1.PriorityDeadline = 1
	n := startNode(t, cfg)
	defer stopNode(t, n)
	r := settlement.NewRollup(n.L1(), n.Deployment().Rollup)
	if _, err := r.Deposit(ctx, settlement.NewAccount(settlement.DevKey(3)), common.Address{0xab}, ether(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the deposit to expire", func() bool {
		x, err := r.ExpiredPriorityOp(ctx)
		return err == nil && x
	})
	if _, err := r.ActivateExodus(ctx, settlement.NewAccount(settlement.DevKey(4))); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	eventually(t, time.Minute, "/health to report the exodus", func() bool {
		resp, err := http.Get("http://" + n.RPCAddr() + "/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		body = nil
		_ = json.Unmarshal(raw, &body)
		return resp.StatusCode == http.StatusServiceUnavailable && body["status"] == "exodus"
	})
	if body["exodusRoot"] == nil || body["error"] == "" {
		t.Fatalf("health %v", body)
	}
	// Nothing settles after the exodus.
	settled, err := r.State(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if again, err := r.State(ctx, nil); err != nil || again.Number != settled.Number {
		t.Fatalf("L1 batch number moved from %d to %d (%v) in exodus", settled.Number, again.Number, err)
	}
}
