import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { validateDigest, type Digest as BlobDigest } from '../store/digest.js'
import type { BlobRefMessage } from './messages.js'
import { MalformedFrameError } from './errors.js'

/** Multicodec of raw bytes. */
const RAW_CODEC = 0x55
/** Multihash code of sha2-256. */
const SHA2_256 = 0x12

/** The CIDv1 (raw, sha2-256) naming a blob. */
export function digestToCid (digest: BlobDigest): CID {
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, Buffer.from(digest.hash, 'hex')))
}

/** A blob as sent on the wire. */
export function toBlobRef (digest: BlobDigest): BlobRefMessage {
  return { cid: digestToCid(digest).bytes, size: digest.sizeBytes }
}

/**
 * The digest named by a wire blob reference. Throws {@link MalformedFrameError} for anything
 * but a CIDv1 with raw codec and a 32-byte sha2-256 multihash, or an invalid size.
 */
export function fromBlobRef (ref: BlobRefMessage | null | undefined): BlobDigest {
  if (ref == null) throw new MalformedFrameError('blob reference is missing')
  let cid: CID
  try {
    cid = CID.decode(ref.cid)
  } catch (error) {
    throw new MalformedFrameError(`blob reference is not a CID: ${(error as Error).message}`, { cause: error })
  }
  if (cid.version !== 1 || cid.code !== RAW_CODEC || cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    throw new MalformedFrameError(`CID ${cid.toString()} is not a raw sha2-256 CIDv1`)
  }
  try {
    return validateDigest(Buffer.from(cid.multihash.digest).toString('hex'), ref.size, 'blob reference')
  } catch (error) {
    throw new MalformedFrameError((error as Error).message, { cause: error })
  }
}
