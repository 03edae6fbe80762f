#!/usr/bin/env node
// Thin launcher: the CLI is compiled from node/cli into dist/ by `npm install` (the prepare script).
import('../dist/node/cli/main.js').then((cli) => cli.main(process.argv.slice(2)))
