// Preloaded into the idle client by bench:idle (`node --import`): on SIGUSR2 it
// writes the process's memory breakdown to KAIWA_PROBE_OUT (and, when the file
// KAIWA_PROBE_OUT.snapshot names a path, a V8 heap snapshot there first).
// Measurement only; never shipped.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import v8 from 'node:v8'

const out = process.env.KAIWA_PROBE_OUT
process.on('SIGUSR2', () => {
  const before = process.memoryUsage()
  const spaces = Object.fromEntries(
    v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]),
  )
  const heap = v8.getHeapStatistics()
  const request = `${out}.snapshot`
  if (existsSync(request)) v8.writeHeapSnapshot(readFileSync(request, 'utf8'))
  const resources = process.getActiveResourcesInfo()
  writeFileSync(out, JSON.stringify({ memory: before, spaces, heap, resources }) + '\n')
})
