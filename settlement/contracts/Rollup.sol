// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {poseidon2Compress} from "./Poseidon2.sol";

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
/// settling its own transactions while ignoring the queue.
///
/// Exodus (PROTOCOL.md §12): if the oldest unconsumed deposit stays past its
/// deadline (expiredPriorityOp()), anyone may call activateExodus(). The
/// rollup then freezes for good at the last verified stateRoot: submitBatch
/// and deposit revert; every deposit still queued can be refunded to the L1
/// address that sent it (refundDeposit, once per deposit); and every L2
/// account can be exited once with a Merkle proof of its leaf against
/// stateRoot (exit), which releases its whole balance to the account's
/// address. Refunds and exits are paid like withdrawals: credited to
/// pendingWithdrawals, claimed with claimWithdrawal.
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

    /// A queued deposit, in two storage slots. Amounts are below 2^96 wei
    /// (deposit enforces it; all the ETH there is is below 2^87 wei).
    struct PriorityOp {
        address to;
        uint96 amount;
        /// The L1 address that sent the deposit (refunded in exodus).
        address from;
        uint64 deadline;
    }

    IVerifier public immutable verifier;
    address public immutable sequencer;
    uint64 public immutable chainId;
    /// Blocks a deposit may wait before it must be consumed.
    uint64 public immutable priorityDeadline;
    /// Depth of the account tree (the circuit's Params.Depth).
    uint8 public immutable treeDepth;

    bytes32 public stateRoot;
    uint64 public batchNumber;
    /// Queue of deposits: ids firstPriority .. totalPriority-1 are pending.
    uint64 public firstPriority;
    uint64 public totalPriority;
    /// Set once by activateExodus; the rollup is frozen from then on.
    bool public exodus;
    mapping(uint64 => PriorityOp) public priorityOps;
    /// Amount each L1 address may claim with claimWithdrawal.
    mapping(address => uint256) public pendingWithdrawals;
    /// Accounts (tree indices) already exited in exodus, 256 to a word:
    /// indices are allocated in sequence, so most exits update a word that
    /// is already written rather than create one.
    mapping(uint256 => uint256) internal exitedWords;

    event Deposit(uint64 indexed id, address indexed to, uint128 amount, uint64 deadline);
    event BatchVerified(uint64 indexed number, bytes32 newRoot);
    event WithdrawalClaimed(address indexed to, uint256 amount);
    event ExodusActivated(uint64 batchNumber, bytes32 stateRoot);
    event DepositRefunded(uint64 indexed id, address indexed from, uint128 amount);
    event Exit(uint32 indexed account, address indexed owner, uint128 amount);

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
    error BadTreeDepth();
    error ExodusActive();
    error NotExodus();
    error NoExpiredPriorityOp();
    error NoDeposit(uint64 id);
    error AlreadyExited(uint32 account);
    error BadMerkleProof();
    error NotInField();

    /// @param genesisRoot the root after batch genesisNumber (0 for a new chain;
    /// a rollup started from a snapshot of an existing L2 state gives its batch).
    /// @param treeDepth_ the account tree depth of the circuit, 1 to 32.
    constructor(
        IVerifier verifier_,
        address sequencer_,
        uint64 chainId_,
        bytes32 genesisRoot,
        uint64 genesisNumber,
        uint64 priorityDeadline_,
        uint8 treeDepth_
    ) {
        if (address(verifier_) == address(0) || sequencer_ == address(0)) revert ZeroAddress();
        if (uint256(genesisRoot) >= R) revert RootNotInField();
        if (treeDepth_ == 0 || treeDepth_ > 32) revert BadTreeDepth();
        treeDepth = treeDepth_;
        verifier = verifier_;
        sequencer = sequencer_;
        chainId = chainId_;
        stateRoot = genesisRoot;
        batchNumber = genesisNumber;
        priorityDeadline = priorityDeadline_;
    }

    /// @notice Queues a deposit of msg.value wei (below 2^96) to the L2
    /// account of `to`. Reverts in exodus.
    function deposit(address to) external payable {
        if (exodus) revert ExodusActive();
        if (to == address(0)) revert ZeroAddress();
        if (msg.value == 0) revert ZeroAmount();
        if (msg.value >= 1 << 96) revert AmountTooLarge();
        uint64 id = totalPriority;
        uint64 deadline = uint64(block.number) + priorityDeadline;
        priorityOps[id] = PriorityOp({to: to, amount: uint96(msg.value), from: msg.sender, deadline: deadline});
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
    /// Reverts in exodus.
    /// @param proof gnark's MarshalSolidity encoding of the Groth16 proof.
    function submitBatch(uint64 number, bytes32 newRoot, bytes calldata pubdata, bytes calldata proof) external {
        if (msg.sender != sequencer) revert NotSequencer();
        if (exodus) revert ExodusActive();
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

    /// @notice Freezes the rollup for good (exodus) because the oldest
    /// unconsumed deposit is past its deadline. Anyone may call it.
    function activateExodus() external {
        if (exodus) revert ExodusActive();
        if (!expiredPriorityOp()) revert NoExpiredPriorityOp();
        exodus = true;
        emit ExodusActivated(batchNumber, stateRoot);
    }

    /// @notice In exodus, releases deposit `id`, which no verified batch
    /// consumed, to the L1 address that sent it (claimWithdrawal pays it).
    /// Anyone may call it; each deposit is refunded once.
    function refundDeposit(uint64 id) external {
        if (!exodus) revert NotExodus();
        if (id < firstPriority || id >= totalPriority) revert NoDeposit(id);
        PriorityOp storage op = priorityOps[id];
        uint96 amount = op.amount;
        if (amount == 0) revert NoDeposit(id); // refunded already
        address from = op.from;
        delete priorityOps[id];
        pendingWithdrawals[from] += amount;
        emit DepositRefunded(id, from, amount);
    }

    /// @notice In exodus, releases the whole balance of L2 account `account`
    /// to its L1 address `owner` (claimWithdrawal pays it), given the
    /// account's leaf and its Merkle path to stateRoot (PROTOCOL.md §2).
    /// Anyone may call it, since only the owner is paid; each account exits
    /// once. Field elements must be canonical (below r).
    /// @param siblings the path bottom-up: siblings[i] is the sibling at
    /// level i; exactly treeDepth of them.
    function exit(
        uint32 account,
        address owner,
        uint256 pubKeyHash,
        uint32 nonce,
        uint128 balance,
        uint256[] calldata siblings
    ) external {
        if (!exodus) revert NotExodus();
        if (owner == address(0)) revert ZeroAddress();
        if (balance == 0) revert ZeroAmount();
        uint256 bit = uint256(1) << (account & 0xff);
        uint256 word = exitedWords[account >> 8];
        if (word & bit != 0) revert AlreadyExited(account);
        uint256 depth = treeDepth;
        // (A uint32 shifted by 32 is 0.)
        if (siblings.length != depth || account >> depth != 0) revert BadMerkleProof();
        if (pubKeyHash >= R) revert NotInField();
        for (uint256 i = 0; i < depth; i++) {
            if (siblings[i] >= R) revert NotInField();
        }
        if (accountRoot(account, owner, pubKeyHash, nonce, balance, siblings) != stateRoot) revert BadMerkleProof();
        exitedWords[account >> 8] = word | bit;
        pendingWithdrawals[owner] += balance;
        emit Exit(account, owner, balance);
    }

    /// @notice True once L2 account `account` has exited.
    function exited(uint32 account) external view returns (bool) {
        return exitedWords[account >> 8] & (uint256(1) << (account & 0xff)) != 0;
    }

    /// @notice The root of the account tree that holds this (non-empty)
    /// account at index `account`, with the given bottom-up Merkle path: the
    /// leaf Hash(owner, pubKeyHash, nonce, balance) folded with Compress
    /// (PROTOCOL.md §1, §2). Bits of `account` beyond siblings.length are
    /// ignored; field elements are taken mod r.
    function accountRoot(
        uint32 account,
        address owner,
        uint256 pubKeyHash,
        uint32 nonce,
        uint128 balance,
        uint256[] calldata siblings
    ) public pure returns (bytes32) {
        uint256 h = poseidon2Compress(0, uint256(uint160(owner)));
        h = poseidon2Compress(h, pubKeyHash);
        h = poseidon2Compress(h, nonce);
        h = poseidon2Compress(h, balance);
        uint256 n = siblings.length;
        for (uint256 i = 0; i < n; i++) {
            if (((account >> i) & 1) == 0) {
                h = poseidon2Compress(h, siblings[i]);
            } else {
                h = poseidon2Compress(siblings[i], h);
            }
        }
        return bytes32(h);
    }

    /// @notice Pays msg.sender every withdrawal released to it so far
    /// (withdrawals of verified batches, and in exodus refunds and exits).
    /// The balance is cleared before the transfer, so a reentrant call finds
    /// nothing to claim.
    function claimWithdrawal() external {
        uint256 amount = pendingWithdrawals[msg.sender];
        if (amount == 0) revert NothingToClaim();
        pendingWithdrawals[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit WithdrawalClaimed(msg.sender, amount);
    }
}
