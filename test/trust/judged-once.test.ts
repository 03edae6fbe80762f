import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { reapi } from '../../node/reapi/protos.js'
import { makeTempDir } from '../helpers/node.js'
import { digestOf } from '../../node/store/digest.js'
import { LocalStore } from '../../node/store/local-store.js'
import { TieredResolver } from '../../node/resolve/tiered-resolver.js'
import { NamedResultResolver, type NameFetcher } from '../../node/resolve/named-results.js'
import { actionResultRule } from '../../node/resolve/named-result-rules.js'
import { actionResultName, type ResultName } from '../../node/domain/names.js'
import { TrustPolicy, type JudgedAnswer, type NamedAnswer, type Verdict } from '../../node/trust/policy.js'
import { ResultSigner } from '../../node/trust/signatures.js'

/** An ActionResult that references no blob: complete wherever it is. */
const RESULT = Buffer.from(reapi.ActionResult.serialize({ exitCode: 0, stdoutRaw: Buffer.from('built') }))

/** The real policy, counting the answers it judges. */
class CountingPolicy extends TrustPolicy {
  judged = 0
  override async judge (name: ResultName, answer: NamedAnswer): Promise<Verdict> {
    this.judged++
    return await super.judge(name, answer)
  }
}

/** A peer-like tier that answers every name with what `answer` makes of it. */
class AnsweringTier implements NameFetcher {
  readonly tier = 'peer'
  constructor (private readonly answer: (name: ResultName) => Promise<NamedAnswer | JudgedAnswer>) {}
  async fetchNamed (name: ResultName): Promise<NamedAnswer | JudgedAnswer> { return await this.answer(name) }
}

describe('an answer is judged once, by whichever tier picked it', () => {
  let dir: string
  let store: LocalStore
  let self: ResultSigner
  let teammate: ResultSigner
  const peer = 'the-peer-that-answered'

  beforeAll(async () => {
    dir = await makeTempDir('peercas-judged-once-')
    store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 1 << 30 })
    self = new ResultSigner(await generateKeyPair('Ed25519'))
    teammate = new ResultSigner(await generateKeyPair('Ed25519'))
  })
  afterAll(async () => { await store?.close(); await rm(dir, { recursive: true, force: true }) })

  const resolverWith = (policy: TrustPolicy, tier: NameFetcher): NamedResultResolver => new NamedResultResolver({
    index: store.names,
    blobs: new TieredResolver({ store }),
    rules: [actionResultRule],
    policy,
    signer: self,
    fetchers: [tier]
  })
  const freshName = (): ResultName => actionResultName('', digestOf(randomBytes(32)))

  it('uses the verdict a tier judged with the same policy, and stores the value with its signature', async () => {
    const policy = new CountingPolicy({ mode: 'listed', listed: [teammate.peerId], revoked: [], self: self.peerId })
    const tier = new AnsweringTier(async (name) => {
      const answer: NamedAnswer = { value: RESULT, signature: await teammate.sign(name, RESULT), source: { tier: 'peer', peer } }
      const verdict = await policy.judge(name, answer)
      if (!verdict.accepted) throw new Error(`the test answer was refused: ${verdict.reason}`)
      return { ...answer, verdict }
    })
    const name = freshName()
    expect(await resolverWith(policy, tier).get(name, AbortSignal.timeout(5000))).toEqual(RESULT)
    // Once by the tier; not again by the resolver.
    expect(policy.judged).toBe(1)
    expect((await store.names.getRecord(name))?.signature?.signer).toBe(teammate.peerId)
  })

  it('judges an answer that comes without a verdict, and stores nothing it refuses', async () => {
    const policy = new CountingPolicy({ mode: 'listed', listed: [], revoked: [], self: self.peerId })
    const tier = new AnsweringTier(async (name) => ({ value: RESULT, signature: await teammate.sign(name, RESULT), source: { tier: 'peer', peer } }))
    const name = freshName()
    expect(await resolverWith(policy, tier).get(name, AbortSignal.timeout(5000))).toBeUndefined()
    expect(policy.judged).toBe(1)
    expect(await store.names.get(name)).toBeUndefined()
  })
})
