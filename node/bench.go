package node

// HoldBatches keeps closed proving batches from being cut, and so from
// being proven and settled, while hold is true (see
// sequencer.Sequencer.HoldCuts); false resumes. Mini-blocks and
// preconfirmations are unaffected. It is for benchmarks that measure the
// preconfirmation path without the prover competing for the CPU. Call it
// after Start.
func (n *Node) HoldBatches(hold bool) { n.seq.HoldCuts(hold) }
