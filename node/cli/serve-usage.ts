/** Help text of `peercas serve`. */
export const SERVE_USAGE = `Usage: peercas serve [options]

Runs a cache node: REAPI v2 on a unix socket (and optionally loopback TCP).

Options:
  --data-dir DIR        where blobs and the index live (default $XDG_CACHE_HOME/peercas)
  --socket PATH         unix socket path (default <data-dir>/cas.sock)
  --listen HOST:PORT    also serve on TCP, e.g. 127.0.0.1:8980 (repeatable)
  --listen-token FILE   TCP callers must send authorization: Bearer <the token in FILE>
  --config FILE         YAML config file (see config/default.yaml)
  --max-size SIZE       store quota, e.g. 20GiB (default 10GiB)
  --log-level LEVEL     debug | info | warn | error (default info)
  --log-file FILE       write JSON log lines to FILE instead of stderr
  --metrics HOST:PORT   Prometheus /metrics and a live dashboard at / (e.g. 127.0.0.1:9464)
  -h, --help            this help

Peer-to-peer (libp2p; off unless --psk or --p2p-open):
  --psk FILE              team key (make one with peercas gen-psk FILE): only hosts
                          holding it can connect
  --p2p-open              no team key: any host that reaches the port can read the cache
  --p2p-listen MULTIADDR  listen address, e.g. /ip4/0.0.0.0/tcp/4737 (repeatable); by default
                          any free port, remembered in <data-dir>/p2p-port for the next start
  --peer MULTIADDR        static/bootstrap peer with /p2p/ID (repeatable)
  --trust-peer PEERID     accept named results signed by this peer (repeatable)
  --trust-results MODE    none | listed (default) | team: whose signed results from peers are used
  --revoke-peer PEERID    refuse and remove results signed by this peer (repeatable)
  --environment ID        build environment of the default socket and TCP listeners
  --no-mdns               do not discover peers on the LAN with mDNS
  --no-p2p                no peer-to-peer at all

Central CAS:
  --remote URL            grpc://host:port or grpcs://host:port
  --remote-instance NAME  instance name on the central CAS
  --remote-token-file F   bearer token file (re-read when it changes)
  --remote-ca FILE        CA bundle for grpcs://
  --remote-cert FILE      client certificate for mTLS
  --remote-key FILE       client key for mTLS
  --upload all|ac-only|none  what the write-behind queue uploads (default all)

Remote Asset API (Bazel's remote downloader):
  --no-origin-fetch       never download assets from their URLs; serve only what a tier has
  --max-download-size SIZE  largest asset downloaded from an origin (default 4GiB)
`
