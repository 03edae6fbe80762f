import type { ActionResult__Output } from '../generated/build/bazel/remote/execution/v2/ActionResult.js'
import type { Digest } from '../store/digest.js'
import { digestFromMessage } from './resource-names.js'

/** The digests an ActionResult names directly: output files, stdout and stderr (`blobs`), output-directory Trees (`trees`). */
export interface ActionResultReferences {
  blobs: Digest[]
  trees: Digest[]
}

/** Every digest an ActionResult names directly, validated (throws on a malformed one, naming the field). */
export function referencedDigests (result: ActionResult__Output): ActionResultReferences {
  const blobs: Digest[] = []
  const trees: Digest[] = []
  result.outputFiles.forEach((file, i) => { blobs.push(digestFromMessage(file.digest, `action_result.output_files[${i}] (${file.path}) digest`)) })
  result.outputDirectories.forEach((dir, i) => { trees.push(digestFromMessage(dir.treeDigest, `action_result.output_directories[${i}] (${dir.path}) tree_digest`)) })
  if (result.stdoutDigest != null && result.stdoutDigest.hash !== '') blobs.push(digestFromMessage(result.stdoutDigest, 'action_result.stdout_digest'))
  if (result.stderrDigest != null && result.stderrDigest.hash !== '') blobs.push(digestFromMessage(result.stderrDigest, 'action_result.stderr_digest'))
  return { blobs, trees }
}
