// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice The Groth16 verifier that gnark's ExportSolidity generates for the
/// Velox batch circuit (one public input, BSB22 commitments). It reverts
/// unless the proof verifies.
interface IVerifier {
    function verifyProof(bytes calldata proof, uint256[1] calldata input) external view;
}

/// @title Velox rollup
/// @notice Holds the L2 account tree root, the queue of L1 deposits (priority
/// operations) and the withdrawals released by verified batches. Byte layouts
/// follow docs/PROTOCOL.md (§6 ChangePubKey message, §8 pubdata, §10 priority
/// operations, §11 batch public input).
///
/// Liveness: every deposit gets a deadline (block number). While the oldest
/// unconsumed deposit is past its deadline, a batch must consume priority
/// operations only (Deposit and Noop chunks), so the sequencer cannot keep
/// settling its own transactions while ignoring the queue. An exodus mode
/// (users withdrawing with Merkle proofs when the sequencer stops) is future
/// work; expiredPriorityOp() exposes the condition it would start from.
contract Rollup {
    /// BN254 scalar field order r.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// secp256k1 group order n / 2 (EIP-2 low-s bound).
    uint256 internal constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint256 internal constant CHUNK = 16;

    uint8 internal constant OP_NOOP = 0x00;
    uint8 internal constant OP_DEPOSIT = 0x01;
    uint8 internal constant OP_TRANSFER = 0x02;
    uint8 internal constant OP_TRANSFER_TO_NEW = 0x03;
    uint8 internal constant OP_WITHDRAW = 0x04;
    uint8 internal constant OP_CHANGE_PUBKEY = 0x05;

    struct PriorityOp {
        address to;
        uint64 deadline;
        uint128 amount;
    }

    IVerifier public immutable verifier;
    address public immutable sequencer;
    uint64 public immutable chainId;
    /// Blocks a deposit may wait before it must be consumed.
    uint64 public immutable priorityDeadline;

    bytes32 public stateRoot;
    uint64 public batchNumber;
    /// Queue of deposits: ids firstPriority .. totalPriority-1 are pending.
    uint64 public firstPriority;
    uint64 public totalPriority;
    mapping(uint64 => PriorityOp) public priorityOps;
    /// Amount each L1 address may claim with claimWithdrawal.
    mapping(address => uint256) public pendingWithdrawals;

    event Deposit(uint64 indexed id, address indexed to, uint128 amount, uint64 deadline);
    event BatchVerified(uint64 indexed number, bytes32 newRoot);
    event WithdrawalClaimed(address indexed to, uint256 amount);

    error NotSequencer();
    error ZeroAddress();
    error ZeroAmount();
    error AmountTooLarge();
    error BadBatchNumber(uint64 want, uint64 got);
    error RootNotInField();
    error BadPubdataLength();
    error UnknownOp(uint256 offset, uint8 opType);
    error TruncatedOp(uint256 offset);
    error PriorityOpMismatch(uint64 id);
    error NoPriorityOp(uint256 offset);
    error PriorityOpExpired(uint64 id);
    error BadSignature(uint256 offset);
    error InvalidProof();
    error NothingToClaim();
    error TransferFailed();

    /// @param genesisRoot the root after batch genesisNumber (0 for a new chain;
    /// a rollup started from a snapshot of an existing L2 state gives its batch).
    constructor(
        IVerifier verifier_,
        address sequencer_,
        uint64 chainId_,
        bytes32 genesisRoot,
        uint64 genesisNumber,
        uint64 priorityDeadline_
    ) {
        if (address(verifier_) == address(0) || sequencer_ == address(0)) revert ZeroAddress();
        if (uint256(genesisRoot) >= R) revert RootNotInField();
        verifier = verifier_;
        sequencer = sequencer_;
        chainId = chainId_;
        stateRoot = genesisRoot;
        batchNumber = genesisNumber;
        priorityDeadline = priorityDeadline_;
    }

    /// @notice Queues a deposit of msg.value wei to the L2 account of `to`.
    function deposit(address to) external payable {
        if (to == address(0)) revert ZeroAddress();
        if (msg.value == 0) revert ZeroAmount();
        if (msg.value >= 1 << 128) revert AmountTooLarge();
        uint64 id = totalPriority;
        uint64 deadline = uint64(block.number) + priorityDeadline;
        priorityOps[id] = PriorityOp({to: to, deadline: deadline, amount: uint128(msg.value)});
        totalPriority = id + 1;
        emit Deposit(id, to, uint128(msg.value), deadline);
    }

    /// @notice True when the oldest unconsumed deposit is past its deadline.
    function expiredPriorityOp() public view returns (bool) {
        uint64 id = firstPriority;
        return id < totalPriority && priorityOps[id].deadline < block.number;
    }

    /// @notice Settles batch `number` (the next one): checks its pubdata
    /// against the deposit queue, verifies the proof of the transition from
    /// stateRoot to newRoot, then records its withdrawals.
    /// @param proof gnark's MarshalSolidity encoding of the Groth16 proof.
    function submitBatch(uint64 number, bytes32 newRoot, bytes calldata pubdata, bytes calldata proof) external {
        if (msg.sender != sequencer) revert NotSequencer();
        if (number != batchNumber + 1) revert BadBatchNumber(batchNumber + 1, number);
        if (uint256(newRoot) >= R) revert RootNotInField();
        if (pubdata.length == 0 || pubdata.length % CHUNK != 0) revert BadPubdataLength();

        (uint64 next, bool userOps) = _scan(pubdata);
        uint64 first = firstPriority;
        if (userOps && next < totalPriority && priorityOps[next].deadline < block.number) {
            revert PriorityOpExpired(next);
        }

        uint256 input = uint256(sha256(abi.encodePacked(number, stateRoot, newRoot, uint32(next - first), pubdata))) % R;
        try verifier.verifyProof(proof, [input]) {}
        catch {
            revert InvalidProof();
        }

        for (uint64 id = first; id < next; id++) {
            delete priorityOps[id];
        }
        firstPriority = next;
        stateRoot = newRoot;
        batchNumber = number;
        emit BatchVerified(number, newRoot);
    }

    /// @dev Walks the pubdata operation by operation. Returns the queue
    /// position after the consumed deposits and whether the batch holds any
    /// operation that is neither a deposit nor padding.
    function _scan(bytes calldata pubdata) internal returns (uint64 next, bool userOps) {
        next = firstPriority;
        uint64 total = totalPriority;
        uint256 len = pubdata.length;
        uint256 off = 0;
        while (off < len) {
            uint256 word;
            assembly {
                word := calldataload(add(pubdata.offset, off))
            }
            uint8 t = uint8(word >> 248);
            if (t == OP_TRANSFER) {
                userOps = true;
                off += CHUNK;
            } else if (t == OP_NOOP) {
                off += CHUNK;
            } else if (t == OP_TRANSFER_TO_NEW) {
                userOps = true;
                off += 3 * CHUNK;
            } else if (t == OP_DEPOSIT) {
                if (off + 3 * CHUNK > len) revert TruncatedOp(off);
                if (next >= total) revert NoPriorityOp(off);
                // bytes 5..25: address, 25..41: amount (the second word starts at byte 32).
                address to = address(uint160(word >> 56));
                uint256 word2;
                assembly {
                    word2 := calldataload(add(pubdata.offset, add(off, 25)))
                }
                uint128 amount = uint128(word2 >> 128);
                PriorityOp storage op = priorityOps[next];
                if (op.to != to || op.amount != amount) revert PriorityOpMismatch(next);
                next++;
                off += 3 * CHUNK;
            } else if (t == OP_WITHDRAW) {
                if (off + 3 * CHUNK > len) revert TruncatedOp(off);
                userOps = true;
                address to = address(uint160(word >> 56));
                uint256 word2;
                assembly {
                    word2 := calldataload(add(pubdata.offset, add(off, 25)))
                }
                pendingWithdrawals[to] += word2 >> 128;
                off += 3 * CHUNK;
            } else if (t == OP_CHANGE_PUBKEY) {
                if (off + 8 * CHUNK > len) revert TruncatedOp(off);
                userOps = true;
                _checkChangePubKey(pubdata[off:off + 8 * CHUNK], off);
                off += 8 * CHUNK;
            } else {
                revert UnknownOp(off, t);
            }
        }
        if (off != len) revert TruncatedOp(off);
    }

    /// @dev Checks the owner's Ethereum signature of a ChangePubKey operation
    /// (PROTOCOL.md §6, §8): EIP-191 personal message of the 66-byte body.
    function _checkChangePubKey(bytes calldata op, uint256 off) internal view {
        uint32 account = uint32(bytes4(op[1:5]));
        address owner = address(bytes20(op[5:25]));
        bytes32 pubKeyHash = bytes32(op[25:57]);
        uint32 nonce = uint32(bytes4(op[57:61]));
        bytes32 r = bytes32(op[61:93]);
        bytes32 s = bytes32(op[93:125]);
        uint8 v = uint8(op[125]);
        if ((v != 27 && v != 28) || uint256(s) > HALF_N || uint256(s) == 0 || uint256(r) == 0) {
            revert BadSignature(off);
        }
        bytes32 digest = keccak256(
            abi.encodePacked("\x19Ethereum Signed Message:\n66", "Velox ChangePubKey", chainId, account, nonce, pubKeyHash)
        );
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0) || signer != owner) revert BadSignature(off);
    }

    /// @notice Pays msg.sender every withdrawal released to it so far.
    function claimWithdrawal() external {
        uint256 amount = pendingWithdrawals[msg.sender];
        if (amount == 0) revert NothingToClaim();
        pendingWithdrawals[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit WithdrawalClaimed(msg.sender, amount);
    }
}
