// Limits shared by the peer and central-CAS layers: byte rates, concurrency, backoff, cancellable waits.

export { TokenBucket } from './token-bucket.js'
export { Semaphore } from './semaphore.js'
export { sleep, type SleepOptions } from './sleep.js'
export { Backoff, backoffDelay, retry, type BackoffInit, type RetryOptions } from './backoff.js'
export { findBounded, forEachBounded, type BoundedOptions } from './bounded.js'
