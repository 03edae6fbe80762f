import type { Digest } from '../store/digest.js'
import { InvalidRequestError } from './errors.js'
import { PeercasError, Status } from './status.js'
import { nameValueMessages } from './messages.js'
import { digestFromMessage } from './resource-names.js'

/** Longest BuildStream ref name accepted. */
export const MAX_REF_NAME_LENGTH = 1024

/** A ref name that is empty, too long, or tries to escape its place (`..`, absolute, NUL…). */
export class InvalidRefNameError extends InvalidRequestError {
  override name = 'InvalidRefNameError'
}

/** A ref update through an endpoint configured without them (`allowRefUpdates: false`). */
export class RefUpdatesRefusedError extends PeercasError {
  override name = 'RefUpdatesRefusedError'
  readonly status = Status.PERMISSION_DENIED
}

/**
 * Checks a BuildStream artifact ref name (`project/element/cache-key`): `/`-separated segments,
 * none empty, `.` or `..`; no leading `/`, no backslash, no control characters. BuildStream's
 * own server keeps refs as files under a directory, so a name like `../../x` is a path trick
 * whichever store is behind it. Returns the name unchanged.
 */
export function validateRefName (ref: unknown, what = 'ref'): string {
  if (typeof ref !== 'string' || ref === '') throw new InvalidRefNameError(`${what} is empty`)
  if (ref.length > MAX_REF_NAME_LENGTH) throw new InvalidRefNameError(`${what} is ${ref.length} characters long; the limit is ${MAX_REF_NAME_LENGTH}`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(ref)) throw new InvalidRefNameError(`${what} ${JSON.stringify(ref)} contains a control character or a backslash`)
  if (ref.startsWith('/')) throw new InvalidRefNameError(`${what} ${JSON.stringify(ref)} is absolute; refs are relative names like project/element/key`)
  for (const segment of ref.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new InvalidRefNameError(`${what} ${JSON.stringify(ref)} has an empty, "." or ".." segment`)
  }
  return ref
}

/** Encodes the value of a `ref` named result: the artifact's root Directory. */
export function encodeRefTarget (root: Digest): Buffer {
  return nameValueMessages.RefTarget.serialize({ rootDirectoryDigest: root })
}

/** Decodes the value of a `ref` named result; throws InvalidRequestError/InvalidDigestError if malformed. */
export function decodeRefTarget (bytes: Buffer): Digest {
  let message: ReturnType<typeof nameValueMessages.RefTarget.deserialize>
  try {
    message = nameValueMessages.RefTarget.deserialize(bytes)
  } catch (error) {
    throw new InvalidRequestError('value is not a RefTarget message', { cause: error })
  }
  return digestFromMessage(message.rootDirectoryDigest, 'ref root_directory_digest')
}
