import { decodeRefTarget, encodeRefTarget } from '../domain/refs.js'
import type { NamedResultRule } from './named-result-rules.js'
import { checkTreeReachable } from './directory-tree.js'

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
    let root
    try {
      root = decodeRefTarget(value)
    } catch (error) {
      return { malformed: (error as Error).message }
    }
    return await checkTreeReachable(root, blobs, signal)
  }
}
