#!/usr/bin/env python3
"""ICMP echo (RFC 792) from the namespace it runs in, for measuring the lab's
emulated WAN line where iputils ping is not installed: `ping -c COUNT -i
INTERVAL -W WAIT ADDR` in spirit. Sends COUNT echo requests INTERVAL seconds
apart, collects replies until WAIT seconds after the last, and prints one
JSON line: {"transmitted": n, "received": n, "rtts": [ms, ...]}.
Needs root (a raw socket), as the lab does.
"""
import argparse
import json
import os
import select
import socket
import struct
import time


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo_request(ident, seq):
    payload = struct.pack('!d', time.monotonic()) + b'kaiwa-natlab' * 4
    header = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    return struct.pack('!BBHHH', 8, 0, checksum(header + payload), ident, seq) + payload


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('-c', '--count', type=int, default=10)
    p.add_argument('-i', '--interval', type=float, default=0.2)
    p.add_argument('-W', '--wait', type=float, default=2.0)
    p.add_argument('addr')
    a = p.parse_args()
    if a.count < 1 or a.interval < 0 or a.wait < 0:
        p.error('count must be at least 1, interval and wait non-negative')
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    sent = {}
    rtts = {}
    next_send = time.monotonic()
    seq = 0
    deadline = None
    while True:
        now = time.monotonic()
        if seq < a.count and now >= next_send:
            seq += 1
            sock.sendto(echo_request(ident, seq), (a.addr, 0))
            sent[seq] = now
            next_send += a.interval
            if seq == a.count:
                deadline = now + a.wait
            continue
        if deadline is not None and (now >= deadline or len(rtts) == a.count):
            break
        until = next_send if seq < a.count else deadline
        ready, _, _ = select.select([sock], [], [], max(0.0, until - now))
        if not ready:
            continue
        packet = sock.recv(65536)
        ihl = (packet[0] & 0x0F) * 4
        kind, _, _, rid, rseq = struct.unpack('!BBHHH', packet[ihl:ihl + 8])
        if kind == 0 and rid == ident and rseq in sent and rseq not in rtts:
            rtts[rseq] = (time.monotonic() - sent[rseq]) * 1000.0
    print(json.dumps({'transmitted': seq, 'received': len(rtts), 'rtts': [rtts[k] for k in sorted(rtts)]}))


if __name__ == '__main__':
    main()
