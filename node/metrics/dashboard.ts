import { DASHBOARD_POLL_MS, HISTORY_WINDOW_MS } from './constants.js'

/**
 * The dashboard: one self-contained HTML page (no external scripts, fonts or styles) that polls
 * `/api/status` and draws hit ratio by tier over time, throughput, peers and the upload queue.
 * The charts start from the node's recent history (`/api/history`) and grow live.
 */
export function dashboardHtml (): string {
  return PAGE.replace('__POLL_MS__', String(DASHBOARD_POLL_MS)).replace('__WINDOW_MS__', String(HISTORY_WINDOW_MS))
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>peercas</title>
<style>
  :root { --local: #2e7d32; --peer: #1565c0; --central: #ef6c00; --miss: #c62828; --fg: #222; --muted: #666; }
  body { font: 14px/1.4 system-ui, sans-serif; color: var(--fg); margin: 1.5em auto; max-width: 1100px; padding: 0 1em; }
  h1 { font-size: 20px; margin: 0 0 .2em; } h2 { font-size: 15px; margin: 1.2em 0 .4em; }
  .muted { color: var(--muted); } .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 2px 8px 2px 0; vertical-align: top; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  svg { width: 100%; height: 160px; background: #fafafa; border: 1px solid #ddd; }
  .key i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
  .offline { color: var(--miss); font-weight: bold; } .online { color: var(--local); }
  code { font-size: 12px; word-break: break-all; }
</style>
</head>
<body>
<h1>peercas <span id="version" class="muted"></span></h1>
<div class="muted">peer <code id="peer-id">–</code> · up <span id="uptime">–</span> · updated <span id="updated">never</span></div>

<div class="grid">
<div>
  <h2>Hit ratio by tier <span class="muted">(last 10 minutes)</span></h2>
  <svg id="ratio-chart" viewBox="0 0 600 160" preserveAspectRatio="none"></svg>
  <div class="key"><i style="background:var(--local)"></i>local<i style="background:var(--peer)"></i>peer<i style="background:var(--central)"></i>central<i style="background:var(--miss)"></i>miss</div>
</div>
<div>
  <h2>Throughput <span class="muted">(blob lookups/s and MiB/s fetched)</span></h2>
  <svg id="throughput-chart" viewBox="0 0 600 160" preserveAspectRatio="none"></svg>
  <div class="key"><i style="background:#555"></i>lookups/s <span id="lookups-rate">0</span><i style="background:var(--peer)"></i>from peers <span id="peer-rate">0</span> MiB/s<i style="background:var(--central)"></i>from central <span id="central-rate">0</span> MiB/s</div>
</div>
</div>

<div class="grid">
<div>
  <h2>Blob lookups</h2>
  <table>
    <tr><th></th><th>since start</th><th></th><th>last hour</th></tr>
    <tr><td>local</td><td class="n" id="hits-local">–</td><td class="n" id="pct-local"></td><td class="n" id="hour-local">–</td></tr>
    <tr><td>peer</td><td class="n" id="hits-peer">–</td><td class="n" id="pct-peer"></td><td class="n" id="hour-peer">–</td></tr>
    <tr><td>central</td><td class="n" id="hits-central">–</td><td class="n" id="pct-central"></td><td class="n" id="hour-central">–</td></tr>
    <tr><td>miss</td><td class="n" id="hits-miss">–</td><td class="n" id="pct-miss"></td><td class="n" id="hour-miss">–</td></tr>
  </table>
  <h2>Store</h2>
  <table>
    <tr><td>used</td><td class="n" id="store-used">–</td></tr>
    <tr><td>quota</td><td class="n" id="store-quota">–</td></tr>
    <tr><td>blobs</td><td class="n" id="store-blobs">–</td></tr>
    <tr><td>fetched from peers</td><td class="n" id="bytes-peer">–</td></tr>
    <tr><td>fetched from central</td><td class="n" id="bytes-central">–</td></tr>
  </table>
</div>
<div>
  <h2>Central CAS</h2>
  <table>
    <tr><td>state</td><td id="central-state">–</td></tr>
    <tr><td>upload queue</td><td class="n" id="queue-length">–</td></tr>
    <tr><td>queued bytes</td><td class="n" id="queue-bytes">–</td></tr>
  </table>
  <h2>Peers <span class="muted">(<span id="peers-connected">0</span> connected)</span></h2>
  <table id="peers"></table>
  <h2>Listening on</h2>
  <div id="addresses" class="muted"></div>
</div>
</div>

<script>
'use strict'
const POLL = __POLL_MS__
const WINDOW = __WINDOW_MS__
const TIERS = [['localHits', 'local'], ['peerHits', 'peer'], ['remoteHits', 'central'], ['misses', 'miss']]
const history = []
const $ = (id) => document.getElementById(id)
const num = (v) => Number(v ?? 0)
function bytes (n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = num(n); let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i]
}
function duration (s) {
  s = Math.round(num(s))
  const h = Math.floor(s / 3600); const m = Math.floor(s % 3600 / 60)
  return h > 0 ? h + ' h ' + m + ' min' : m > 0 ? m + ' min ' + (s % 60) + ' s' : s + ' s'
}
function text (id, value) { const el = $(id); if (el) el.textContent = String(value) }
function svgEl (name, attrs) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', name)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  return el
}

/** x (0..600) of a time in the window that ends now. */
function xOf (t, now) { return Math.max(0, 600 * (t - (now - WINDOW)) / WINDOW) }

function drawRatio () {
  const svg = $('ratio-chart'); svg.replaceChildren()
  const now = Date.now()
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1]; const b = history[i]
    const deltas = TIERS.map(([k]) => Math.max(0, num(b.hits[k]) - num(a.hits[k])))
    const total = deltas.reduce((x, y) => x + y, 0)
    if (total === 0) continue
    const x = xOf(a.t, now); const w = Math.max(1, xOf(b.t, now) - x)
    let y = 160
    deltas.forEach((d, t) => {
      const h = 160 * d / total
      y -= h
      if (h > 0) svg.appendChild(svgEl('rect', { x, y, width: w, height: h, fill: 'var(--' + TIERS[t][1] + ')' }))
    })
  }
}

function drawThroughput () {
  const svg = $('throughput-chart'); svg.replaceChildren()
  const now = Date.now()
  const rates = []
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1]; const b = history[i]
    const dt = Math.max(0.001, (b.t - a.t) / 1000)
    const lookups = TIERS.reduce((sum, [k]) => sum + Math.max(0, num(b.hits[k]) - num(a.hits[k])), 0) / dt
    rates.push({ x: xOf(b.t, now), lookups, peer: Math.max(0, b.peerBytes - a.peerBytes) / dt / 1048576, central: Math.max(0, b.centralBytes - a.centralBytes) / dt / 1048576 })
  }
  const last = rates[rates.length - 1]
  if (last) { text('lookups-rate', last.lookups.toFixed(1)); text('peer-rate', last.peer.toFixed(2)); text('central-rate', last.central.toFixed(2)) }
  for (const [key, color] of [['lookups', '#555'], ['peer', 'var(--peer)'], ['central', 'var(--central)']]) {
    const max = Math.max(key === 'lookups' ? 1 : 0.01, ...rates.map((r) => r[key]))
    const points = rates.map((r) => r.x.toFixed(1) + ',' + (158 - 150 * r[key] / max).toFixed(1)).join(' ')
    if (rates.length > 1) svg.appendChild(svgEl('polyline', { points, fill: 'none', stroke: color, 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }))
  }
}

function render (s) {
  text('version', s.version); text('peer-id', s.peerId || '(p2p off)'); text('uptime', duration(s.uptimeSeconds))
  text('updated', new Date().toLocaleTimeString())
  const hits = s.hits || {}; const hour = s.hitsLastHour || {}
  const total = TIERS.reduce((sum, [k]) => sum + num(hits[k]), 0)
  for (const [k, name] of TIERS) {
    text('hits-' + name, num(hits[k])); text('hour-' + name, num(hour[k]))
    text('pct-' + name, total > 0 ? (100 * num(hits[k]) / total).toFixed(1) + '%' : '')
  }
  const store = s.store || {}
  text('store-used', bytes(store.totalBytes) + (num(store.quotaBytes) > 0 ? ' (' + (100 * num(store.totalBytes) / num(store.quotaBytes)).toFixed(1) + '%)' : ''))
  text('store-quota', bytes(store.quotaBytes)); text('store-blobs', num(store.blobCount))
  text('bytes-peer', bytes(s.peerBytesFetched)); text('bytes-central', bytes(s.centralBytesFetched))
  const remote = s.remote || {}
  const state = $('central-state')
  if (!remote.configured) { state.textContent = 'none configured'; state.className = 'muted' } else {
    state.textContent = remote.endpoint + ' ' + (remote.online ? 'online' : 'OFFLINE') + (remote.online || !remote.lastError ? '' : ': ' + remote.lastError)
    state.className = remote.online ? 'online' : 'offline'
  }
  text('queue-length', num(remote.queueLength)); text('queue-bytes', bytes(remote.queueBytes))
  const peers = $('peers'); peers.replaceChildren()
  let connected = 0
  const now = Date.now()
  for (const p of s.peers || []) {
    if (p.connected) connected++
    const row = document.createElement('tr')
    const st = num(p.bannedUntilMs) > now ? 'banned ' + duration((num(p.bannedUntilMs) - now) / 1000) : p.connected ? 'connected' : 'disconnected'
    for (const value of [p.peerId.slice(0, 12) + '…' + p.peerId.slice(-6), st, num(p.blobsAdvertised) + ' blobs', bytes(p.bytesFetchedFrom) + ' fetched']) {
      const td = document.createElement('td'); td.textContent = value; row.appendChild(td)
    }
    peers.appendChild(row)
  }
  for (const p of s.staticPeers || []) {
    if (p.connected) continue
    const row = document.createElement('tr')
    for (const value of [p.address, 'dialling', p.lastError || '', '']) {
      const td = document.createElement('td'); td.textContent = value; row.appendChild(td)
    }
    peers.appendChild(row)
  }
  text('peers-connected', connected)
  text('addresses', (s.p2pAddresses || []).concat(s.tcpAddresses || []).join('  ') || '(unix socket only)')
  history.push({ t: Date.now(), hits, peerBytes: num(s.peerBytesFetched), centralBytes: num(s.centralBytesFetched) })
  while (history.length > 2 && history[0].t < Date.now() - WINDOW) history.shift()
  drawRatio(); drawThroughput()
}

async function poll () {
  try {
    const response = await fetch('/api/status', { cache: 'no-store' })
    if (!response.ok) throw new Error('HTTP ' + response.status)
    render(await response.json())
  } catch (error) {
    text('updated', 'failed: ' + error.message)
  }
  setTimeout(poll, POLL)
}
// The charts start from the node's recent history, then grow with every poll.
fetch('/api/history', { cache: 'no-store' })
  .then((response) => response.ok ? response.json() : [])
  .then((points) => { for (const p of points) history.push(p) }, () => {})
  .finally(poll)
</script>
</body>
</html>
`
