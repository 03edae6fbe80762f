/** Redirects followed per download (GitHub release URLs redirect once or twice). */
export const MAX_REDIRECTS = 5

/** Bytes read back from the spool file per write into the store. */
export const SPOOL_READ_CHUNK_BYTES = 1024 * 1024

/** User-Agent sent to origins. */
export const ORIGIN_USER_AGENT = 'peercas-remote-asset'
