/** Largest total of blob bytes in one BatchUpdateBlobs or BatchReadBlobs (advertised in capabilities). */
export const MAX_BATCH_TOTAL_SIZE_BYTES = 4 * 1024 * 1024

/**
 * Largest Tree or Directory blob read whole into memory (GetTree, action-result completeness).
 * A larger one is refused as malformed instead of risking the node's memory.
 */
export const MAX_TREE_BLOB_BYTES = 64 * 1024 * 1024
