#!/usr/bin/python3
"""Per-call cost client for bench/cases/rpc.ts: a C-core gRPC client (Debian python3-grpcio).

Reads one JSON object on stdin (targets and the digests the case stored), drives each hot RPC
sequentially against every target, interleaving targets round by round, then runs 16 threads of
mixed calls per target. Prints one JSON object on stdout. No generated stubs: requests are
protobuf bytes built here by hand, responses are taken as raw bytes.
"""
import hashlib
import json
import os
import sys
import threading
import time
import uuid

import grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def digest(d):
    return field_bytes(1, d['hash'].encode()) + field_varint(2, d['sizeBytes'])


REAPI = '/build.bazel.remote.execution.v2.'


class Calls:
    """One channel to one target and a callable per RPC name."""

    def __init__(self, target, spec):
        self.channel = grpc.insecure_channel(target, options=[
            ('grpc.max_receive_message_length', 64 << 20), ('grpc.max_send_message_length', 64 << 20)])
        grpc.channel_ready_future(self.channel).result(timeout=30)
        ch = self.channel
        get_ac = ch.unary_unary(REAPI + 'ActionCache/GetActionResult')
        find = ch.unary_unary(REAPI + 'ContentAddressableStorage/FindMissingBlobs')
        batch_read = ch.unary_unary(REAPI + 'ContentAddressableStorage/BatchReadBlobs')
        caps = ch.unary_unary(REAPI + 'Capabilities/GetCapabilities')
        read = ch.unary_stream('/google.bytestream.ByteStream/Read')
        write = ch.stream_unary('/google.bytestream.ByteStream/Write')
        hit = field_bytes(2, digest(spec['acHit']))
        miss = field_bytes(2, digest(spec['acMiss']))
        find1 = field_bytes(2, digest(spec['blob']))
        find100 = b''.join(field_bytes(2, digest(d)) for d in spec['present100'])
        batch1 = field_bytes(2, digest(spec['blob']))
        read_req = field_bytes(1, ('blobs/%s/%d' % (spec['blob']['hash'], spec['blob']['sizeBytes'])).encode())
        caps_req = b''
        size = spec['blob']['sizeBytes']

        def ac_miss():
            try:
                get_ac(miss)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise

        def do_read():
            n = 0
            for chunk in read(read_req):
                n += len(chunk)
            if n < size:
                raise RuntimeError('short read')

        def do_write():
            data = os.urandom(size)
            name = 'uploads/%s/blobs/%s/%d' % (uuid.uuid4(), hashlib.sha256(data).hexdigest(), size)
            msg = field_bytes(1, name.encode()) + field_varint(3, 1) + field_bytes(10, data)
            write(iter([msg]))

        self.rpcs = {
            'get_action_result_hit': lambda: get_ac(hit),
            'get_action_result_miss': ac_miss,
            'find_missing_1': lambda: find(find1),
            'find_missing_100': lambda: find(find100),
            'batch_read_4k': lambda: batch_read(batch1),
            'read_4k': do_read,
            'write_4k': do_write,
            'get_capabilities': lambda: caps(caps_req),
        }

    def close(self):
        self.channel.close()


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def main():
    spec = json.load(sys.stdin)
    targets = {name: Calls(t, spec) for name, t in spec['targets'].items()}
    names = list(next(iter(targets.values())).rpcs)
    rounds, per_round = spec['rounds'], spec['callsPerRound']
    # Warm up every path (JIT on the server, LevelDB's block cache, channel state).
    for calls in targets.values():
        for name in names:
            for _ in range(spec.get('warmup', 50)):
                calls.rpcs[name]()
    medians = {t: {n: [] for n in names} for t in targets}
    for r in range(rounds):
        order = list(targets) if r % 2 == 0 else list(reversed(list(targets)))
        for name in names:
            for t in order:
                fn = targets[t].rpcs[name]
                times = []
                for _ in range(per_round):
                    start = time.perf_counter_ns()
                    fn()
                    times.append((time.perf_counter_ns() - start) / 1000)
                medians[t][name].append(median(times))
    # Concurrency: `threads` threads, each alternating GetActionResult (hit) and a 4 KiB Read.
    threads, seconds = spec['threads'], spec['concurrencySeconds']
    rates = {t: [] for t in targets}
    for r in range(spec['concurrencyRounds']):
        order = list(targets) if r % 2 == 0 else list(reversed(list(targets)))
        for t in order:
            rpcs = targets[t].rpcs
            counts = [0] * threads
            stop = threading.Event()

            def loop(i):
                while not stop.is_set():
                    rpcs['get_action_result_hit']()
                    rpcs['read_4k']()
                    counts[i] += 2

            workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
            start = time.perf_counter()
            for w in workers:
                w.start()
            time.sleep(seconds)
            stop.set()
            for w in workers:
                w.join()
            rates[t].append(sum(counts) / (time.perf_counter() - start))
    for calls in targets.values():
        calls.close()
    json.dump({'medians': medians, 'rates': rates}, sys.stdout)


if __name__ == '__main__':
    main()
