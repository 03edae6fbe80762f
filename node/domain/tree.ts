import type { Digest } from '../store/digest.js'
import { MAX_TREE_BLOB_BYTES } from './constants.js'
import { InvalidRequestError } from './errors.js'
import { digestFromMessage } from './resource-names.js'
import { reapiMessages } from './messages.js'

/** A blob named as an output Tree that is too large or does not decode as one. */
export class InvalidTreeError extends InvalidRequestError {
  override name = 'InvalidTreeError'
}

/**
 * The digests of every file in an output-directory Tree, validated. Throws
 * {@link InvalidTreeError} for a tree over {@link MAX_TREE_BLOB_BYTES} or bytes that are not a Tree
 * (callers treat the action result as unusable); reading the bytes is the caller's business,
 * so check {@link checkTreeSize} before loading them.
 */
export function treeFileDigests (treeDigest: Digest, bytes: Buffer): Digest[] {
  checkTreeSize(treeDigest)
  let tree: ReturnType<typeof reapiMessages.Tree.deserialize>
  try {
    tree = reapiMessages.Tree.deserialize(bytes)
  } catch (error) {
    throw new InvalidTreeError(`blob ${treeDigest.hash}/${treeDigest.sizeBytes} is not a Tree message`, { cause: error })
  }
  const files: Digest[] = []
  for (const dir of [tree.root, ...tree.children]) {
    for (const file of dir?.files ?? []) files.push(digestFromMessage(file.digest, `tree ${treeDigest.hash} file ${file.name}`))
  }
  return files
}

/** Throws {@link InvalidTreeError} when a tree is too large to load into memory. */
export function checkTreeSize (treeDigest: Digest): void {
  if (treeDigest.sizeBytes > MAX_TREE_BLOB_BYTES) {
    throw new InvalidTreeError(`tree ${treeDigest.hash}/${treeDigest.sizeBytes} is larger than ${MAX_TREE_BLOB_BYTES} bytes; refusing to load it`)
  }
}
