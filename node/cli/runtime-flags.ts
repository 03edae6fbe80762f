/**
 * Node/V8 flags every peercas process runs with. `bin/peercas.js` carries them in its shebang
 * (`#!/usr/bin/env -S node …`, so `npx peercas` gets them); anything that starts
 * `node bin/peercas.js` itself (tests, benchmarks, scripts) passes the same list, and a test
 * checks the shebang against it.
 *
 * `--initial-old-space-size=128`: with V8's default initial old-generation limit, a node that
 * streams large blobs ends up in a cycle of full mark-compacts every ~80 ms — V8's
 * "allocation limit" keeps restarting incremental marking at a 22 MB heap whose limit it holds at
 * ~46 MB — 15–17 full GCs per 256 MB ByteStream.Write after the first few writes. Starting the
 * limit at 128 MB: 0–1 per write, and 256 MB writes at 298–373 instead of 228–342 MB/s (same
 * machine, back to back, `--trace-gc`). Resident memory of a node holding 1M blobs: +5–9 MB.
 */
export const PEERCAS_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128']
