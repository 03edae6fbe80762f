/** Protocol IDs. The version is part of the ID: a peer speaking another version is not matched. */
export const AVAILABILITY_PROTOCOL = '/peercas/avail/1.0.0'
/** Availability with receiver control: a receiver pauses senders whose summary it does not keep. */
export const AVAILABILITY_CONTROLLED_PROTOCOL = '/peercas/avail/1.1.0'
/** Fetch blobs or byte ranges, one request per stream (spoken to and by nodes from before 1.1.0). */
export const FETCH_PROTOCOL = '/peercas/fetch/1.0.0'
/** Fetch blobs or byte ranges, one request after another on a stream the client keeps open for reuse. */
export const FETCH_STREAM_PROTOCOL = '/peercas/fetch/1.1.0'
/** Action-result lookups, one per stream (spoken to and by nodes from before 1.1.0). */
export const ACTION_RESULT_PROTOCOL = '/peercas/ac/1.0.0'
/** Action-result lookups, one after another on a stream the asker keeps open for reuse. */
export const ACTION_RESULT_STREAM_PROTOCOL = '/peercas/ac/1.1.0'
/** Named-result lookups of any kind (the request names the kind), reused like 1.1.0. */
export const NAMED_RESULT_PROTOCOL = '/peercas/ac/2.0.0'
/** Longest named-result key accepted in a request or a listing. */
export const MAX_NAME_KEY_CHARS = 4096
/** Listing a peer's blobs or action-cache keys, for sync. */
export const LIST_PROTOCOL = '/peercas/list/1.0.0'
/** As 1.0.0, and named results of any kind (NAMED_RESULTS with a kind). */
export const LIST_NAMES_PROTOCOL = '/peercas/list/1.1.0'

/** Piece maps of large blobs, for fetching them from a swarm of peers fetching them too. */
export const PIECES_PROTOCOL = '/peercas/pieces/1.0.0'
/** Most pieces in a piece map (32 bytes of hash each: 512 KiB, under the control frame cap). */
export const MAX_MAP_PIECES = 16384
/** Pieces a swarm fetch aims for (the piece size is the blob's size over this, within bounds). */
export const SWARM_TARGET_PIECES = 64
/** Smallest and largest swarm piece. */
export const MIN_SWARM_PIECE_BYTES = 1024 * 1024
export const MAX_SWARM_PIECE_BYTES = 16 * 1024 * 1024
/** Peers named in a piece map's swarm list. */
export const MAX_SWARM_PEERS = 32
/** A peer that asked a holder for a piece map counts as fetching the blob for this long. */
export const SWARM_MEMBER_TTL_MS = 10_000
/** How often a swarm fetch asks its holder who else is fetching the blob. */
export const SWARM_TRACKER_POLL_MS = 300
/** Piece requests a swarm fetch keeps in flight, in all and to one peer. */
export const SWARM_MAX_IN_FLIGHT = 8
export const SWARM_MAX_IN_FLIGHT_PER_PEER = 2
/**
 * Longest wait for a piece's first header in a swarm fetch: piece requests queue behind bulk
 * bytes on the same connection, and a holder may be hashing the blob for its piece map.
 */
export const SWARM_ANSWER_TIMEOUT_MS = 15_000
/** Piece maps a holder keeps computed (hashing a large blob takes a while). */
export const PIECE_MAP_CACHE_ENTRIES = 16

/** Name of the identity file in the data dir. */
export const IDENTITY_FILE = 'p2p-identity.key'

/** Largest control frame (request, header, delta, list page) any reader accepts. */
export const MAX_CONTROL_FRAME_BYTES = 1024 * 1024
/** Largest summary part frame. */
export const SUMMARY_PART_BYTES = 256 * 1024
/** Largest summary (Bloom filter) accepted from a peer or built locally: 8 MiB ≈ 4.7M blobs at 0.1 %. */
export const MAX_SUMMARY_BYTES = 8 * 1024 * 1024
/** Smallest summary built (so an empty store still sends a sane filter). */
export const MIN_SUMMARY_CAPACITY = 4096
/**
 * False-positive rate a summary is sized for at its capacity: 0.1 % (14.4 bits, 1.8 bytes per
 * blob, 10 hashes). A lookup of a blob no peer has consults up to {@link MAX_SUMMARY_PEERS}
 * summaries, so the per-lookup rate is ≈ 32 × 0.1 % ≈ 3 % (it was 1 − 0.991^(peers−1) with
 * every peer's 0.9 % summary: 36 % at 50 peers, 99 % at 500).
 */
export const SUMMARY_FALSE_POSITIVE_RATE = 0.001
/**
 * Most peers whose summaries are kept in memory: the cheapest to fetch from (EWMA latency and
 * throughput; unmeasured peers get a LAN prior). Others are no fetch candidates until their next
 * summary wins a slot. 32 × 2.7 MB (1M blobs, as built) ≈ 86 MB.
 */
export const MAX_SUMMARY_PEERS = 32
/** Most bytes of peers' summaries kept in memory (also bounds summaries near the 8 MiB cap). */
export const MAX_SUMMARY_MEMORY_BYTES = 96 * 1024 * 1024
/**
 * Most distinct peers one read tries before giving up on the peer tier (BUSY retries go to the
 * same peers): a lookup of a blob no peer has costs at most this many round trips, whatever the
 * summaries say (stale, false positive, or a peer advertising everything).
 */
export const MAX_FETCH_CANDIDATES = 4
/** A summary is built for this many times the blobs held, leaving room for deltas. */
export const SUMMARY_HEADROOM = 1.5
/** Largest number of hash functions accepted in a peer's summary. */
export const MAX_SUMMARY_HASHES = 16
/** Delta entries per frame. */
export const MAX_DELTA_ENTRIES = 8192
/** Wants per fetch request. */
export const MAX_WANTS_PER_REQUEST = 256
/** Entries per list page. */
export const LIST_PAGE_ENTRIES = 4096
/** Largest action result accepted from a peer. */
export const MAX_ACTION_RESULT_BYTES = 4 * 1024 * 1024
/**
 * Most bytes of referenced blobs carried inline in one action-result answer (sum of their
 * sizes). Each blob carried saves the asker one fetch stream (≈ 2–3 ms for a small blob).
 */
export const MAX_INLINE_BYTES = 1024 * 1024
/** Most blobs carried inline in one action-result answer. */
export const MAX_INLINE_BLOBS = 256
/** Idle /peercas/ac/1.1.0 streams kept per peer for the next lookups. */
export const LOOKUP_IDLE_STREAMS_PER_PEER = 4
/** An idle lookup stream is closed after this long unused (the server's stall timeout is longer). */
export const LOOKUP_STREAM_IDLE_MS = 10_000
/**
 * Idle /peercas/fetch/1.1.0 streams a client keeps per peer for the next fetches. Open fetch
 * streams (busy + idle) stay within `maxStreamsPerPeer`; an idle one is handed to a waiting fetch
 * before anything else.
 */
export const FETCH_IDLE_STREAMS_PER_PEER = 4
/**
 * A client closes an idle fetch stream after this long unused (at most half the stall timeout,
 * so the client normally closes before the server gives up on the stream).
 */
export const FETCH_STREAM_IDLE_MS = 10_000
/**
 * A server that ends an idle fetch stream (idle too long, or over its idle bounds) waits this
 * long for the client to close its side too, then resets the stream.
 */
export const IDLE_STREAM_CLOSE_GRACE_MS = 2000
/** Protobuf overhead allowed per inline blob in an answer's frame cap (BlobRef + tags + lengths). */
export const INLINE_BLOB_OVERHEAD_BYTES = 128

/** Raw bytes are sent in chunks of at most this size. */
export const SEND_CHUNK_BYTES = 256 * 1024
/** Pause a stream we read from when this much is buffered and unread. */
export const READ_HIGH_WATER_BYTES = 8 * 1024 * 1024

/** First ban of a peer that sent wrong bytes; doubles on each repeat. */
export const BAN_BASE_MS = 60_000
/** Longest ban. */
export const BAN_MAX_MS = 60 * 60_000

/**
 * Longest wait for a peer's first answer (the first header of a fetch) in one attempt of the
 * read path. On a LAN an answer takes milliseconds; a peer that takes longer is cut off,
 * penalised (see {@link SLOW_COOLDOWN_BASE_MS}) and the next candidate is asked.
 */
export const PEER_ANSWER_TIMEOUT_MS = 1000
/**
 * Most time one client request spends waiting for peers: over all candidates of a blob read
 * (answers and BUSY back-off; bytes already flowing are not cut), and for an action-cache
 * lookup at trusted peers. Then the next tier (central CAS) is used.
 */
export const PEER_TIER_BUDGET_MS = 3000
/**
 * A peer that stalls, times out or fails a transfer is skipped for this long (not banned: slow is
 * not lying); doubles with each failure in a row, reset by the next answer.
 */
export const SLOW_COOLDOWN_BASE_MS = 5000
/** Longest cool-down of a slow peer. */
export const SLOW_COOLDOWN_MAX_MS = 5 * 60_000

/** Static peers are redialled with exponential backoff from this delay… */
export const REDIAL_MIN_MS = 1000
/** …up to this one. */
export const REDIAL_MAX_MS = 60_000
/**
 * Share of each redial delay that is random (it is drawn from 75–100 % of the backoff step), so
 * nodes that lost a shared static peer at the same moment do not all redial it in step.
 */
export const REDIAL_JITTER = 0.25
/**
 * Longest wait for one dial (TCP connect, Noise handshake, muxer) of a discovered or static peer.
 * A LAN peer answers in milliseconds; 10 s also covers a loaded or remote one, and a dial that
 * hangs longer is given up so that the static-peer loop can back off and try again.
 */
export const DIAL_TIMEOUT_MS = 10_000
/**
 * Longest wait for a dial by `peercas sync` of the peer it was asked to pull from. A little longer
 * than {@link DIAL_TIMEOUT_MS}: a person waits for it, and the peer may be the far side of a VPN.
 */
export const SYNC_DIAL_TIMEOUT_MS = 15_000

/** Never re-summarise more often than this, whatever the delta volume. */
export const MIN_RESUMMARIZE_MS = 30_000
/**
 * A failed build of the first availability summary (reading the store's index) is retried after
 * this delay, doubling… Until it succeeds peers get no summary at all, so the first retries are
 * quick.
 */
export const SUMMARY_RETRY_MIN_MS = 1000
/** …up to this one: a store that keeps failing is not read in a tight loop. */
export const SUMMARY_RETRY_MAX_MS = 30_000
/**
 * Longest wait to open our availability stream to a newly connected peer (protocol negotiation on
 * an existing connection). As {@link DIAL_TIMEOUT_MS}: a peer that does not answer in that time
 * is tried again after {@link RETRY_OUTBOUND_MS}.
 */
export const AVAILABILITY_OPEN_TIMEOUT_MS = 10_000
/**
 * A peer that does not take our availability stream (it does not speak the protocol, or opening
 * timed out) is not asked again for this long: its refusal is unlikely to change sooner.
 */
export const RETRY_OUTBOUND_MS = 30_000
/**
 * Longest stall sending one pause/resume frame to a peer's availability stream: one byte-sized
 * frame, so a peer that does not take it within 10 s is stuck (the frame is then dropped; a pause
 * is asked again when its next summary arrives, a resume at the next review).
 */
export const AVAILABILITY_CONTROL_STALL_MS = 10_000
/**
 * Least time between two full summaries sent to one peer because it asked to resume: a peer that
 * toggles pause and resume gets at most one summary per interval.
 */
export const MIN_RESUMED_SUMMARY_INTERVAL_MS = 5_000

/** Pieces of a parallel fetch: at least this big… */
export const MIN_PIECE_BYTES = 4 * 1024 * 1024
/** …and at most this big. */
export const MAX_PIECE_BYTES = 16 * 1024 * 1024
/** At most this many peers serve one parallel fetch. */
export const MAX_PARALLEL_SOURCES = 4

/** Concurrent blob fetches per `peercas sync`. */
export const SYNC_CONCURRENCY = 4
/** Small blobs are batched into one fetch request up to this many bytes during sync. */
export const SYNC_BATCH_BYTES = 4 * 1024 * 1024

/**
 * Entries one sync run takes on (of each kind, only those we lack): bounds its memory whatever
 * the peer lists. What is left is pulled by running sync again (present entries are skipped).
 */
export const MAX_SYNC_PENDING = 500_000

/**
 * How often a node reconsiders the senders it paused (their summaries were not kept): one that
 * became cheaper than the most expensive kept peer, or any while there is room, is asked to send again.
 */
export const PAUSED_SENDER_REVIEW_MS = 30_000
