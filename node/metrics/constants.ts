/** Length of the sliding window of `peercas status`'s "last hour" hit ratio. */
export const HIT_WINDOW_MS = 60 * 60 * 1000

/** How often the lookup counters are sampled for the window (its resolution). */
export const HIT_SAMPLE_INTERVAL_MS = 60 * 1000

/** Histogram buckets (seconds) of gRPC call durations: a FindMissingBlobs to a large download. */
export const RPC_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120]

/** Histogram buckets (seconds) of tier fetches: a small blob from a LAN peer to a large one from far away. */
export const FETCH_SECONDS_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 120]

/** How often the dashboard page polls the node. */
export const DASHBOARD_POLL_MS = 2000

/** One scrape reads the node's status once: gauges collected within this time share it. */
export const SNAPSHOT_REUSE_MS = 250

/** How often the dashboard's server-side history is sampled. */
export const HISTORY_INTERVAL_MS = 5000

/** How far back the dashboard's history (and its charts) reach. */
export const HISTORY_WINDOW_MS = 10 * 60 * 1000
