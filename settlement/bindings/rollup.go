// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package bindings

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// RollupMetaData contains all meta data concerning the Rollup contract.
var RollupMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"contractIVerifier\",\"name\":\"verifier_\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"sequencer_\",\"type\":\"address\"},{\"internalType\":\"uint64\",\"name\":\"chainId_\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"genesisRoot\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"genesisNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"priorityDeadline_\",\"type\":\"uint64\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[],\"name\":\"AmountTooLarge\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"want\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"got\",\"type\":\"uint64\"}],\"name\":\"BadBatchNumber\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"BadPubdataLength\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"offset\",\"type\":\"uint256\"}],\"name\":\"BadSignature\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidProof\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"offset\",\"type\":\"uint256\"}],\"name\":\"NoPriorityOp\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotSequencer\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NothingToClaim\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"id\",\"type\":\"uint64\"}],\"name\":\"PriorityOpExpired\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"id\",\"type\":\"uint64\"}],\"name\":\"PriorityOpMismatch\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"RootNotInField\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"TransferFailed\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"offset\",\"type\":\"uint256\"}],\"name\":\"TruncatedOp\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"offset\",\"type\":\"uint256\"},{\"internalType\":\"uint8\",\"name\":\"opType\",\"type\":\"uint8\"}],\"name\":\"UnknownOp\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAddress\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAmount\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"number\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"newRoot\",\"type\":\"bytes32\"}],\"name\":\"BatchVerified\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"id\",\"type\":\"uint64\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint128\",\"name\":\"amount\",\"type\":\"uint128\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"deadline\",\"type\":\"uint64\"}],\"name\":\"Deposit\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"WithdrawalClaimed\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"batchNumber\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"chainId\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"claimWithdrawal\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"}],\"name\":\"deposit\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"expiredPriorityOp\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"firstPriority\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"pendingWithdrawals\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"priorityDeadline\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"name\":\"priorityOps\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint64\",\"name\":\"deadline\",\"type\":\"uint64\"},{\"internalType\":\"uint128\",\"name\":\"amount\",\"type\":\"uint128\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"sequencer\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"stateRoot\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"number\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"newRoot\",\"type\":\"bytes32\"},{\"internalType\":\"bytes\",\"name\":\"pubdata\",\"type\":\"bytes\"},{\"internalType\":\"bytes\",\"name\":\"proof\",\"type\":\"bytes\"}],\"name\":\"submitBatch\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"totalPriority\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"verifier\",\"outputs\":[{\"internalType\":\"contractIVerifier\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "Rollup",
	Bin: "0x610100604052348015610010575f5ffd5b506040516115cc3803806115cc83398101604081905261002f91610121565b6001600160a01b038616158061004c57506001600160a01b038516155b1561006a5760405163d92e233d60e01b815260040160405180910390fd5b7f30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f000000183106100a95760405162b7f39d60e81b815260040160405180910390fd5b6001600160a01b039586166080529390941660a0526001600160401b0391821660c0525f55600180546001600160401b031916938216939093179092551660e05261018f565b6001600160a01b0381168114610103575f5ffd5b50565b80516001600160401b038116811461011c575f5ffd5b919050565b5f5f5f5f5f5f60c08789031215610136575f5ffd5b8651610141816100ef565b6020880151909650610152816100ef565b945061016060408801610106565b93506060870151925061017560808801610106565b915061018360a08801610106565b90509295509295509295565b60805160a05160c05160e0516113ef6101dd5f395f818160ed015261094001525f81816102360152610f3a01525f81816101ac01526103ee01525f8181610161015261068b01526113ef5ff3fe6080604052600436106100d8575f3560e01c80639a8a05921161007c578063ba87306511610057578063ba8730651461030b578063f340fa011461032a578063f3f437031461033d578063fe75a89714610368575f5ffd5b80639a8a0592146102255780639d44c9b414610258578063a6c1cde01461027e575f5ffd5b80635c1bba38116100b75780635c1bba381461019b5780635cee546e146101ce5780636e66d84a146101ef5780639588eca214610203575f5ffd5b80628d72ea146100dc5780631d71b7421461012c5780632b7ac3f314610150575b5f5ffd5b3480156100e7575f5ffd5b5061010f7f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160401b0390911681526020015b60405180910390f35b348015610137575f5ffd5b5061014061038e565b6040519015158152602001610123565b34801561015b575f5ffd5b506101837f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b039091168152602001610123565b3480156101a6575f5ffd5b506101837f000000000000000000000000000000000000000000000000000000000000000081565b3480156101d9575f5ffd5b506101ed6101e83660046110b7565b6103e3565b005b3480156101fa575f5ffd5b506101ed6107de565b34801561020e575f5ffd5b506102175f5481565b604051908152602001610123565b348015610230575f5ffd5b5061010f7f000000000000000000000000000000000000000000000000000000000000000081565b348015610263575f5ffd5b5060015461010f90600160801b90046001600160401b031681565b348015610289575f5ffd5b506102d561029836600461113e565b60026020525f9081526040902080546001909101546001600160a01b03821691600160a01b90046001600160401b0316906001600160801b031683565b604080516001600160a01b0390941684526001600160401b0390921660208401526001600160801b031690820152606001610123565b348015610316575f5ffd5b5060015461010f906001600160401b031681565b6101ed61033836600461115e565b6108bc565b348015610348575f5ffd5b5061021761035736600461115e565b60036020525f908152604090205481565b348015610373575f5ffd5b5060015461010f90600160401b90046001600160401b031681565b6001545f906001600160401b03600160401b8204811691600160801b900416811080156103dd57506001600160401b038082165f9081526002602052604090205443600160a01b909104909116105b91505090565b336001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000161461042c576040516314f8a09f60e21b815260040160405180910390fd5b60018054610445916001600160401b0390911690611198565b6001600160401b0316866001600160401b0316146104a85760018054610476916001600160401b0390911690611198565b6040516356f30d0960e01b81526001600160401b03918216600482015290871660248201526044015b60405180910390fd5b7f30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f000000185106104e75760405162b7f39d60e81b815260040160405180910390fd5b8215806104fd57506104fa6010846111bd565b15155b1561051b57604051631347b4e560e31b815260040160405180910390fd5b5f5f6105278686610a7d565b6001549193509150600160401b90046001600160401b031681801561056157506001546001600160401b03600160801b9091048116908416105b801561058f57506001600160401b038084165f9081526002602052604090205443600160a01b909104909116105b156105b8576040516331d3c15960e01b81526001600160401b038416600482015260240161049f565b5f7f30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f000000160028b5f548c86896105ec91906111dc565b8d8d604051602001610603969594939291906111fb565b60408051601f198184030181529082905261061d91611244565b602060405180830381855afa158015610638573d5f5f3e3d5ffd5b5050506040513d601f19601f8201168201806040525081019061065b919061125a565b61066591906111bd565b604080516020810182528281529051632363e29760e21b81529192506001600160a01b037f00000000000000000000000000000000000000000000000000000000000000001691638d8f8a5c916106c2918a918a91600401611271565b5f6040518083038186803b1580156106d8575f5ffd5b505afa9250505080156106e9575060015b610706576040516309bde33960e01b815260040160405180910390fd5b815b846001600160401b0316816001600160401b03161015610760576001600160401b0381165f90815260026020526040902080546001600160e01b0319168155600190810180546001600160801b031916905501610708565b50600180545f8b90556001600160801b031916600160401b6001600160401b038781169190910267ffffffffffffffff191691909117908c169081179091556040518a81527f9084c7ac53ed4296d938d347464ed8970427074d544ad9fc3e69a349e097ecc19060200160405180910390a250505050505050505050565b335f908152600360205260408120549081900361080e576040516312d37ee560e31b815260040160405180910390fd5b335f818152600360205260408082208290555190919083908381818185875af1925050503d805f811461085c576040519150601f19603f3d011682016040523d82523d5f602084013e610861565b606091505b5050905080610883576040516312171d8360e31b815260040160405180910390fd5b60405182815233907fd3f990ddd0f1a820ca21d6f29136b25c504220122117b21de9ede5602b99c5869060200160405180910390a25050565b6001600160a01b0381166108e35760405163d92e233d60e01b815260040160405180910390fd5b345f0361090357604051631f2a200560e01b815260040160405180910390fd5b600160801b341061092757604051630625040160e01b815260040160405180910390fd5b600154600160801b90046001600160401b03165f6109657f000000000000000000000000000000000000000000000000000000000000000043611198565b604080516060810182526001600160a01b0380871682526001600160401b0380851660208085019182526001600160801b033481168688019081528a85165f908152600290935296909120945185549251909316600160a01b026001600160e01b03199092169290931691909117178255915160019182018054919093166001600160801b031990911617909155909150610a01908390611198565b6001805467ffffffffffffffff60801b1916600160801b6001600160401b0393841602179055604080516001600160801b033416815283831660208201526001600160a01b038616928516917fcaa52476b39eeda939c3f4c7c5a64bb0392039c2e559b218fc4c13c13d1c6f6f910160405180910390a3505050565b6001546001600160401b03600160401b82048116915f91600160801b9091041683825b81811015610d88578681013560f881901c6001198101610ad05760019550610ac96010846112cb565b9250610d81565b60ff8116610ae357610ac96010846112cb565b60021960ff821601610b095760019550610aff601060036112de565b610ac990846112cb565b5f1960ff821601610c325783610b21601060036112de565b610b2b90856112cb565b1115610b4d576040516331f8fa0560e01b81526004810184905260240161049f565b846001600160401b0316876001600160401b031610610b8257604051631d27fe0f60e11b81526004810184905260240161049f565b6001600160401b0387165f9081526002602052604090208054603884901c916019868d01013591608083901c91906001600160a01b038086169116141580610bda575060018101546001600160801b03838116911614155b15610c0357604051636a74ceb360e01b81526001600160401b038c16600482015260240161049f565b8a610c0d816112f5565b9b50610c1d9050601060036112de565b610c2790886112cb565b965050505050610d81565b60031960ff821601610cd85783610c4b601060036112de565b610c5590856112cb565b1115610c77576040516331f8fa0560e01b81526004810184905260240161049f565b603882901c6001600160a01b0381165f9081526003602052604081208054600199506019878e01013592608084901c9291610cb39084906112cb565b90915550610cc59050601060036112de565b610ccf90866112cb565b94505050610d81565b60041960ff821601610d5c5783610cf1601060086112de565b610cfb90856112cb565b1115610d1d576040516331f8fa0560e01b81526004810184905260240161049f565b60019550610d5089848a610d33601060086112de565b610d3d90886112cb565b92610d4a9392919061131f565b85610db5565b610aff601060086112de565b604051638f57b19360e01b81526004810184905260ff8216602482015260440161049f565b5050610aa0565b818114610dab576040516331f8fa0560e01b81526004810182905260240161049f565b5050509250929050565b5f610dc460056001858761131f565b610dcd91611346565b60e01c90505f610de160196005868861131f565b610dea9161137e565b60601c90505f610dfe60396019878961131f565b610e07916113be565b90505f610e18603d6039888a61131f565b610e2191611346565b60e01c90505f610e35605d603d898b61131f565b610e3e916113be565b90505f610e4f607d605d8a8c61131f565b610e58916113be565b90505f8989607d818110610e6e57610e6e6113db565b919091013560f81c915050601b8114801590610e8e57508060ff16601c14155b80610eb857507f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a082115b80610ec1575081155b80610eca575082155b15610eeb5760405163a1c9731960e01b81526004810189905260240161049f565b6040517f19457468657265756d205369676e6564204d6573736167653a0a36360000000060208201527156656c6f78204368616e67655075624b657960701b603c8201526001600160c01b03197f000000000000000000000000000000000000000000000000000000000000000060c01b16604e8201526001600160e01b031960e089811b8216605684015286901b16605a820152605e81018690525f90607e0160408051601f1981840301815282825280516020918201205f80855291840180845281905260ff86169284019290925260608301879052608083018690529092509060019060a0016020604051602081039080840390855afa158015610ff4573d5f5f3e3d5ffd5b5050604051601f1901519150506001600160a01b03811615806110295750876001600160a01b0316816001600160a01b031614155b1561104a5760405163a1c9731960e01b8152600481018b905260240161049f565b505050505050505050505050565b80356001600160401b038116811461106e575f5ffd5b919050565b5f5f83601f840112611083575f5ffd5b5081356001600160401b03811115611099575f5ffd5b6020830191508360208285010111156110b0575f5ffd5b9250929050565b5f5f5f5f5f5f608087890312156110cc575f5ffd5b6110d587611058565b95506020870135945060408701356001600160401b038111156110f6575f5ffd5b61110289828a01611073565b90955093505060608701356001600160401b03811115611120575f5ffd5b61112c89828a01611073565b979a9699509497509295939492505050565b5f6020828403121561114e575f5ffd5b61115782611058565b9392505050565b5f6020828403121561116e575f5ffd5b81356001600160a01b0381168114611157575f5ffd5b634e487b7160e01b5f52601160045260245ffd5b6001600160401b0381811683821601908111156111b7576111b7611184565b92915050565b5f826111d757634e487b7160e01b5f52601260045260245ffd5b500690565b6001600160401b0382811682821603908111156111b7576111b7611184565b6001600160401b0360c01b8760c01b16815285600882015284602882015263ffffffff60e01b8460e01b1660488201528183604c8301375f9101604c0190815295945050505050565b5f82518060208501845e5f920191825250919050565b5f6020828403121561126a575f5ffd5b5051919050565b60408152826040820152828460608301375f606084830101525f6060601f19601f860116830101905060208201835f5b60018110156112c05781518352602092830192909101906001016112a1565b505050949350505050565b808201808211156111b7576111b7611184565b80820281158282048414176111b7576111b7611184565b5f6001600160401b0382166001600160401b03810361131657611316611184565b60010192915050565b5f5f8585111561132d575f5ffd5b83861115611339575f5ffd5b5050820193919092039150565b80356001600160e01b03198116906004841015611377576001600160e01b0319600485900360031b81901b82161691505b5092915050565b80356bffffffffffffffffffffffff198116906014841015611377576bffffffffffffffffffffffff1960149490940360031b84901b1690921692915050565b803560208310156111b7575f19602084900360031b1b1692915050565b634e487b7160e01b5f52603260045260245ffd",
}

// Rollup is an auto generated Go binding around an Ethereum contract.
type Rollup struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *Rollup) GetABI() abi.ABI {
	return c.abi
}

// NewRollup creates a new instance of Rollup.
func NewRollup() *Rollup {
	parsed, err := RollupMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &Rollup{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *Rollup) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address verifier_, address sequencer_, uint64 chainId_, bytes32 genesisRoot, uint64 genesisNumber, uint64 priorityDeadline_) returns()
func (rollup *Rollup) PackConstructor(verifier_ common.Address, sequencer_ common.Address, chainId_ uint64, genesisRoot [32]byte, genesisNumber uint64, priorityDeadline_ uint64) []byte {
	enc, err := rollup.abi.Pack("", verifier_, sequencer_, chainId_, genesisRoot, genesisNumber, priorityDeadline_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackBatchNumber is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xba873065.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function batchNumber() view returns(uint64)
func (rollup *Rollup) PackBatchNumber() []byte {
	enc, err := rollup.abi.Pack("batchNumber")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBatchNumber is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xba873065.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function batchNumber() view returns(uint64)
func (rollup *Rollup) TryPackBatchNumber() ([]byte, error) {
	return rollup.abi.Pack("batchNumber")
}

// UnpackBatchNumber is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xba873065.
//
// Solidity: function batchNumber() view returns(uint64)
func (rollup *Rollup) UnpackBatchNumber(data []byte) (uint64, error) {
	out, err := rollup.abi.Unpack("batchNumber", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackChainId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9a8a0592.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function chainId() view returns(uint64)
func (rollup *Rollup) PackChainId() []byte {
	enc, err := rollup.abi.Pack("chainId")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackChainId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9a8a0592.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function chainId() view returns(uint64)
func (rollup *Rollup) TryPackChainId() ([]byte, error) {
	return rollup.abi.Pack("chainId")
}

// UnpackChainId is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x9a8a0592.
//
// Solidity: function chainId() view returns(uint64)
func (rollup *Rollup) UnpackChainId(data []byte) (uint64, error) {
	out, err := rollup.abi.Unpack("chainId", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackClaimWithdrawal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6e66d84a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function claimWithdrawal() returns()
func (rollup *Rollup) PackClaimWithdrawal() []byte {
	enc, err := rollup.abi.Pack("claimWithdrawal")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackClaimWithdrawal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6e66d84a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function claimWithdrawal() returns()
func (rollup *Rollup) TryPackClaimWithdrawal() ([]byte, error) {
	return rollup.abi.Pack("claimWithdrawal")
}

// PackDeposit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf340fa01.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function deposit(address to) payable returns()
func (rollup *Rollup) PackDeposit(to common.Address) []byte {
	enc, err := rollup.abi.Pack("deposit", to)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDeposit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf340fa01.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function deposit(address to) payable returns()
func (rollup *Rollup) TryPackDeposit(to common.Address) ([]byte, error) {
	return rollup.abi.Pack("deposit", to)
}

// PackExpiredPriorityOp is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1d71b742.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function expiredPriorityOp() view returns(bool)
func (rollup *Rollup) PackExpiredPriorityOp() []byte {
	enc, err := rollup.abi.Pack("expiredPriorityOp")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackExpiredPriorityOp is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1d71b742.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function expiredPriorityOp() view returns(bool)
func (rollup *Rollup) TryPackExpiredPriorityOp() ([]byte, error) {
	return rollup.abi.Pack("expiredPriorityOp")
}

// UnpackExpiredPriorityOp is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x1d71b742.
//
// Solidity: function expiredPriorityOp() view returns(bool)
func (rollup *Rollup) UnpackExpiredPriorityOp(data []byte) (bool, error) {
	out, err := rollup.abi.Unpack("expiredPriorityOp", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackFirstPriority is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe75a897.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function firstPriority() view returns(uint64)
func (rollup *Rollup) PackFirstPriority() []byte {
	enc, err := rollup.abi.Pack("firstPriority")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackFirstPriority is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe75a897.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function firstPriority() view returns(uint64)
func (rollup *Rollup) TryPackFirstPriority() ([]byte, error) {
	return rollup.abi.Pack("firstPriority")
}

// UnpackFirstPriority is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xfe75a897.
//
// Solidity: function firstPriority() view returns(uint64)
func (rollup *Rollup) UnpackFirstPriority(data []byte) (uint64, error) {
	out, err := rollup.abi.Unpack("firstPriority", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackPendingWithdrawals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf3f43703.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function pendingWithdrawals(address ) view returns(uint256)
func (rollup *Rollup) PackPendingWithdrawals(arg0 common.Address) []byte {
	enc, err := rollup.abi.Pack("pendingWithdrawals", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPendingWithdrawals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf3f43703.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function pendingWithdrawals(address ) view returns(uint256)
func (rollup *Rollup) TryPackPendingWithdrawals(arg0 common.Address) ([]byte, error) {
	return rollup.abi.Pack("pendingWithdrawals", arg0)
}

// UnpackPendingWithdrawals is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf3f43703.
//
// Solidity: function pendingWithdrawals(address ) view returns(uint256)
func (rollup *Rollup) UnpackPendingWithdrawals(data []byte) (*big.Int, error) {
	out, err := rollup.abi.Unpack("pendingWithdrawals", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackPriorityDeadline is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x008d72ea.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function priorityDeadline() view returns(uint64)
func (rollup *Rollup) PackPriorityDeadline() []byte {
	enc, err := rollup.abi.Pack("priorityDeadline")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPriorityDeadline is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x008d72ea.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function priorityDeadline() view returns(uint64)
func (rollup *Rollup) TryPackPriorityDeadline() ([]byte, error) {
	return rollup.abi.Pack("priorityDeadline")
}

// UnpackPriorityDeadline is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x008d72ea.
//
// Solidity: function priorityDeadline() view returns(uint64)
func (rollup *Rollup) UnpackPriorityDeadline(data []byte) (uint64, error) {
	out, err := rollup.abi.Unpack("priorityDeadline", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackPriorityOps is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa6c1cde0.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function priorityOps(uint64 ) view returns(address to, uint64 deadline, uint128 amount)
func (rollup *Rollup) PackPriorityOps(arg0 uint64) []byte {
	enc, err := rollup.abi.Pack("priorityOps", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPriorityOps is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa6c1cde0.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function priorityOps(uint64 ) view returns(address to, uint64 deadline, uint128 amount)
func (rollup *Rollup) TryPackPriorityOps(arg0 uint64) ([]byte, error) {
	return rollup.abi.Pack("priorityOps", arg0)
}

// PriorityOpsOutput serves as a container for the return parameters of contract
// method PriorityOps.
type PriorityOpsOutput struct {
	To       common.Address
	Deadline uint64
	Amount   *big.Int
}

// UnpackPriorityOps is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xa6c1cde0.
//
// Solidity: function priorityOps(uint64 ) view returns(address to, uint64 deadline, uint128 amount)
func (rollup *Rollup) UnpackPriorityOps(data []byte) (PriorityOpsOutput, error) {
	out, err := rollup.abi.Unpack("priorityOps", data)
	outstruct := new(PriorityOpsOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.To = *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	outstruct.Deadline = *abi.ConvertType(out[1], new(uint64)).(*uint64)
	outstruct.Amount = abi.ConvertType(out[2], new(big.Int)).(*big.Int)
	return *outstruct, nil
}

// PackSequencer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5c1bba38.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function sequencer() view returns(address)
func (rollup *Rollup) PackSequencer() []byte {
	enc, err := rollup.abi.Pack("sequencer")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSequencer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5c1bba38.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function sequencer() view returns(address)
func (rollup *Rollup) TryPackSequencer() ([]byte, error) {
	return rollup.abi.Pack("sequencer")
}

// UnpackSequencer is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x5c1bba38.
//
// Solidity: function sequencer() view returns(address)
func (rollup *Rollup) UnpackSequencer(data []byte) (common.Address, error) {
	out, err := rollup.abi.Unpack("sequencer", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackStateRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9588eca2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function stateRoot() view returns(bytes32)
func (rollup *Rollup) PackStateRoot() []byte {
	enc, err := rollup.abi.Pack("stateRoot")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackStateRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9588eca2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function stateRoot() view returns(bytes32)
func (rollup *Rollup) TryPackStateRoot() ([]byte, error) {
	return rollup.abi.Pack("stateRoot")
}

// UnpackStateRoot is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x9588eca2.
//
// Solidity: function stateRoot() view returns(bytes32)
func (rollup *Rollup) UnpackStateRoot(data []byte) ([32]byte, error) {
	out, err := rollup.abi.Unpack("stateRoot", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackSubmitBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5cee546e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function submitBatch(uint64 number, bytes32 newRoot, bytes pubdata, bytes proof) returns()
func (rollup *Rollup) PackSubmitBatch(number uint64, newRoot [32]byte, pubdata []byte, proof []byte) []byte {
	enc, err := rollup.abi.Pack("submitBatch", number, newRoot, pubdata, proof)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSubmitBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5cee546e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function submitBatch(uint64 number, bytes32 newRoot, bytes pubdata, bytes proof) returns()
func (rollup *Rollup) TryPackSubmitBatch(number uint64, newRoot [32]byte, pubdata []byte, proof []byte) ([]byte, error) {
	return rollup.abi.Pack("submitBatch", number, newRoot, pubdata, proof)
}

// PackTotalPriority is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9d44c9b4.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function totalPriority() view returns(uint64)
func (rollup *Rollup) PackTotalPriority() []byte {
	enc, err := rollup.abi.Pack("totalPriority")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTotalPriority is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9d44c9b4.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function totalPriority() view returns(uint64)
func (rollup *Rollup) TryPackTotalPriority() ([]byte, error) {
	return rollup.abi.Pack("totalPriority")
}

// UnpackTotalPriority is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x9d44c9b4.
//
// Solidity: function totalPriority() view returns(uint64)
func (rollup *Rollup) UnpackTotalPriority(data []byte) (uint64, error) {
	out, err := rollup.abi.Unpack("totalPriority", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackVerifier is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2b7ac3f3.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function verifier() view returns(address)
func (rollup *Rollup) PackVerifier() []byte {
	enc, err := rollup.abi.Pack("verifier")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVerifier is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2b7ac3f3.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function verifier() view returns(address)
func (rollup *Rollup) TryPackVerifier() ([]byte, error) {
	return rollup.abi.Pack("verifier")
}

// UnpackVerifier is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x2b7ac3f3.
//
// Solidity: function verifier() view returns(address)
func (rollup *Rollup) UnpackVerifier(data []byte) (common.Address, error) {
	out, err := rollup.abi.Unpack("verifier", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// RollupBatchVerified represents a BatchVerified event raised by the Rollup contract.
type RollupBatchVerified struct {
	Number  uint64
	NewRoot [32]byte
	Raw     *types.Log // Blockchain specific contextual infos
}

const RollupBatchVerifiedEventName = "BatchVerified"

// ContractEventName returns the user-defined event name.
func (RollupBatchVerified) ContractEventName() string {
	return RollupBatchVerifiedEventName
}

// UnpackBatchVerifiedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event BatchVerified(uint64 indexed number, bytes32 newRoot)
func (rollup *Rollup) UnpackBatchVerifiedEvent(log *types.Log) (*RollupBatchVerified, error) {
	event := "BatchVerified"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rollup.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RollupBatchVerified)
	if len(log.Data) > 0 {
		if err := rollup.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rollup.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// RollupDeposit represents a Deposit event raised by the Rollup contract.
type RollupDeposit struct {
	Id       uint64
	To       common.Address
	Amount   *big.Int
	Deadline uint64
	Raw      *types.Log // Blockchain specific contextual infos
}

const RollupDepositEventName = "Deposit"

// ContractEventName returns the user-defined event name.
func (RollupDeposit) ContractEventName() string {
	return RollupDepositEventName
}

// UnpackDepositEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Deposit(uint64 indexed id, address indexed to, uint128 amount, uint64 deadline)
func (rollup *Rollup) UnpackDepositEvent(log *types.Log) (*RollupDeposit, error) {
	event := "Deposit"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rollup.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RollupDeposit)
	if len(log.Data) > 0 {
		if err := rollup.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rollup.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// RollupWithdrawalClaimed represents a WithdrawalClaimed event raised by the Rollup contract.
type RollupWithdrawalClaimed struct {
	To     common.Address
	Amount *big.Int
	Raw    *types.Log // Blockchain specific contextual infos
}

const RollupWithdrawalClaimedEventName = "WithdrawalClaimed"

// ContractEventName returns the user-defined event name.
func (RollupWithdrawalClaimed) ContractEventName() string {
	return RollupWithdrawalClaimedEventName
}

// UnpackWithdrawalClaimedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event WithdrawalClaimed(address indexed to, uint256 amount)
func (rollup *Rollup) UnpackWithdrawalClaimedEvent(log *types.Log) (*RollupWithdrawalClaimed, error) {
	event := "WithdrawalClaimed"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rollup.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RollupWithdrawalClaimed)
	if len(log.Data) > 0 {
		if err := rollup.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rollup.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (rollup *Rollup) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], rollup.abi.Errors["AmountTooLarge"].ID.Bytes()[:4]) {
		return rollup.UnpackAmountTooLargeError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["BadBatchNumber"].ID.Bytes()[:4]) {
		return rollup.UnpackBadBatchNumberError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["BadPubdataLength"].ID.Bytes()[:4]) {
		return rollup.UnpackBadPubdataLengthError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["BadSignature"].ID.Bytes()[:4]) {
		return rollup.UnpackBadSignatureError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["InvalidProof"].ID.Bytes()[:4]) {
		return rollup.UnpackInvalidProofError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["NoPriorityOp"].ID.Bytes()[:4]) {
		return rollup.UnpackNoPriorityOpError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["NotSequencer"].ID.Bytes()[:4]) {
		return rollup.UnpackNotSequencerError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["NothingToClaim"].ID.Bytes()[:4]) {
		return rollup.UnpackNothingToClaimError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["PriorityOpExpired"].ID.Bytes()[:4]) {
		return rollup.UnpackPriorityOpExpiredError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["PriorityOpMismatch"].ID.Bytes()[:4]) {
		return rollup.UnpackPriorityOpMismatchError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["RootNotInField"].ID.Bytes()[:4]) {
		return rollup.UnpackRootNotInFieldError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["TransferFailed"].ID.Bytes()[:4]) {
		return rollup.UnpackTransferFailedError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["TruncatedOp"].ID.Bytes()[:4]) {
		return rollup.UnpackTruncatedOpError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["UnknownOp"].ID.Bytes()[:4]) {
		return rollup.UnpackUnknownOpError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["ZeroAddress"].ID.Bytes()[:4]) {
		return rollup.UnpackZeroAddressError(raw[4:])
	}
	if bytes.Equal(raw[:4], rollup.abi.Errors["ZeroAmount"].ID.Bytes()[:4]) {
		return rollup.UnpackZeroAmountError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// RollupAmountTooLarge represents a AmountTooLarge error raised by the Rollup contract.
type RollupAmountTooLarge struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error AmountTooLarge()
func RollupAmountTooLargeErrorID() common.Hash {
	return common.HexToHash("0x06250401c072295744520da9e60a3a29ab28ceb9fda5d792222d5242d22e8a44")
}

// UnpackAmountTooLargeError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error AmountTooLarge()
func (rollup *Rollup) UnpackAmountTooLargeError(raw []byte) (*RollupAmountTooLarge, error) {
	out := new(RollupAmountTooLarge)
	if err := rollup.abi.UnpackIntoInterface(out, "AmountTooLarge", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupBadBatchNumber represents a BadBatchNumber error raised by the Rollup contract.
type RollupBadBatchNumber struct {
	Want uint64
	Got  uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadBatchNumber(uint64 want, uint64 got)
func RollupBadBatchNumberErrorID() common.Hash {
	return common.HexToHash("0x56f30d09c22ef34ce923e294f4c4fd2cdd767408ec021f644177321b14445e8f")
}

// UnpackBadBatchNumberError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadBatchNumber(uint64 want, uint64 got)
func (rollup *Rollup) UnpackBadBatchNumberError(raw []byte) (*RollupBadBatchNumber, error) {
	out := new(RollupBadBatchNumber)
	if err := rollup.abi.UnpackIntoInterface(out, "BadBatchNumber", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupBadPubdataLength represents a BadPubdataLength error raised by the Rollup contract.
type RollupBadPubdataLength struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadPubdataLength()
func RollupBadPubdataLengthErrorID() common.Hash {
	return common.HexToHash("0x9a3da7289150923184ea739cf72d71327c835c9243d150be5590b57e9af6fbc0")
}

// UnpackBadPubdataLengthError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadPubdataLength()
func (rollup *Rollup) UnpackBadPubdataLengthError(raw []byte) (*RollupBadPubdataLength, error) {
	out := new(RollupBadPubdataLength)
	if err := rollup.abi.UnpackIntoInterface(out, "BadPubdataLength", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupBadSignature represents a BadSignature error raised by the Rollup contract.
type RollupBadSignature struct {
	Offset *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadSignature(uint256 offset)
func RollupBadSignatureErrorID() common.Hash {
	return common.HexToHash("0xa1c973190ea39240abfd4da3039e0d94cea4d1e689acfee87f4e7dbabee0f307")
}

// UnpackBadSignatureError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadSignature(uint256 offset)
func (rollup *Rollup) UnpackBadSignatureError(raw []byte) (*RollupBadSignature, error) {
	out := new(RollupBadSignature)
	if err := rollup.abi.UnpackIntoInterface(out, "BadSignature", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupInvalidProof represents a InvalidProof error raised by the Rollup contract.
type RollupInvalidProof struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidProof()
func RollupInvalidProofErrorID() common.Hash {
	return common.HexToHash("0x09bde339c6b182be216ee7ef8ccff6338c6ef7993445216112ae575c5438fd27")
}

// UnpackInvalidProofError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidProof()
func (rollup *Rollup) UnpackInvalidProofError(raw []byte) (*RollupInvalidProof, error) {
	out := new(RollupInvalidProof)
	if err := rollup.abi.UnpackIntoInterface(out, "InvalidProof", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupNoPriorityOp represents a NoPriorityOp error raised by the Rollup contract.
type RollupNoPriorityOp struct {
	Offset *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NoPriorityOp(uint256 offset)
func RollupNoPriorityOpErrorID() common.Hash {
	return common.HexToHash("0x3a4ffc1e8f5611cd5c379279665e77e7d3f238e4da6f7734549b0f87740ca200")
}

// UnpackNoPriorityOpError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NoPriorityOp(uint256 offset)
func (rollup *Rollup) UnpackNoPriorityOpError(raw []byte) (*RollupNoPriorityOp, error) {
	out := new(RollupNoPriorityOp)
	if err := rollup.abi.UnpackIntoInterface(out, "NoPriorityOp", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupNotSequencer represents a NotSequencer error raised by the Rollup contract.
type RollupNotSequencer struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotSequencer()
func RollupNotSequencerErrorID() common.Hash {
	return common.HexToHash("0x53e2827c451a0a0f171a8880e9c351ab8000b3d4f27c8efd66e3187f39b035eb")
}

// UnpackNotSequencerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotSequencer()
func (rollup *Rollup) UnpackNotSequencerError(raw []byte) (*RollupNotSequencer, error) {
	out := new(RollupNotSequencer)
	if err := rollup.abi.UnpackIntoInterface(out, "NotSequencer", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupNothingToClaim represents a NothingToClaim error raised by the Rollup contract.
type RollupNothingToClaim struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NothingToClaim()
func RollupNothingToClaimErrorID() common.Hash {
	return common.HexToHash("0x969bf7288f744225521096ebffff657851af77dd4c63700d76b8d1cf6481d1f1")
}

// UnpackNothingToClaimError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NothingToClaim()
func (rollup *Rollup) UnpackNothingToClaimError(raw []byte) (*RollupNothingToClaim, error) {
	out := new(RollupNothingToClaim)
	if err := rollup.abi.UnpackIntoInterface(out, "NothingToClaim", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupPriorityOpExpired represents a PriorityOpExpired error raised by the Rollup contract.
type RollupPriorityOpExpired struct {
	Id uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error PriorityOpExpired(uint64 id)
func RollupPriorityOpExpiredErrorID() common.Hash {
	return common.HexToHash("0x31d3c159fe886e642d1efc04c67529a4aa19280a82e3c3dc6ccfbe80d621e274")
}

// UnpackPriorityOpExpiredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error PriorityOpExpired(uint64 id)
func (rollup *Rollup) UnpackPriorityOpExpiredError(raw []byte) (*RollupPriorityOpExpired, error) {
	out := new(RollupPriorityOpExpired)
	if err := rollup.abi.UnpackIntoInterface(out, "PriorityOpExpired", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupPriorityOpMismatch represents a PriorityOpMismatch error raised by the Rollup contract.
type RollupPriorityOpMismatch struct {
	Id uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error PriorityOpMismatch(uint64 id)
func RollupPriorityOpMismatchErrorID() common.Hash {
	return common.HexToHash("0x6a74ceb31dcefbe8492661b205b92fcf8fbd0f9363ba0c8d3679e22d32915a5a")
}

// UnpackPriorityOpMismatchError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error PriorityOpMismatch(uint64 id)
func (rollup *Rollup) UnpackPriorityOpMismatchError(raw []byte) (*RollupPriorityOpMismatch, error) {
	out := new(RollupPriorityOpMismatch)
	if err := rollup.abi.UnpackIntoInterface(out, "PriorityOpMismatch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupRootNotInField represents a RootNotInField error raised by the Rollup contract.
type RollupRootNotInField struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RootNotInField()
func RollupRootNotInFieldErrorID() common.Hash {
	return common.HexToHash("0xb7f39d007b62df5d188d76dfbba6dfa80416f02ce4bb4db6c18f508e9553b0ea")
}

// UnpackRootNotInFieldError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RootNotInField()
func (rollup *Rollup) UnpackRootNotInFieldError(raw []byte) (*RollupRootNotInField, error) {
	out := new(RollupRootNotInField)
	if err := rollup.abi.UnpackIntoInterface(out, "RootNotInField", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupTransferFailed represents a TransferFailed error raised by the Rollup contract.
type RollupTransferFailed struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TransferFailed()
func RollupTransferFailedErrorID() common.Hash {
	return common.HexToHash("0x90b8ec1877afffd816d05d9b13947f3ff18ec5851c38bad15ec2b710f92391b1")
}

// UnpackTransferFailedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TransferFailed()
func (rollup *Rollup) UnpackTransferFailedError(raw []byte) (*RollupTransferFailed, error) {
	out := new(RollupTransferFailed)
	if err := rollup.abi.UnpackIntoInterface(out, "TransferFailed", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupTruncatedOp represents a TruncatedOp error raised by the Rollup contract.
type RollupTruncatedOp struct {
	Offset *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TruncatedOp(uint256 offset)
func RollupTruncatedOpErrorID() common.Hash {
	return common.HexToHash("0x31f8fa05272a8d907b678f2037f2971da5ca2b08d6679bde0a288824b0d8ced8")
}

// UnpackTruncatedOpError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TruncatedOp(uint256 offset)
func (rollup *Rollup) UnpackTruncatedOpError(raw []byte) (*RollupTruncatedOp, error) {
	out := new(RollupTruncatedOp)
	if err := rollup.abi.UnpackIntoInterface(out, "TruncatedOp", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupUnknownOp represents a UnknownOp error raised by the Rollup contract.
type RollupUnknownOp struct {
	Offset *big.Int
	OpType uint8
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UnknownOp(uint256 offset, uint8 opType)
func RollupUnknownOpErrorID() common.Hash {
	return common.HexToHash("0x8f57b193a91a1ed24fae48b21fa9663b714678ed603d5b784cbb007a677711a5")
}

// UnpackUnknownOpError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UnknownOp(uint256 offset, uint8 opType)
func (rollup *Rollup) UnpackUnknownOpError(raw []byte) (*RollupUnknownOp, error) {
	out := new(RollupUnknownOp)
	if err := rollup.abi.UnpackIntoInterface(out, "UnknownOp", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupZeroAddress represents a ZeroAddress error raised by the Rollup contract.
type RollupZeroAddress struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroAddress()
func RollupZeroAddressErrorID() common.Hash {
	return common.HexToHash("0xd92e233df2717d4a40030e20904abd27b68fcbeede117eaaccbbdac9618c8c73")
}

// UnpackZeroAddressError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroAddress()
func (rollup *Rollup) UnpackZeroAddressError(raw []byte) (*RollupZeroAddress, error) {
	out := new(RollupZeroAddress)
	if err := rollup.abi.UnpackIntoInterface(out, "ZeroAddress", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RollupZeroAmount represents a ZeroAmount error raised by the Rollup contract.
type RollupZeroAmount struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroAmount()
func RollupZeroAmountErrorID() common.Hash {
	return common.HexToHash("0x1f2a2005cb66a8e145327e8814e243a0996aec9bfe1e15a495778b1236dbd485")
}

// UnpackZeroAmountError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroAmount()
func (rollup *Rollup) UnpackZeroAmountError(raw []byte) (*RollupZeroAmount, error) {
	out := new(RollupZeroAmount)
	if err := rollup.abi.UnpackIntoInterface(out, "ZeroAmount", raw); err != nil {
		return nil, err
	}
	return out, nil
}
