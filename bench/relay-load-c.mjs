// The data plane of bench/relay-load.mjs in C, compiled on first use with the system's cc.
//
// Why C: every relayed packet costs the load generator one send and one receive, as many
// system calls as it costs the server. A Node generator spends about as much CPU per packet as
// a Node server, so on a 2-core machine it, not the server, runs out of CPU first. This program
// sends each stream's packets with one send(2) on a connected socket, and receives and echoes
// the peer's packets in batches with recvmmsg(2)/sendmmsg(2).
//
// The control plane (Allocate, ChannelBind, credentials) stays in Node: relay-load.mjs sets up
// each stream on its own UDP port, releases the ports, and runs this program on the same ports,
// so each stream keeps its 5-tuple and thus its allocation (RFC 8656 §2.2, §7).
//
// Usage: relay-load <serverPort> <peerPort> <t0 ns> <warm ms> <measure ms> <drain ms> < ports
// Packets and output are those of the Node data plane in relay-load.mjs: one JSON line.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export const SOURCE = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 172
#define PERIOD_NS 20000000LL
#define BUCKETS 20000
#define BUCKET_NS 10000
#define BATCH 64

static uint32_t hist_up[BUCKETS], hist_down[BUCKETS];
static unsigned long long sent_up, recv_up, sent_down, recv_down, send_errors;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static void put64(uint8_t *p, unsigned long long v) {
  for (int i = 7; i >= 0; i--) { p[i] = v & 0xff; v >>= 8; }
}
static unsigned long long get64(const uint8_t *p) {
  unsigned long long v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}
static void record(uint32_t *h, unsigned long long sent, long long now) {
  long long d = now - (long long)sent;
  long long b = d < 0 ? 0 : d / BUCKET_NS;
  h[b >= BUCKETS ? BUCKETS - 1 : b]++;
}
static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}
static int udp_bind(int port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) { perror("socket"); exit(2); }
  if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in a = loopback(port);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    fprintf(stderr, "relay-load: bind %d: %s\n", port, strerror(errno));
    exit(2);
  }
  return fd;
}
static void print_hist(const char *name, const uint32_t *h) {
  printf(",\"%s\":[", name);
  int first = 1;
  for (int i = 0; i < BUCKETS; i++) {
    if (!h[i]) continue;
    printf("%s[%d,%u]", first ? "" : ",", i, h[i]);
    first = 0;
  }
  printf("]");
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: relay-load serverPort peerPort t0ns warmMs measureMs drainMs < ports\n");
    return 2;
  }
  int server_port = atoi(argv[1]), peer_port = atoi(argv[2]);
  long long t0 = atoll(argv[3]);
  long long measure_from = t0 + atoll(argv[4]) * 1000000LL;
  long long end = measure_from + atoll(argv[5]) * 1000000LL;
  long long stop = end + atoll(argv[6]) * 1000000LL;

  int n = 0, cap = 1024, port;
  int *fds = malloc(cap * sizeof(int));
  int ep = epoll_create1(0);
  struct sockaddr_in srv = loopback(server_port);
  struct epoll_event ev = {0};
  while (scanf("%d", &port) == 1) {
    if (n == cap) fds = realloc(fds, (cap *= 2) * sizeof(int));
    int fd = udp_bind(port, 0);
    if (connect(fd, (struct sockaddr *)&srv, sizeof srv) < 0) { perror("connect"); return 2; }
    ev.events = EPOLLIN;
    ev.data.u32 = n;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds[n++] = fd;
  }
  int peer = udp_bind(peer_port, 8 << 20);
  ev.events = EPOLLIN;
  ev.data.u32 = n;
  epoll_ctl(ep, EPOLL_CTL_ADD, peer, &ev);

  uint8_t frame[4 + PAYLOAD];
  memset(frame, 0, sizeof frame);
  frame[0] = 0x40; /* channel 0x4000 */
  frame[2] = PAYLOAD >> 8;
  frame[3] = PAYLOAD & 0xff;
  static uint8_t bufs[BATCH][2048];
  static struct mmsghdr msgs[BATCH];
  static struct iovec iovs[BATCH];
  static struct sockaddr_in from[BATCH];
  uint8_t in[2048];
  struct epoll_event evs[512];
  long k = 0, cycle = 0;
  long long next = t0, max_lag = 0;

  for (;;) {
    long long now = now_ns();
    if (now >= stop) break;
    /* Stream k sends at t0 + cycle * 20 ms + k * 20 ms / n: evenly spread, like real calls. */
    while (n > 0 && next <= now && next < end) {
      if (now - next > max_lag) max_lag = now - next;
      int flag = next >= measure_from;
      frame[4] = k >> 24; frame[5] = k >> 16; frame[6] = k >> 8; frame[7] = k;
      frame[8] = flag;
      put64(frame + 12, now_ns());
      if (send(fds[k], frame, sizeof frame, 0) < 0) send_errors++;
      else if (flag) sent_up++;
      if (++k == n) { k = 0; cycle++; }
      next = t0 + cycle * PERIOD_NS + k * PERIOD_NS / n;
    }
    long long wait = (next < end ? next : now + 1000000LL) - now_ns();
    int timeout = wait <= 0 ? 0 : (int)((wait + 999999) / 1000000);
    int m = epoll_wait(ep, evs, 512, timeout);
    for (int e = 0; e < m; e++) {
      if (evs[e].data.u32 == (uint32_t)n) {
        /* The peer: echo every payload back to the relay address it came from. */
        for (;;) {
          for (int i = 0; i < BATCH; i++) {
            iovs[i].iov_base = bufs[i];
            iovs[i].iov_len = sizeof bufs[i];
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
          }
          int r = recvmmsg(peer, msgs, BATCH, MSG_DONTWAIT, NULL);
          if (r <= 0) break;
          long long t = now_ns();
          for (int i = 0; i < r; i++) {
            uint8_t *b = bufs[i];
            iovs[i].iov_len = msgs[i].msg_len;
            if (msgs[i].msg_len < 16) continue;
            if (b[4] == 1) {
              recv_up++;
              record(hist_up, get64(b + 8), t);
            }
            put64(b + 8, t);
          }
          int s = sendmmsg(peer, msgs, r, 0);
          if (s < 0) s = 0;
          send_errors += r - s;
          for (int i = 0; i < s; i++) if (msgs[i].msg_len >= 16 && bufs[i][4] == 1) sent_down++;
          if (r < BATCH) break;
        }
      } else {
        /* A client: one datagram per wakeup; epoll is level-triggered and reports the rest. */
        ssize_t len = recv(fds[evs[e].data.u32], in, sizeof in, MSG_DONTWAIT);
        if (len >= 20 && in[0] >= 0x40 && in[0] <= 0x7f && in[8] == 1) {
          recv_down++;
          record(hist_down, get64(in + 12), now_ns());
        }
      }
    }
  }
  printf("{\"sentUp\":%llu,\"recvUp\":%llu,\"sentDown\":%llu,\"recvDown\":%llu,"
         "\"sendErrors\":%llu,\"maxLagMs\":%.3f",
         sent_up, recv_up, sent_down, recv_down, send_errors, max_lag / 1e6);
  print_hist("histUp", hist_up);
  print_hist("histDown", hist_down);
  printf("}\n");
  return 0;
}
`

/**
 * Compile SOURCE once per version into the temp directory; resolves with the binary's path, or
 * undefined (with the reason on stderr) when there is no C compiler.
 */
export async function buildLoadGenerator() {
  const hash = createHash('sha256').update(SOURCE).digest('hex').slice(0, 12)
  const dir = join(tmpdir(), `kaiwa-relay-load-${hash}`)
  const bin = join(dir, 'relay-load')
  if (existsSync(bin)) return bin
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'relay-load.c'), SOURCE)
  try {
    const tmp = `${bin}.${process.pid}`
    await promisify(execFile)(process.env.CC ?? 'cc', ['-O2', '-o', tmp, join(dir, 'relay-load.c')])
    await rename(tmp, bin)
    return bin
  } catch (e) {
    process.stderr.write(`bench:relay: cannot compile the C load generator (${e.message.trim()})\n`)
    return undefined
  }
}
