import { referencedDigests } from './action-result.js'
import { reapiMessages } from './messages.js'
import type { NameKind } from './names.js'
import { checkTreeSize, treeFileDigests } from './tree.js'
import type { Digest } from '../store/digest.js'
import { InvalidRequestError } from './errors.js'
import { decodeAssetMapping } from './assets.js'
import { decodeRefTarget } from './refs.js'
import { digestFromMessage } from './resource-names.js'

/** A named result's value that does not decode as what its kind says it is. */
export class MalformedValueError extends InvalidRequestError {
  override name = 'MalformedValueError'
}

/**
 * The blobs a named result's value needs, as a walk: the digests it names directly, and for
 * those that hold more digests (an output Tree, a Directory) how to list what is inside once
 * their bytes are here. `peercas sync` pulls a value's blobs with it; asset mappings walk their
 * blob or directory tree, BuildStream refs their directory tree.
 */
export interface ValueReferences {
  /** Digests the value names directly. */
  readonly direct: readonly Digest[]
  /** True if `digest` holds further digests (read it and call {@link childrenOf}). */
  isContainer(digest: Digest): boolean
  /**
   * The digests inside a container, given its bytes (checked against a size bound first with
   * {@link checkContainerSize}); throws InvalidTreeError / InvalidDigestError when malformed.
   */
  childrenOf(container: Digest, bytes: Buffer): Digest[]
}

/** Throws InvalidTreeError when a container is too large to load into memory. */
export function checkContainerSize (container: Digest): void {
  checkTreeSize(container)
}

/**
 * The references of a value of `kind`; throws {@link MalformedValueError} when the value does
 * not decode, InvalidDigestError naming the field when a digest in it is malformed.
 */
export function referencesOf (kind: NameKind, value: Buffer): ValueReferences {
  switch (kind) {
    case 'action-result': {
      const refs = referencedDigests(decode(() => reapiMessages.ActionResult.deserialize(value), 'an ActionResult'))
      const trees = new Set(refs.trees.map((d) => d.hash))
      return {
        direct: [...refs.blobs, ...refs.trees],
        isContainer: (digest) => trees.has(digest.hash),
        childrenOf: (tree, bytes) => treeFileDigests(tree, bytes)
      }
    }
    case 'asset': {
      const { target } = decode(() => decodeAssetMapping(value), 'an AssetMapping')
      return 'blob' in target ? { direct: [target.blob], isContainer: () => false, childrenOf: () => [] } : directoryReferences(target.directory)
    }
    case 'ref':
      return directoryReferences(decode(() => decodeRefTarget(value), 'a RefTarget'))
  }
}

/**
 * The walk of a Directory tree: the root, then each Directory's files and subdirectories (a
 * subdirectory is a container in turn). Used by asset mappings of directories and BuildStream refs.
 */
export function directoryReferences (root: Digest): ValueReferences {
  const directories = new Set<string>([root.hash])
  return {
    direct: [root],
    isContainer: (digest) => directories.has(digest.hash),
    childrenOf (directory, bytes) {
      const message = decode(() => reapiMessages.Directory.deserialize(bytes), `a Directory (blob ${directory.hash})`)
      const children: Digest[] = []
      for (const file of message.files) children.push(digestFromMessage(file.digest, `file ${JSON.stringify(file.name)} of directory ${directory.hash}`))
      for (const child of message.directories) {
        const digest = digestFromMessage(child.digest, `directory ${JSON.stringify(child.name)} of directory ${directory.hash}`)
        directories.add(digest.hash)
        children.push(digest)
      }
      return children
    }
  }
}

function decode<T> (parse: () => T, what: string): T {
  try {
    return parse()
  } catch (error) {
    throw new MalformedValueError(`value is not ${what}: ${(error as Error).message}`, { cause: error })
  }
}
