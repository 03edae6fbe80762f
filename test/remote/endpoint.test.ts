import { describe, expect, it } from 'vitest'
import { rm, writeFile, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { authMetadata, createTokenSource, parseEndpoint } from '../../node/remote/endpoint.js'
import { InvalidEndpointError } from '../../node/remote/errors.js'
import { CircuitBreaker } from '../../node/remote/circuit-breaker.js'
import { makeTempDir } from '../helpers/node.js'

describe('central endpoint and credentials', () => {
  it('parses grpc:// and grpcs:// endpoints, IPv6 included', () => {
    expect(parseEndpoint('grpc://cas.example:8980')).toEqual({ url: 'grpc://cas.example:8980', target: 'cas.example:8980', tls: false })
    expect(parseEndpoint('grpcs://[::1]:443')).toMatchObject({ target: '[::1]:443', tls: true })
  })

  it('rejects endpoints that are not grpc(s)://host:port, naming the value', () => {
    for (const bad of ['cas:8980', 'http://cas:8980', 'grpc://cas', 'grpc://cas:0', 'grpc://cas:70000', 'grpc://cas:80/path']) {
      expect(() => parseEndpoint(bad)).toThrow(InvalidEndpointError)
      expect(() => parseEndpoint(bad)).toThrow(bad)
    }
  })

  it('re-reads the token file when it changes', async () => {
    const dir = await makeTempDir()
    try {
      const file = join(dir, 'token')
      await writeFile(file, 'first\n')
      const tokens = createTokenSource(file)
      expect(authMetadata(tokens).get('authorization')).toEqual(['Bearer first'])
      await writeFile(file, 'second-token\n')
      await utimes(file, new Date(), new Date(Date.now() + 5000))
      tokens.invalidate()
      expect(tokens.token()).toBe('second-token')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('sends no authorization header without a token file', () => {
    expect(authMetadata(createTokenSource('')).get('authorization')).toEqual([])
  })

  it('opens the circuit after the threshold of failed calls, at once on refused credentials, and not on answers', () => {
    const opened: string[] = []
    const breaker = new CircuitBreaker({ failureThreshold: 2, onOpen: (r) => opened.push(r) })
    breaker.close()
    breaker.failure({ code: 5 }, 'not found')
    breaker.failure({ code: 14 }, 'unavailable 1')
    expect(breaker.online).toBe(true)
    breaker.failure({ code: 4 }, 'deadline')
    expect(breaker.online).toBe(false)
    breaker.close()
    breaker.failure({ code: 16 }, 'unauthenticated')
    expect(breaker.online).toBe(false)
    expect(opened).toEqual(['deadline', 'unauthenticated'])
  })
})
