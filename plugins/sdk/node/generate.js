#!/usr/bin/env node
// Regenerates descriptor.json, the protocol's messages and services as
// protobufjs JSON, from the .proto files in proto/ (plugin.proto is
// core/proto's, byte for byte: cmd/authx's TestNodeSDKProtoInSync checks).
// The SDK loads the JSON at start, which costs a fraction of parsing the
// .proto files. `node generate.js --check` fails when it is stale.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('protobufjs');

const FILES = ['authx/plugin/v1/plugin.proto', 'health.proto', 'grpc_controller.proto', 'grpc_stdio.proto'];
const out = path.join(__dirname, 'descriptor.json');

const root = new protobuf.Root();
root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(__dirname, 'proto', target));
root.loadSync(FILES, { keepCase: false });
root.resolveAll();
const json = JSON.stringify(root.toJSON(), null, 1) + '\n';

if (process.argv[2] === '--check') {
  const have = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  if (have !== json) {
    process.stderr.write(`${out} is stale: run node ${path.relative(process.cwd(), __filename)} and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write('descriptor.json is up to date\n');
} else {
  fs.writeFileSync(out, json);
  process.stdout.write(`wrote ${out}\n`);
}
