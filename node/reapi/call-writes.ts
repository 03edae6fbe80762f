import * as grpc from '@grpc/grpc-js'
import type { EventEmitter } from 'node:events'
import { rpcError, toRpcError, type RpcError } from './errors.js'

/** The parts of a grpc-js server-streaming call that writing with backpressure uses. */
export interface StreamingCall<T> extends EventEmitter {
  /** Set by grpc-js when the client cancels (or the connection drops). */
  readonly cancelled: boolean
  /** Set once the stream is destroyed (grpc-js destroys a cancelled call's stream). */
  readonly destroyed: boolean
  write(message: T): boolean
}

/** The error a call's waits end with when its client has gone. */
export function clientGone (): RpcError {
  // Built without a stack: it would only ever show grpc-js emitting 'cancelled', and capturing it
  // cost ~15 µs per call from clients (C-core) that reset every finished stream with CANCEL.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return rpcError(grpc.status.CANCELLED, 'the client cancelled the call')
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * Writes one message to a server-streaming call and, when the stream is full, waits for
 * `'drain'`. Rejects instead when the call is cancelled, closed or errors before draining:
 * grpc-js destroys a cancelled call's stream, after which `'drain'` never comes. Removes its
 * listeners either way.
 */
export async function writeWithBackpressure<T> (call: StreamingCall<T>, message: T): Promise<void> {
  if (call.cancelled || call.destroyed) throw clientGone()
  if (call.write(message)) return
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown): void => {
      call.off('drain', onDrain)
      call.off('cancelled', onGone)
      call.off('close', onGone)
      call.off('error', onError)
      if (error === undefined) resolve(); else reject(error)
    }
    const onDrain = (): void => { settle() }
    const onGone = (): void => { settle(clientGone()) }
    const onError = (error: unknown): void => { settle(error ?? clientGone()) }
    call.on('drain', onDrain)
    call.on('cancelled', onGone)
    call.on('close', onGone)
    call.on('error', onError)
    // The call may have been cancelled between the write and now (a 'cancelled' emitted
    // synchronously inside write()); its events are then already past.
    if (call.cancelled || call.destroyed) onGone()
  })
}

/** A signal that fires if the client cancels a call, until {@link CallCancellation.release}. */
export interface CallCancellation {
  readonly signal: AbortSignal
  /** Stops watching: the call's work is over, a later cancel (or a client's reset of a finished stream) changes nothing. */
  release(): void
}

/** Watches `call` for a cancel by its client (see {@link CallCancellation}). */
export function watchCancellation (call: Pick<EventEmitter, 'on' | 'off'>): CallCancellation {
  const controller = new AbortController()
  const onCancelled = (): void => { controller.abort(clientGone()) }
  call.on('cancelled', onCancelled)
  return { signal: controller.signal, release: () => { call.off('cancelled', onCancelled) } }
}

/**
 * Runs a unary handler's work and answers the call with its result, or with the status of the
 * error it threw ({@link toRpcError}). `work` gets a signal that fires if the client cancels
 * while it runs; the watch ends with the work, so the reset C-core clients send after every
 * finished stream costs nothing (it used to abort a signal, with an event and an error, per call).
 */
export function answerUnary<R> (call: Pick<EventEmitter, 'on' | 'off'>, callback: grpc.sendUnaryData<R>, work: (signal: AbortSignal) => Promise<R>): void {
  const watch = watchCancellation(call)
  let pending: Promise<R>
  try {
    pending = work(watch.signal)
  } catch (error) {
    watch.release()
    callback(toRpcError(error))
    return
  }
  pending.then((result) => { watch.release(); callback(null, result) }, (error: unknown) => { watch.release(); callback(toRpcError(error)) })
}
