import { MAX_TREE_BLOB_BYTES } from '../domain/constants.js'
import { reapiMessages } from '../domain/messages.js'
import { digestFromMessage } from '../domain/resource-names.js'
import { formatDigest, isEmptyDigest, type Digest } from '../store/digest.js'
import { InvalidDigestError } from '../store/errors.js'
import { firstUnreachable, type Incompleteness } from './named-result-rules.js'
import type { TieredResolver } from './tiered-resolver.js'

/** Most Directory messages walked for one tree; a larger tree is treated as unusable. */
export const MAX_TREE_DIRECTORIES = 100_000

/**
 * `undefined` when the whole Directory tree under `root` is reachable through `blobs` — every
 * Directory message and every file (fetching from peers what only peers hold) — else why not.
 * Directories are read one at a time (they are small); files are checked together at the end.
 */
export async function checkTreeReachable (root: Digest, blobs: TieredResolver, signal: AbortSignal): Promise<Incompleteness | undefined> {
  const seen = new Set<string>([formatDigest(root)])
  const queue: Digest[] = [root]
  const files: Digest[] = []
  while (queue.length > 0) {
    const digest = queue.shift()!
    if (digest.sizeBytes > MAX_TREE_BLOB_BYTES) return { malformed: `directory ${formatDigest(digest)} is larger than ${MAX_TREE_BLOB_BYTES} bytes` }
    const bytes = isEmptyDigest(digest) ? Buffer.alloc(0) : await blobs.read(digest, signal)
    if (bytes === undefined) return { missing: digest }
    let directory: ReturnType<typeof reapiMessages.Directory.deserialize>
    try {
      directory = reapiMessages.Directory.deserialize(bytes)
      for (const file of directory.files) files.push(digestFromMessage(file.digest, `file ${file.name} of directory ${formatDigest(digest)}`))
      for (const child of directory.directories) {
        const childDigest = digestFromMessage(child.digest, `directory ${child.name} of directory ${formatDigest(digest)}`)
        const key = formatDigest(childDigest)
        if (seen.has(key)) continue
        if (seen.size >= MAX_TREE_DIRECTORIES) return { malformed: `tree under ${formatDigest(root)} has more than ${MAX_TREE_DIRECTORIES} directories` }
        seen.add(key)
        queue.push(childDigest)
      }
    } catch (error) {
      if (error instanceof InvalidDigestError) return { malformed: error.message }
      return { malformed: `blob ${formatDigest(digest)} is not a Directory message` }
    }
  }
  const missing = await firstUnreachable(files.filter((d) => !isEmptyDigest(d)), blobs, signal)
  return missing === undefined ? undefined : { missing }
}
