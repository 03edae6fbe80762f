import { decodeAssetMapping, encodeAssetMapping } from '../domain/assets.js'
import { referencesOf } from '../domain/references.js'
import { checkReferences, type NamedResultRule } from './named-result-rules.js'

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
    return await checkReferences(() => referencesOf('asset', value), blobs, signal)
  }
}
