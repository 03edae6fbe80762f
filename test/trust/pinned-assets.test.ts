import { beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { assetKey, encodeAssetMapping, type Qualifier } from '../../node/domain/assets.js'
import { assetName, type ResultName } from '../../node/domain/names.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { TrustPolicy, type NamedAnswer } from '../../node/trust/policy.js'
import { ResultSigner } from '../../node/trust/signatures.js'
import { sriOf } from '../helpers/assets.js'

const content = Buffer.from('a dependency pinned by its checksum\n')
const uri = 'https://example.com/dep.tar.gz'
const pinned: Qualifier[] = [{ name: 'checksum.sri', value: sriOf(content) }]

/** The bytes of a mapping of `mappedUri` with `qualifiers` to `blob` (nothing checked). */
function mappingValue (mappedUri: string, qualifiers: readonly Qualifier[], blob: Digest): Buffer {
  return encodeAssetMapping({ uri: mappedUri, qualifiers, target: { blob }, expireAtMs: 0, createdAtMs: Date.now(), selfVerifying: false })
}

describe('a checksum-pinned asset needs no trust in its signer', () => {
  let stranger: ResultSigner
  let self: ResultSigner
  let policy: TrustPolicy
  const relay = 'the-peer-that-answered'

  /** `stranger`'s signed answer for `name`, relayed by a peer. */
  const answer = async (name: ResultName, value: Buffer): Promise<NamedAnswer> =>
    ({ value, signature: await stranger.sign(name, value), source: { tier: 'peer', peer: relay } })

  beforeAll(async () => {
    stranger = new ResultSigner(await generateKeyPair('Ed25519'))
    self = new ResultSigner(await generateKeyPair('Ed25519'))
    policy = new TrustPolicy({ mode: 'listed', listed: [], revoked: [], self: self.peerId })
  })

  it('accepts a pinned asset signed by a node it does not list, vouching for it itself', async () => {
    const name = assetName('', assetKey(uri, pinned))
    expect(await policy.judge(name, await answer(name, mappingValue(uri, pinned, digestOf(content))))).toEqual({ accepted: true })
  })

  it('refuses an unpinned asset from the same signer', async () => {
    const name = assetName('', assetKey(uri, []))
    expect(await policy.judge(name, await answer(name, mappingValue(uri, [], digestOf(content))))).toMatchObject({ accepted: false, reason: expect.stringMatching(/not in trust\.peers/) })
  })

  it('refuses a pinned asset whose blob does not match its checksum', async () => {
    const name = assetName('', assetKey(uri, pinned))
    const other = digestOf(Buffer.from('something else'))
    expect(await policy.judge(name, await answer(name, mappingValue(uri, pinned, other)))).toMatchObject({ accepted: false })
  })

  it('refuses a pinned mapping of another URI answered under this name', async () => {
    const name = assetName('', assetKey(uri, pinned))
    const elsewhere = mappingValue('https://example.com/other.tar.gz', pinned, digestOf(content))
    expect(await policy.judge(name, await answer(name, elsewhere))).toMatchObject({ accepted: false })
  })

  it('refuses it from a peer it may not ask (revoked, or trust.results none)', async () => {
    const name = assetName('', assetKey(uri, pinned))
    const value = mappingValue(uri, pinned, digestOf(content))
    const revoked = new TrustPolicy({ mode: 'listed', listed: [], revoked: [relay], self: self.peerId })
    expect(await revoked.judge(name, await answer(name, value))).toMatchObject({ accepted: false })
    const none = new TrustPolicy({ mode: 'none', listed: [], revoked: [], self: self.peerId })
    expect(await none.judge(name, await answer(name, value))).toMatchObject({ accepted: false })
  })
})
