import { decodeRefTarget, encodeRefTarget } from '../domain/refs.js'
import { referencesOf } from '../domain/references.js'
import { checkReferences, type NamedResultRule } from './named-result-rules.js'

/**
 * BuildStream artifact refs (ref name → the artifact's root Directory): complete when the whole
 * tree — every Directory and every file under it — can be read, so `bst pull` never gets half
 * an artifact.
 */
export const refRule: NamedResultRule = {
  kind: 'ref',
  validate (value) {
    return encodeRefTarget(decodeRefTarget(value))
  },
  normalize (value) {
    try {
      return encodeRefTarget(decodeRefTarget(value))
    } catch {
      return undefined
    }
  },
  async checkComplete (value, blobs, signal) {
    return await checkReferences(() => referencesOf('ref', value), blobs, signal)
  }
}
