import { describeName, type ResultName } from '../domain/names.js'
import { assetKey, decodeAssetMapping } from '../domain/assets.js'
import { verifySignature, type ResultSignature } from './signatures.js'

/**
 * Whose named results from peers this node accepts (config `trust.results`):
 * - `none`: none (this node uses only its own results and the central's);
 * - `listed`: those signed by a peer listed in `trust.peers` (or by this node);
 * - `team`: those signed by any node (only members of the PSK network can reach us).
 */
export type ResultTrustMode = 'none' | 'listed' | 'team'

/** What {@link TrustPolicy} decides with. */
export interface TrustPolicyInit {
  mode: ResultTrustMode
  /** `trust.peers`: signers accepted under `listed`. */
  listed: readonly string[]
  /** `trust.revoked`: signers whose entries are refused (and removed from the store). */
  revoked: readonly string[]
  /** This node's peer ID (its own entries coming back through a peer are always its own). */
  self: string
}

/** Where an answer came from: a peer (authenticated by Noise) or the central CAS. */
export type AnswerSource = { tier: 'peer', peer: string } | { tier: 'remote' }

/** A named result as another tier answered it. */
export interface NamedAnswer {
  readonly value: Buffer
  /** As the answer carried it; absent for the central and for nodes from before signatures. */
  readonly signature?: ResultSignature
  readonly source: AnswerSource
}

/**
 * The verdict on an answer. Accepted with a signature: store it with that signature (relays keep
 * the original signer). Accepted without one: this node vouches for it (it signs it when storing).
 */
export type Verdict = { accepted: true, signature?: ResultSignature } | { accepted: false, reason: string }

/** A verdict that accepts: store with `signature`, or vouch for the value when it has none. */
export type Acceptance = Extract<Verdict, { accepted: true }>

/**
 * An answer a tier has already judged with this node's {@link TrustPolicy} and accepted, with
 * that verdict: the peer tier judges every answer before it stores anything the answer carries
 * (inline blobs), so the resolver uses the verdict instead of verifying the signature again.
 * Only code in this node makes one (a peer's bytes are never taken for a verdict).
 */
export interface JudgedAnswer extends NamedAnswer {
  readonly verdict: Acceptance
}

/** True if `answer` carries the verdict of this node's policy ({@link JudgedAnswer}). */
export function isJudged (answer: NamedAnswer | JudgedAnswer): answer is JudgedAnswer {
  return 'verdict' in answer && answer.verdict?.accepted === true
}

/**
 * The one place that decides whether a named result from another tier may be used, for every
 * kind alike. Entries from the central are trusted as the central (the operator configured it).
 * A signed entry from a peer is judged by its signer, whoever relayed it: the signature must
 * verify over (kind, instance, environment, key, SHA-256 of the value, time) — so a forged,
 * tampered or replayed entry fails — and the signer must pass the mode and not be revoked. An
 * unsigned entry (from a node before signatures) is judged by the peer that answered. One
 * exception needs no trust at all: a checksum-pinned asset ({@link isChecksumPinnedAsset}) is
 * accepted from any peer that may be asked, whoever signed it, and this node vouches for it.
 */
export class TrustPolicy {
  private mode: ResultTrustMode
  private listed: Set<string>
  private revoked: Set<string>
  readonly self: string

  constructor (init: TrustPolicyInit) {
    this.self = init.self
    this.mode = init.mode
    this.listed = new Set(init.listed)
    this.revoked = new Set(init.revoked)
  }

  /** Applies a reloaded configuration (`trust.*`). */
  update (init: Omit<TrustPolicyInit, 'self'>): void {
    this.mode = init.mode
    this.listed = new Set(init.listed)
    this.revoked = new Set(init.revoked)
  }

  /** The current mode. */
  get resultMode (): ResultTrustMode { return this.mode }

  /** True if `signer`'s entries are refused everywhere. */
  isRevoked (signer: string): boolean { return this.revoked.has(signer) }

  /** The revoked signers now. */
  revokedSigners (): ReadonlySet<string> { return this.revoked }

  /** True if `peer` is in `trust.peers`. */
  isListed (peer: string): boolean { return this.listed.has(peer) }

  /** True if asking `peer` for named results could give an acceptable answer. */
  mayAsk (peer: string): boolean {
    if (this.mode === 'none' || this.revoked.has(peer)) return false
    return true
  }

  /** Judges an answer for `name`; see the class comment. Never throws. */
  async judge (name: ResultName, answer: NamedAnswer): Promise<Verdict> {
    const verdict = await this.judgeBySigner(name, answer)
    if (verdict.accepted || answer.source.tier !== 'peer' || !this.mayAsk(answer.source.peer)) return verdict
    // Its signer does not matter: the mapping is checked against its own name and checksum here,
    // and the blob against its digest when it is read. Stored as this node's (it vouches for it).
    return isChecksumPinnedAsset(name, answer.value) ? { accepted: true } : verdict
  }

  private async judgeBySigner (name: ResultName, answer: NamedAnswer): Promise<Verdict> {
    const { source, signature } = answer
    if (source.tier === 'remote') return { accepted: true }
    if (this.mode === 'none') return { accepted: false, reason: 'trust.results is none: named results from peers are not used' }
    if (signature === undefined || signature.signer === '') {
      if (this.revoked.has(source.peer)) return { accepted: false, reason: `unsigned entry from revoked peer ${source.peer}` }
      if (this.mode === 'team' || this.listed.has(source.peer)) return { accepted: true }
      return { accepted: false, reason: `unsigned entry from peer ${source.peer}, which is not in trust.peers` }
    }
    if (this.revoked.has(signature.signer)) return { accepted: false, reason: `signer ${signature.signer} is revoked (trust.revoked)` }
    if (!(await verifySignature(name, answer.value, signature))) {
      return { accepted: false, reason: `the signature of ${describeName(name)} by ${signature.signer} does not verify (forged, tampered, or replayed into another instance or environment)` }
    }
    if (signature.signer === this.self) return { accepted: true, signature }
    if (this.mode === 'listed' && !this.listed.has(signature.signer)) {
      return { accepted: false, reason: `signer ${signature.signer} is not in trust.peers (trust.results: listed)` }
    }
    return { accepted: true, signature }
  }
}

/**
 * True if `value` is an asset mapping that proves itself: it decodes (so a `checksum.sri` that
 * contradicts the blob digest is refused here), it is the mapping of exactly the URI and
 * qualifiers `name` was made from, and a SHA-256 in its `checksum.sri` pins the blob. Whoever
 * supplied such a mapping, the only blob it can lead to is the one the client asked for.
 */
export function isChecksumPinnedAsset (name: ResultName, value: Buffer): boolean {
  if (name.kind !== 'asset') return false
  try {
    const mapping = decodeAssetMapping(value)
    return mapping.selfVerifying && assetKey(mapping.uri, mapping.qualifiers) === name.key
  } catch {
    return false
  }
}
