import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { Digest } from '../store/digest.js'
import type { BlobReader } from '../store/index.js'
import { MAX_MAP_PIECES, MAX_SWARM_PEERS, MAX_SWARM_PIECE_BYTES, MIN_SWARM_PIECE_BYTES, PIECE_MAP_CACHE_ENTRIES, SWARM_MEMBER_TTL_MS, SWARM_TARGET_PIECES } from './constants.js'

/** The piece size a holder uses for a blob of `sizeBytes`: about {@link SWARM_TARGET_PIECES} pieces, whole MiB. */
export function pieceBytesFor (sizeBytes: number): number {
  const mib = 1024 * 1024
  const target = Math.ceil(sizeBytes / SWARM_TARGET_PIECES / mib) * mib
  return Math.min(MAX_SWARM_PIECE_BYTES, Math.max(MIN_SWARM_PIECE_BYTES, target, Math.ceil(sizeBytes / MAX_MAP_PIECES / mib) * mib))
}

/** Number of pieces of a blob. */
export function pieceCount (sizeBytes: number, pieceBytes: number): number {
  return Math.max(1, Math.ceil(sizeBytes / pieceBytes))
}

/** A set of piece indices as the bitfield of PieceMap.have. */
export class Bitfield {
  readonly bytes: Uint8Array
  private count = 0
  constructor (readonly size: number, bytes?: Uint8Array) {
    this.bytes = new Uint8Array(Math.ceil(size / 8))
    if (bytes !== undefined) {
      for (let i = 0; i < size; i++) if (((bytes[i >> 3] ?? 0) & (1 << (i & 7))) !== 0) this.set(i)
    }
  }

  /** A bitfield with every piece set. */
  static full (size: number): Bitfield {
    const b = new Bitfield(size)
    for (let i = 0; i < size; i++) b.set(i)
    return b
  }

  get setCount (): number { return this.count }
  get complete (): boolean { return this.count === this.size }
  has (i: number): boolean { return i >= 0 && i < this.size && (this.bytes[i >> 3]! & (1 << (i & 7))) !== 0 }
  set (i: number): void {
    if (i < 0 || i >= this.size || this.has(i)) return
    this.bytes[i >> 3]! |= 1 << (i & 7)
    this.count++
  }
}

/**
 * A large blob this node is fetching from a swarm: a private temp file written piece by piece,
 * with the pieces verified so far. Only verified pieces are ever served to others.
 */
export class PartialBlob {
  readonly have: Bitfield
  private readonly listeners = new Set<(piece: number | 'complete' | 'closed') => void>()
  private closed = false

  constructor (
    readonly digest: Digest,
    readonly pieceBytes: number,
    /** SHA-256 of each piece, from the piece map. */
    readonly hashes: readonly Uint8Array[],
    readonly path: string,
    private readonly file: FileHandle
  ) {
    this.have = new Bitfield(hashes.length)
  }

  get pieces (): number { return this.hashes.length }

  /** Offset and length of piece `i`. */
  range (i: number): { offset: number, length: number } {
    const offset = i * this.pieceBytes
    return { offset, length: Math.min(this.pieceBytes, this.digest.sizeBytes - offset) }
  }

  /** True when `data` is piece `i` as the piece map says. */
  verifies (i: number, data: Uint8Array): boolean {
    const expected = this.hashes[i]
    return expected !== undefined && data.byteLength === this.range(i).length && createHash('sha256').update(data).digest().equals(expected)
  }

  /**
   * Writes piece `i` and marks it held (and tells subscribers) if `data` {@link verifies}; false,
   * writing nothing, if it does not (its source lied). Each piece is hashed once, here.
   */
  async put (i: number, data: Uint8Array): Promise<boolean> {
    if (!this.verifies(i, data)) return false
    if (this.closed || this.have.has(i)) return true
    await this.file.write(data, 0, data.byteLength, this.range(i).offset)
    if (this.closed) return true
    this.have.set(i)
    this.emit(i)
    if (this.have.complete) this.emit('complete')
    return true
  }

  /** A stream over [offset, offset+length) if every piece it touches is verified here, else undefined. */
  async openRange (offset: number, length: number): Promise<Readable | undefined> {
    if (this.closed || length === 0) return undefined
    const first = Math.floor(offset / this.pieceBytes)
    const last = Math.floor((offset + length - 1) / this.pieceBytes)
    for (let i = first; i <= last; i++) if (!this.have.has(i)) return undefined
    // Its own descriptor: the temp file may be removed while the range is sent (Linux keeps it).
    const handle = await open(this.path, 'r')
    return handle.createReadStream({ start: offset, end: offset + length - 1, autoClose: true })
  }

  /** Calls `listener` for every piece verified from now on, then 'complete' or 'closed'. */
  subscribe (listener: (piece: number | 'complete' | 'closed') => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Closes and removes the temp file; subscribers are told. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.emit('closed')
    this.listeners.clear()
    await this.file.close().catch(() => {})
    await rm(this.path, { force: true })
  }

  private emit (event: number | 'complete' | 'closed'): void {
    for (const listener of [...this.listeners]) listener(event)
  }
}

/** A computed piece map of a blob held whole. */
export interface PieceMapInfo {
  pieceBytes: number
  hashes: Uint8Array[]
}

/**
 * This node's swarm state: the blobs it is fetching piece by piece ({@link PartialBlob}s, whose
 * verified pieces it serves), piece maps of blobs it holds (computed on demand, a few kept), and,
 * as a tracker, which peers asked it about which blob recently.
 */
export class SwarmRegistry {
  private readonly partials = new Map<string, PartialBlob>()
  private readonly maps = new Map<string, Promise<PieceMapInfo | undefined>>()
  private readonly members = new Map<string, Map<string, number>>()
  private readonly joinListeners = new Set<(hash: string, peer: string) => void>()

  constructor (private readonly init: { store: BlobReader, tempDir: string }) {}

  /** Removes temp files a previous run left. */
  async start (): Promise<void> {
    await rm(this.init.tempDir, { recursive: true, force: true })
    await mkdir(this.init.tempDir, { recursive: true, mode: 0o700 })
  }

  /** The blob being fetched as `digest`, if any. */
  partial (hash: string): PartialBlob | undefined { return this.partials.get(hash) }

  /** Starts a partial blob (one per digest; the read path coalesces fetches of one digest). */
  async createPartial (digest: Digest, pieceBytes: number, hashes: Uint8Array[]): Promise<PartialBlob> {
    if (this.partials.has(digest.hash)) throw new Error(`blob ${digest.hash} is already being fetched from a swarm`)
    const path = join(this.init.tempDir, `${digest.hash}-${randomBytes(4).toString('hex')}`)
    const file = await open(path, 'w+', 0o600)
    const partial = new PartialBlob(digest, pieceBytes, hashes, path, file)
    this.partials.set(digest.hash, partial)
    return partial
  }

  /** Ends a partial blob (done or failed) and removes its temp file. */
  async closePartial (partial: PartialBlob): Promise<void> {
    if (this.partials.get(partial.digest.hash) === partial) this.partials.delete(partial.digest.hash)
    await partial.close()
  }

  /** A range of a blob still being fetched, if every piece of it is verified; for the fetch server. */
  async openPartialRange (digest: Digest, offset: number, length: number): Promise<Readable | undefined> {
    return await this.partials.get(digest.hash)?.openRange(offset, length)
  }

  /**
   * The piece map of a blob held whole: every piece's SHA-256, computed once from the store
   * (and kept for the next asker); `undefined` if the blob is not held.
   */
  async pieceMap (digest: Digest): Promise<PieceMapInfo | undefined> {
    let entry = this.maps.get(digest.hash)
    if (entry === undefined) {
      entry = this.computeMap(digest)
      this.maps.set(digest.hash, entry)
      while (this.maps.size > PIECE_MAP_CACHE_ENTRIES) this.maps.delete(this.maps.keys().next().value!)
      entry.then((map) => { if (map === undefined) this.maps.delete(digest.hash) }, () => { this.maps.delete(digest.hash) })
    }
    return await entry
  }

  private async computeMap (digest: Digest): Promise<PieceMapInfo | undefined> {
    const stream = await this.init.store.openReadStream(digest)
    if (stream === undefined) return undefined
    const pieceBytes = pieceBytesFor(digest.sizeBytes)
    const hashes: Uint8Array[] = []
    let hash = createHash('sha256')
    let inPiece = 0
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        let at = 0
        while (at < data.byteLength) {
          const take = Math.min(pieceBytes - inPiece, data.byteLength - at)
          hash.update(data.subarray(at, at + take))
          inPiece += take
          at += take
          if (inPiece === pieceBytes) { hashes.push(hash.digest()); hash = createHash('sha256'); inPiece = 0 }
        }
      }
    } finally {
      stream.destroy()
    }
    if (inPiece > 0 || hashes.length === 0) hashes.push(hash.digest())
    return { pieceBytes, hashes }
  }

  /** Tracker: `peer` asked about `hash`; returns the other peers that did recently (newest first). */
  noteMember (hash: string, peer: string): string[] {
    const now = Date.now()
    let peers = this.members.get(hash)
    if (peers === undefined) { peers = new Map(); this.members.set(hash, peers) }
    const isNew = !peers.has(peer)
    peers.delete(peer)
    peers.set(peer, now)
    for (const [p, seen] of peers) if (now - seen > SWARM_MEMBER_TTL_MS) peers.delete(p)
    // Bounded: a node tracks at most this many blobs' swarms (oldest dropped).
    while (this.members.size > 256) this.members.delete(this.members.keys().next().value!)
    if (isNew) for (const listener of this.joinListeners) listener(hash, peer)
    return [...peers.keys()].filter((p) => p !== peer).reverse().slice(0, MAX_SWARM_PEERS)
  }

  /** Calls `listener` when a peer not seen before asks about a blob (a swarm member to try). */
  onJoin (listener: (hash: string, peer: string) => void): () => void {
    this.joinListeners.add(listener)
    return () => { this.joinListeners.delete(listener) }
  }

  /** Closes every partial blob (at shutdown). */
  async close (): Promise<void> {
    for (const partial of [...this.partials.values()]) await this.closePartial(partial)
  }
}
