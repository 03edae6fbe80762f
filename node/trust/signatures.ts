import { createHash } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { ResultName } from '../domain/names.js'

/**
 * Who vouches for a named result: the node a local client wrote it to signs what it stores, and
 * the signature travels with the entry between peers (and through relays), so an asker judges
 * an entry by its signer, never by whoever passed it on.
 */
export interface ResultSignature {
  /** The signer's peer ID (an Ed25519 key: the ID carries the public key). */
  readonly signer: string
  /** When it signed (ms since the epoch). */
  readonly signedAtMs: number
  /** Ed25519 signature over {@link signedStatement}. */
  readonly signature: Uint8Array
}

/** Tag at the start of every signed statement, so the signature can mean nothing else. */
const STATEMENT_TAG = 'peercas named result v1\0'

/**
 * The bytes a signature covers: a tag, then kind, instance, environment and key (each a 4-byte
 * big-endian length and UTF-8), the SHA-256 of the value, and the signing time (8-byte big-endian
 * ms). Binding instance and environment means an entry replayed into another namespace no longer
 * verifies; binding the value's hash means its bytes cannot be swapped.
 */
export function signedStatement (name: ResultName, value: Uint8Array, signedAtMs: number): Buffer {
  const parts: Buffer[] = [Buffer.from(STATEMENT_TAG)]
  for (const field of [name.kind, name.instanceName, name.environment, name.key]) {
    const bytes = Buffer.from(field, 'utf8')
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32BE(bytes.byteLength)
    parts.push(length, bytes)
  }
  parts.push(createHash('sha256').update(value).digest())
  const time = Buffer.allocUnsafe(8)
  time.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(signedAtMs))))
  parts.push(time)
  return Buffer.concat(parts)
}

/** Signs named results with this node's peer key. */
export class ResultSigner {
  /** This node's peer ID: the signer of everything it signs. */
  readonly peerId: string

  constructor (private readonly key: PrivateKey) {
    this.peerId = peerIdFromPrivateKey(key).toString()
  }

  /** A signature of `value` under `name`, now. */
  async sign (name: ResultName, value: Uint8Array, now = Date.now()): Promise<ResultSignature> {
    const signature = await this.key.sign(signedStatement(name, value, now))
    return { signer: this.peerId, signedAtMs: now, signature }
  }
}

/**
 * True if `signature` is `signature.signer`'s signature of `value` under `name`. False for a
 * signer that is not an Ed25519 peer ID, a malformed signature, or any mismatch.
 */
export async function verifySignature (name: ResultName, value: Uint8Array, signature: ResultSignature): Promise<boolean> {
  let publicKey
  try {
    publicKey = peerIdFromString(signature.signer).publicKey
  } catch {
    return false
  }
  if (publicKey === undefined || publicKey.type !== 'Ed25519' || signature.signature.byteLength !== 64) return false
  try {
    return await publicKey.verify(signedStatement(name, value, signature.signedAtMs), signature.signature)
  } catch {
    return false
  }
}
