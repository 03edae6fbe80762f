import { describeName, NAME_KINDS } from '../domain/names.js'
import type { Logger } from '../log/logger.js'
import type { Sublevel } from '../store/index-db.js'
import type { NameIndex } from '../store/name-index.js'
import type { TrustPolicy } from './policy.js'
import type { ResultSigner } from './signatures.js'

/**
 * Removes every stored named result signed by a revoked signer (`trust.revoked`), of every kind.
 * Runs at start, before anything is served, and on a configuration reload. Returns how many.
 */
export async function removeRevokedEntries (index: NameIndex, policy: TrustPolicy, log: Logger): Promise<number> {
  const revoked = policy.revokedSigners()
  if (revoked.size === 0) return 0
  let removed = 0
  for (const kind of NAME_KINDS) {
    for await (const { name, signer } of index.signers(kind)) {
      if (signer === undefined || !revoked.has(signer)) continue
      await index.delete(name)
      removed++
      log.debug('removed an entry of a revoked signer', { name: describeName(name), signer })
    }
  }
  log.info('removed the named results of revoked signers', { signers: [...revoked], removed })
  return removed
}

/** Key under which {@link signUnsignedEntries} records that it has run. */
const SIGNED_MARKER = 'signed-entries-v1'

/**
 * Signs, as this node's own, every stored named result without a signature: entries written
 * before entries were signed. Runs once per data dir (a marker records it), in the background.
 * Returns how many it signed.
 */
export async function signUnsignedEntries (index: NameIndex, signer: ResultSigner, state: Sublevel, log: Logger, signal?: AbortSignal): Promise<number> {
  if ((await state.get(SIGNED_MARKER)) !== undefined) return 0
  let signed = 0
  for (const kind of NAME_KINDS) {
    for await (const { name, signer: existing } of index.signers(kind)) {
      signal?.throwIfAborted()
      if (existing !== undefined) continue
      const record = await index.getRecord(name)
      if (record === undefined || record.signature !== undefined) continue
      await index.put(name, record.value, await signer.sign(name, record.value))
      signed++
    }
  }
  await state.put(SIGNED_MARKER, Buffer.from(new Date().toISOString()))
  if (signed > 0) log.info('signed named results written before entries were signed, as this node\'s own', { signed })
  return signed
}
