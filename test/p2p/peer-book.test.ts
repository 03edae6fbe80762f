import { describe, expect, it } from 'vitest'
import { PeerBook } from '../../node/p2p/peer-book.js'
import { BAN_BASE_MS, BAN_MAX_MS } from '../../node/p2p/constants.js'

describe('PeerBook bans', () => {
  it('doubles a ban for a repeat offence soon after the last', () => {
    let now = 1_000_000
    const book = new PeerBook({ maxStreamsPerPeer: 4, maxServeRatePerPeer: 1e9, now: () => now })
    expect(book.ban('p') - now).toBe(BAN_BASE_MS)
    now += BAN_BASE_MS + 1
    expect(book.ban('p') - now).toBe(2 * BAN_BASE_MS)
    expect(book.isBanned('p')).toBe(true)
  })

  it('forgives one strike per clean hour, so an old offence does not weigh forever', () => {
    let now = 1_000_000
    const book = new PeerBook({ maxStreamsPerPeer: 4, maxServeRatePerPeer: 1e9, now: () => now })
    let until = 0
    for (let i = 0; i < 8; i++) { now = until + 1; until = book.ban('p') }
    expect(until - now).toBe(BAN_MAX_MS)
    now = until + 2 * BAN_MAX_MS
    expect(book.isBanned('p')).toBe(false)
    // 8 strikes, 2 forgiven: the 7th step of the ladder (capped at the longest ban).
    expect(book.ban('p') - now).toBe(Math.min(BAN_MAX_MS, BAN_BASE_MS * 2 ** 6))
    now = book.get('p').bannedUntil + 10 * BAN_MAX_MS
    expect(book.ban('p') - now).toBe(BAN_BASE_MS)
  })
})
