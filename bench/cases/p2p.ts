import type { BenchCase, Figure } from '../lib/case.js'

const NOT_YET = 'p2p layer not available yet'

/**
 * Peer fetch against a raw libp2p stream, two-peer speed-up and the availability summary's
 * false-positive rate. Placeholders until node/p2p lands: each becomes its own case file then
 * (start two `serve` processes with --p2p-listen 127.0.0.1 and --peer, fetch through one).
 */
export const p2pCase: BenchCase = {
  name: 'p2p',
  keys: ['peer_fetch_vs_libp2p', 'two_peer_speedup', 'summary_fp_rate'],
  async run (ctx): Promise<Record<string, Figure>> {
    ctx.log(`skipped: ${NOT_YET}`)
    return Object.fromEntries(this.keys.map((key) => [key, { value: null, note: NOT_YET }]))
  }
}
