#!/usr/bin/env node
// Compiles Solidity sources with the solc version pinned in package.json
// (solc-js, standard JSON) and writes <Contract>.abi and <Contract>.bin for
// every contract defined in them. Sources are named by their base name;
// an import ("./Poseidon2.sol") is read from the directory of the first
// given file that has it.
//
//   node compile.js --out DIR FILE.sol...
//
// Exits non-zero with solc's messages on any compilation error.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function main(argv) {
  let out = null;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      out = argv[++i];
    } else {
      files.push(argv[i]);
    }
  }
  if (!out || files.length === 0) {
    console.error('usage: node compile.js --out DIR FILE.sol...');
    process.exit(2);
  }
  const sources = {};
  for (const f of files) {
    sources[path.basename(f)] = { content: fs.readFileSync(f, 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      // No metadata hash: the bytecode depends on the source only, so
      // checked-in artifacts are reproducible.
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const dirs = [...new Set(files.map((f) => path.dirname(f)))];
  const findImports = (name) => {
    for (const d of dirs) {
      const f = path.join(d, name);
      if (fs.existsSync(f)) {
        return { contents: fs.readFileSync(f, 'utf8') };
      }
    }
    return { error: 'not found in ' + dirs.join(', ') + ': ' + name };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  let failed = false;
  for (const e of output.errors || []) {
    if (e.severity === 'error') {
      failed = true;
      console.error(e.formattedMessage);
    }
  }
  if (failed) {
    process.exit(1);
  }
  fs.mkdirSync(out, { recursive: true });
  const names = [];
  for (const src of Object.keys(output.contracts || {}).sort()) {
    for (const name of Object.keys(output.contracts[src]).sort()) {
      const c = output.contracts[src][name];
      if (!c.evm.bytecode.object) {
        continue; // interfaces and abstract contracts
      }
      fs.writeFileSync(path.join(out, name + '.abi'), JSON.stringify(c.abi) + '\n');
      fs.writeFileSync(path.join(out, name + '.bin'), c.evm.bytecode.object + '\n');
      names.push(name);
    }
  }
  console.log('solc ' + solc.version() + ': ' + names.join(' '));
}

main(process.argv.slice(2));
