import { describe, it, expect, afterEach } from 'vitest'
import { readFileSync } from 'node:fs'
import { writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { homedir } from 'node:os'
import { parse } from 'yaml'
import { loadConfig, ConfigError, envNameOf } from '../../node/config/load.js'
import { DEFAULT_CONFIG } from '../../node/config/defaults.js'
import { makeTempDir } from '../helpers/node.js'
import { REPO_ROOT } from '../helpers/process.js'

const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

describe('configuration', () => {
  it('runs with zero configuration: data under XDG_CACHE_HOME, or ~/.cache', () => {
    const c = loadConfig({ env: { XDG_CACHE_HOME: '/var/cache/me' } })
    expect(c.dataDir).toBe('/var/cache/me/peercas')
    expect(c.socket).toBe('/var/cache/me/peercas/cas.sock')
    expect(c.maxSize).toBe(10 * 2 ** 30)
    expect(loadConfig({ env: {} }).dataDir).toBe(join(homedir(), '.cache', 'peercas'))
  })

  it('documents exactly the embedded defaults in config/default.yaml', () => {
    const documented = parse(readFileSync(join(REPO_ROOT, 'config', 'default.yaml'), 'utf8')) as unknown
    expect(documented).toEqual(DEFAULT_CONFIG)
  })

  it('layers file < environment < flags', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const file = join(dir, 'peercas.yaml')
    await writeFile(file, 'maxSize: 1GiB\nlisten: ["127.0.0.1:1111"]\nstore:\n  highWatermark: 0.9\n  lowWatermark: 0.5\n')
    const fromFile = loadConfig({ file, env: {} })
    expect(fromFile).toMatchObject({ maxSize: 2 ** 30, listen: ['127.0.0.1:1111'], store: { highWatermark: 0.9, lowWatermark: 0.5, fsync: false } })
    const fromEnv = loadConfig({ file, env: { PEERCAS_MAX_SIZE: '2GiB', PEERCAS_STORE_FSYNC: 'true', PEERCAS_LISTEN: '127.0.0.1:2,127.0.0.1:3' } })
    expect(fromEnv).toMatchObject({ maxSize: 2 * 2 ** 30, store: { fsync: true, highWatermark: 0.9 }, listen: ['127.0.0.1:2', '127.0.0.1:3'] })
    const fromFlags = loadConfig({ file, env: { PEERCAS_MAX_SIZE: '2GiB' }, flags: { maxSize: '3GiB' } })
    expect(fromFlags.maxSize).toBe(3 * 2 ** 30)
  })

  it('turns origin downloads of the Remote Asset API off by environment or flag, and sizes the cap', () => {
    expect(loadConfig({ env: {} }).assets).toEqual({ originFetch: true, fetchTimeout: 300_000, maxDownloadSize: 4 * 2 ** 30 })
    expect(loadConfig({ env: { PEERCAS_ASSETS_ORIGIN_FETCH: 'false' } }).assets.originFetch).toBe(false)
    expect(loadConfig({ env: {}, flags: { assets: { originFetch: false, maxDownloadSize: '512MiB' } } }).assets).toMatchObject({ originFetch: false, maxDownloadSize: 512 * 2 ** 20 })
    expect(() => loadConfig({ env: { PEERCAS_ASSETS_MAX_DOWNLOAD_SIZE: 'lots' } })).toThrow(/assets\.maxDownloadSize = "lots" \(from environment\)/)
  })

  it('reads the config file path from PEERCAS_CONFIG', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    await writeFile(join(dir, 'c.yaml'), 'maxSize: 5MB\n')
    expect(loadConfig({ env: { PEERCAS_CONFIG: join(dir, 'c.yaml') } }).maxSize).toBe(5_000_000)
  })

  it('names the key, the value and where it came from when a value is bad', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const file = join(dir, 'bad.yaml')
    await writeFile(file, 'store:\n  highWatermark: 1.5\n')
    expect(() => loadConfig({ file, env: {} })).toThrow(/store\.highWatermark = 1\.5 \(from config file .*bad\.yaml\)/)
    expect(() => loadConfig({ env: { PEERCAS_STORE_LOW_WATERMARK: '0.99' } })).toThrow(/store\.lowWatermark = 0\.99 \(from environment\): must be below store\.highWatermark/)
    expect(() => loadConfig({ env: {}, flags: { remote: { upload: 'some' } } })).toThrow(/remote\.upload = "some" \(from command line\)/)
    expect(() => loadConfig({ env: { PEERCAS_STORE_FSYNC: 'maybe' } })).toThrow(/PEERCAS_STORE_FSYNC = "maybe": expected true or false/)
    expect(() => loadConfig({ env: {}, flags: { maxSize: 'huge' } })).toThrow(ConfigError)
  })

  it('rejects unknown keys, naming them', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const file = join(dir, 'typo.yaml')
    await writeFile(file, 'store:\n  inlineTreshold: 4KiB\n')
    expect(() => loadConfig({ file, env: {} })).toThrow(/unknown key store\.inlineTreshold/)
  })

  it('reports unreadable and malformed config files clearly', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    expect(() => loadConfig({ file: join(dir, 'nope.yaml'), env: {} })).toThrow(/cannot read config file/)
    await writeFile(join(dir, 'broken.yaml'), 'store: [unclosed\n')
    expect(() => loadConfig({ file: join(dir, 'broken.yaml'), env: {} })).toThrow(/not valid YAML/)
  })

  it('names environment variables after the key path', () => {
    expect(envNameOf(['store', 'highWatermark'])).toBe('PEERCAS_STORE_HIGH_WATERMARK')
    expect(envNameOf(['p2p', 'maxServeRatePerPeer'])).toBe('PEERCAS_P2P_MAX_SERVE_RATE_PER_PEER')
  })
  it('takes listen entries as HOST:PORT or { address, tokenFile }, and the team key settings from file and env', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const file = join(dir, 'peercas.yaml')
    await writeFile(file, 'listen: ["127.0.0.1:1", { address: "127.0.0.1:2", tokenFile: /etc/t }]\nlistenTokenFile: /etc/all\np2p:\n  psk: /etc/team.psk\n')
    const c = loadConfig({ file, env: {} })
    expect(c.listen).toEqual(['127.0.0.1:1', { address: '127.0.0.1:2', tokenFile: '/etc/t' }])
    expect(c.listenTokenFile).toBe('/etc/all')
    expect(c.p2p).toMatchObject({ psk: '/etc/team.psk', open: false })
    expect(loadConfig({ env: { PEERCAS_P2P_PSK: '/k', PEERCAS_P2P_OPEN: 'true', PEERCAS_LISTEN_TOKEN_FILE: '/t' } })).toMatchObject({ p2p: { psk: '/k', open: true }, listenTokenFile: '/t' })
    expect(() => loadConfig({ env: {}, flags: { listen: [{ address: '127.0.0.1:3', token: 'inline' }] } })).toThrow(/unknown key listen\.0\.token/)
  })

  it('names a value of the wrong type with the type it expected', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const file = join(dir, 'types.yaml')
    await writeFile(file, 'store:\n  fsync: "yes"\n  highWatermark: high\nmaxSize: true\nlisten: 127.0.0.1:8980\n')
    let message = ''
    try { loadConfig({ file, env: {} }) } catch (error) { message = (error as Error).message }
    expect(message).toContain(`store.fsync = "yes" (from config file ${file}): expected a boolean (true or false), got a string`)
    expect(message).toContain('store.highWatermark = "high" (from config file')
    expect(message).toContain('expected a number, got a string')
    expect(message).toContain('maxSize = true (from config file')
    expect(message).toContain('expected a byte size such as 10GiB')
    expect(message).toContain('listen = "127.0.0.1:8980" (from config file')
    expect(message).toContain('expected a list')
    expect(message).not.toContain('Invalid input')
  })

  it('checks a file value even when a flag or the environment overrides it', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const file = join(dir, 'over.yaml')
    await writeFile(file, 'maxSize: lots\nremote:\n  upload: sometimes\n')
    expect(() => loadConfig({ file, env: { PEERCAS_REMOTE_UPLOAD: 'all' }, flags: { maxSize: '1GiB' } }))
      .toThrow(/maxSize = "lots" \(from config file .*over\.yaml\).*remote\.upload = "sometimes" \(from config file/)
    expect(() => loadConfig({ env: { PEERCAS_MAX_SIZE: 'lots' }, flags: { maxSize: '1GiB' } })).toThrow(/maxSize = "lots" \(from environment\)/)
  })

  it('checks peer addresses, listen addresses and trusted peer IDs at load time', () => {
    const id = '12D3KooWLRPJAA5o6Z6Y5CB4b2L2UubePzXWgYRDnfQuxYBR8GUM'
    expect(loadConfig({ env: {}, flags: { p2p: { peers: [`/ip4/10.0.0.5/tcp/4737/p2p/${id}`], listen: ['/ip4/0.0.0.0/tcp/4737'] }, trust: { peers: [id] } } }).p2p.peers).toHaveLength(1)
    expect(() => loadConfig({ env: {}, flags: { p2p: { peers: ['garbage'] } } })).toThrow(/p2p\.peers\.0 = "garbage" \(from command line\): is not a multiaddr/)
    expect(() => loadConfig({ env: {}, flags: { p2p: { peers: ['/ip4/10.0.0.5/tcp/4737'] } } })).toThrow(/has no \/p2p\/PEERID/)
    expect(() => loadConfig({ env: {}, flags: { p2p: { listen: ['0.0.0.0:4737'] } } })).toThrow(/p2p\.listen\.0 = "0\.0\.0\.0:4737" .*is not a multiaddr/)
    expect(() => loadConfig({ env: { PEERCAS_TRUST_PEERS: 'alice' } })).toThrow(/trust\.peers\.0 = "alice" \(from environment\): is not a libp2p peer ID/)
    expect(() => loadConfig({ env: {}, flags: { maxSize: 0 } })).toThrow(/maxSize = 0 \(from command line\): must be more than 0/)
    expect(() => loadConfig({ env: {}, flags: { metrics: { listen: 'localhost' } } })).toThrow(/metrics\.listen = "localhost" .*expected HOST:PORT/)
  })
})
