import { chmod, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { IDENTITY_FILE } from './constants.js'
import { InvalidIdentityError } from './errors.js'

/**
 * Loads the node's Ed25519 key from `<dataDir>/p2p-identity.key` (libp2p protobuf encoding),
 * creating it with mode 0600 on first start, so the peer ID survives restarts.
 */
export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, IDENTITY_FILE)
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (bytes !== undefined) {
    try {
      const key = privateKeyFromProtobuf(bytes)
      // Tighten a file someone loosened; the key is a secret.
      await chmod(path, 0o600)
      return key
    } catch (error) {
      throw new InvalidIdentityError(`${path} does not hold a libp2p private key; move it away to generate a new identity`, { cause: error })
    }
  }
  const key = await generateKeyPair('Ed25519')
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  await rename(temp, path)
  return key
}
