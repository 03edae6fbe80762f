#!/usr/bin/env -S node --initial-old-space-size=128
// Thin launcher: the CLI is compiled from node/cli into dist/ by `npm install` (the prepare script).
// The shebang's Node flags are PEERCAS_NODE_FLAGS (node/cli/runtime-flags.ts), which says why.
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`peercas needs Node.js 22 or newer (this is ${process.version}). Run it through npm (npx peercas …), which uses the Node 22 that npm install put in node_modules/.bin.\n`)
  process.exit(1)
}
import('../dist/node/cli/main.js').then((cli) => cli.main(process.argv.slice(2)))
