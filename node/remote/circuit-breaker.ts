import { failureKind } from './retry.js'

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerInit {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number
  /** Called when the circuit opens (the central goes offline). */
  onOpen?: (reason: string) => void
  /** Called when the circuit closes again (a probe succeeded). */
  onClose?: () => void
}

/**
 * Tracks whether the central is usable. Failed calls (unreachable, timed out) count up; at the
 * threshold the circuit opens and calls fail fast until a background probe closes it. A refused
 * credential opens it at once: every call would be refused the same way.
 */
export class CircuitBreaker {
  private failures = 0
  private open = true
  private reason = 'not connected yet'

  constructor (private readonly init: CircuitBreakerInit) {}

  /** True while calls may go to the central. */
  get online (): boolean { return !this.open }

  /** Why the circuit is open (or last opened). */
  get lastReason (): string { return this.reason }

  /** Records a successful call. */
  success (): void {
    this.failures = 0
  }

  /** Records a failed call; returns true if this opened the circuit. */
  failure (error: unknown, description: string): boolean {
    const kind = failureKind(error)
    if (kind === 'answer') return false
    this.failures++
    if (this.open) return false
    if (kind === 'auth' || this.failures >= this.init.failureThreshold) {
      this.trip(description)
      return true
    }
    return false
  }

  /** Opens the circuit (e.g. an unusable capability answer). */
  trip (reason: string): void {
    this.reason = reason
    if (this.open) return
    this.open = true
    this.init.onOpen?.(reason)
  }

  /** Closes the circuit after a successful probe. */
  close (): void {
    this.failures = 0
    if (!this.open) return
    this.open = false
    this.init.onClose?.()
  }
}
