import { decodeAssetMapping, encodeAssetMapping } from '../domain/assets.js'
import { firstUnreachable, type NamedResultRule } from './named-result-rules.js'
import { checkTreeReachable } from './directory-tree.js'

/**
 * Remote Asset mappings (one URI and its qualifiers → a blob or a directory tree): complete when
 * not expired and the blob, or the whole tree, can be read. A mapping whose `checksum.sri`
 * contradicts its blob digest does not decode, so a self-verifying mapping cannot lie.
 */
export const assetRule: NamedResultRule = {
  kind: 'asset',
  validate (value) {
    return encodeAssetMapping(decodeAssetMapping(value))
  },
  normalize (value) {
    try {
      return encodeAssetMapping(decodeAssetMapping(value))
    } catch {
      return undefined
    }
  },
  async checkComplete (value, blobs, signal) {
    let mapping
    try {
      mapping = decodeAssetMapping(value)
    } catch (error) {
      return { malformed: (error as Error).message }
    }
    if (mapping.expireAtMs > 0 && mapping.expireAtMs <= Date.now()) {
      return { malformed: `mapping of ${mapping.uri} expired at ${new Date(mapping.expireAtMs).toISOString()}` }
    }
    if ('directory' in mapping.target) return await checkTreeReachable(mapping.target.directory, blobs, signal)
    const missing = await firstUnreachable([mapping.target.blob], blobs, signal)
    return missing === undefined ? undefined : { missing }
  }
}
