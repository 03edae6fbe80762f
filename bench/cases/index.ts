import type { BenchCase } from '../lib/case.js'
import { byteStreamCase } from './bytestream.js'
import { batchUpdateCase } from './batch-update.js'
import { findMissingCase } from './find-missing.js'
import { sizeSweepCase } from './size-sweep.js'
import { startupCase } from './startup.js'
import { peerFetchCase, summaryCase } from './p2p.js'
import { gossipSimCase } from './gossip-sim.js'
import { bazelCase } from './bazel.js'
import { smallFetchCase } from './small-fetch.js'
import { uploadCase } from './upload.js'
import { herdCase, lanCase } from './lan.js'
import { rpcCase } from './rpc.js'
import { scaleCase } from './scale.js'

/** Every case, in the order the harness runs them. */
export const ALL_CASES: readonly BenchCase[] = [
  byteStreamCase,
  batchUpdateCase,
  findMissingCase,
  rpcCase,
  sizeSweepCase,
  startupCase,
  scaleCase,
  peerFetchCase,
  lanCase,
  herdCase,
  smallFetchCase,
  summaryCase,
  gossipSimCase,
  uploadCase,
  bazelCase
]
