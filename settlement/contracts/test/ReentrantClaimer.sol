// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

interface IRollupClaim {
    function deposit(address to) external payable;
    function claimWithdrawal() external;
}

/// @notice Test-only attacker (settlement's TestClaimReentrancy compiles it at
/// run time; it is never deployed elsewhere). It deposits through the rollup,
/// so that in exodus its refund is owed to it, then claims; while being paid,
/// its receive() re-enters claimWithdrawal up to `maxReentries` times,
/// swallowing failures so that the outer claim can still succeed.
contract ReentrantClaimer {
    IRollupClaim public immutable rollup;
    uint256 public constant maxReentries = 3;
    /// Re-entrant claims attempted, and those that did not revert.
    uint256 public reentries;
    uint256 public reentered;
    /// Wei received, and the number of payments.
    uint256 public received;
    uint256 public payments;

    constructor(IRollupClaim rollup_) {
        rollup = rollup_;
    }

    function deposit(address to) external payable {
        rollup.deposit{value: msg.value}(to);
    }

    function attack() external {
        rollup.claimWithdrawal();
    }

    receive() external payable {
        received += msg.value;
        payments++;
        if (reentries < maxReentries) {
            reentries++;
            try rollup.claimWithdrawal() {
                reentered++;
            } catch {}
        }
    }
}
