// The lab's last line of defence. A lab starts one of these, detached (its own
// process group, so a Ctrl-C or a test runner killing the group spares it),
// and tells it on stdin, one JSON line each, every namespace and temp dir it
// creates. If the lab's process dies without saying {"done":true} (SIGKILL, a
// test runner tearing its worker down, a crash), stdin reaches EOF and the
// reaper kills whatever still runs inside those namespaces (`ip netns pids`:
// only the lab's own processes live there), deletes the namespaces and
// removes the dirs. Plain JavaScript: it must not depend on the lab's code.
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { createInterface } from 'node:readline'

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip'
const namespaces = new Set()
const dirs = new Set()
let done = false

createInterface({ input: process.stdin })
  .on('line', (line) => {
    let m
    try {
      m = JSON.parse(line)
    } catch {
      return
    }
    if (typeof m.ns === 'string') namespaces.add(m.ns)
    if (typeof m.forgetNs === 'string') namespaces.delete(m.forgetNs)
    if (typeof m.dir === 'string') dirs.add(m.dir)
    if (m.done === true) done = true
  })
  .on('close', () => {
    if (!done) reap()
    process.exit(0)
  })

function ip(...args) {
  try {
    return execFileSync(IP, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return ''
  }
}

function reap() {
  for (const ns of namespaces) {
    for (const pid of ip('netns', 'pids', ns).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  // Killed processes leave their namespace asynchronously; deleting the name
  // works regardless (the kernel frees the namespace once they are gone).
  for (const ns of [...namespaces].reverse()) ip('netns', 'del', ns)
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
