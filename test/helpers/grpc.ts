import { expect } from 'vitest'
import { status } from '@grpc/grpc-js'

/** Awaits a call that must fail, and checks its gRPC status code and message. */
export async function expectRpcError (promise: Promise<unknown>, code: status, message?: RegExp): Promise<void> {
  let error: unknown
  try {
    await promise
  } catch (e) {
    error = e
  }
  expect(error, `expected ${status[code]} but the call succeeded`).toBeDefined()
  const e = error as { code: number, details: string }
  expect(status[e.code], `details: ${e.details}`).toBe(status[code])
  if (message !== undefined) expect(e.details).toMatch(message)
}

/** Reads a server-streaming call to the end. */
export async function collect<T> (stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of stream) out.push(item)
  return out
}
