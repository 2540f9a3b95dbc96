#!/usr/bin/env python3
"""A userspace WAN line for the NAT lab: per-direction one-way delay, jitter
and random loss, for kernels without netem (test/natlab/link-emulator.ts).

It opens two TUN devices (one per direction) in the namespace it runs in.
Policy routing (set up by link-emulator.ts) sends each direction's packets
into its TUN; this helper reads them, drops some, holds the rest for their
delay and writes them back into the same TUN, where the kernel receives them
as arriving on that device and routes them on (a rule sends `iif <tun>`
traffic to the main table, so nothing loops).

Delay per packet is `delay + uniform(-jitter, +jitter)` (at least 0), and a
direction never reorders: a packet leaves no earlier than the one before it,
as on a real serial line (netem, by contrast, reorders under jitter).

Protocol on stdin/stdout, one line each: it prints `ready` once both TUNs
exist; `stats` on stdin prints a JSON line of per-direction counters; EOF on
stdin (the parent died) or SIGTERM ends it, and the TUNs vanish with it.
"""
import argparse
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Direction:
    def __init__(self, name, delay, jitter, loss, seed):
        self.name = name
        self.fd = open_tun(name)
        self.delay = delay / 1000.0
        self.jitter = jitter / 1000.0
        self.loss = loss / 100.0
        self.rng = random.Random(seed)
        self.last = 0.0
        self.received = 0
        self.dropped = 0
        self.sent = 0

    def admit(self, packet, now, queue, seq):
        self.received += 1
        if self.loss > 0 and self.rng.random() < self.loss:
            self.dropped += 1
            return
        d = self.delay
        if self.jitter > 0:
            d += self.rng.uniform(-self.jitter, self.jitter)
        at = max(now + max(d, 0.0), self.last)
        self.last = at
        heapq.heappush(queue, (at, seq, self, packet))

    def counters(self):
        return {'received': self.received, 'dropped': self.dropped, 'sent': self.sent}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for d in ('up', 'down'):
        p.add_argument(f'--{d}', required=True, help=f'TUN name for the {d} direction')
        p.add_argument(f'--{d}-delay', type=float, default=0.0, help='one-way delay, ms')
        p.add_argument(f'--{d}-jitter', type=float, default=0.0, help='+/- ms, uniform')
        p.add_argument(f'--{d}-loss', type=float, default=0.0, help='random loss, percent')
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    up = Direction(a.up, a.up_delay, a.up_jitter, a.up_loss, a.seed)
    down = Direction(a.down, a.down_delay, a.down_jitter, a.down_loss, a.seed + 1)
    by_fd = {up.fd: up, down.fd: down}
    stdin = sys.stdin.fileno()
    print('ready', flush=True)
    queue = []
    seq = 0
    pending = b''
    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, d, packet = heapq.heappop(queue)
            try:
                os.write(d.fd, packet)
                d.sent += 1
            except OSError:
                d.dropped += 1  # the device is down or gone: the packet is lost
        timeout = max(0.0, queue[0][0] - now) if queue else None
        ready, _, _ = select.select([up.fd, down.fd, stdin], [], [], timeout)
        now = time.monotonic()
        for fd in ready:
            if fd == stdin:
                # Unbuffered: a buffered readline could hide a second command from select.
                chunk = os.read(stdin, 4096)
                if chunk == b'':
                    return
                pending += chunk
                while b'\n' in pending:
                    line, pending = pending.split(b'\n', 1)
                    if line.strip() == b'stats':
                        counters = {'up': up.counters(), 'down': down.counters()}
                        print(json.dumps(counters), flush=True)
                continue
            d = by_fd[fd]
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                seq += 1
                d.admit(packet, now, queue, seq)


if __name__ == '__main__':
    main()
