/**
 * `kaiwa send-file NAME PATH`: asks the running node to send a file, then
 * follows the transfer through the control API, showing progress on stderr.
 * Exit 0 once NAME's node has verified the whole file, or once the file is
 * kept for later (queued until both are online or a direct path opens,
 * sealed into NAME's mailbox, or waiting for NAME to accept), saying which on
 * stdout; exit 1 when it is refused or fails, with the reason.
 */
import { resolve } from 'node:path'
import type { FileTransferJson, KaiwaApi } from '../../shared/api/contract.js'

const POLL_MS = 250
/** Statuses after which the node carries on without this command. */
const LATER = new Set(['queued', 'mailed', 'awaiting'])
const FAILED = new Set(['declined', 'failed', 'cancelled'])

export async function sendFile(
  api: KaiwaApi,
  to: string,
  path: string,
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  let t: FileTransferJson = (await api.sendFile({ to, path: resolve(path) })).transfer
  const tty = (out.stderr as { isTTY?: boolean }).isTTY === true
  let shown = ''
  for (;;) {
    const line = progressLine(t)
    if (line !== shown) {
      out.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`)
      shown = line
    }
    if (t.status === 'complete') {
      if (tty) out.stderr.write('\n')
      out.stdout.write(`delivered ${t.name} to ${t.peer} (${t.size} bytes, sha256 ${t.sha256})\n`)
      return 0
    }
    if (LATER.has(t.status)) {
      if (tty) out.stderr.write('\n')
      const what =
        t.status === 'mailed'
          ? 'sent to the mailbox'
          : t.status === 'awaiting'
            ? 'offered'
            : 'queued for delivery'
      out.stdout.write(`${what}: ${t.note ?? t.status} (transfer ${t.id})\n`)
      return 0
    }
    if (FAILED.has(t.status)) {
      if (tty) out.stderr.write('\n')
      out.stderr.write(`kaiwa: ${t.name} was not delivered: ${t.note ?? t.status}\n`)
      return 1
    }
    await new Promise((r) => setTimeout(r, POLL_MS))
    const all = (await api.transfers({})).transfers
    t = all.find((x) => x.id === t.id && x.direction === 'out') ?? t
  }
}

/** `report.pdf → bob: 41 % 20.5/50.0 MiB, 12.3 MiB/s, 3 s left`. */
export function progressLine(t: FileTransferJson): string {
  const MiB = 1024 * 1024
  const pct = t.size === 0 ? 100 : Math.floor((100 * t.bytesDone) / t.size)
  const parts = [
    `${t.name} → ${t.peer}: ${t.status} ${pct} %`,
    `${(t.bytesDone / MiB).toFixed(1)}/${(t.size / MiB).toFixed(1)} MiB`,
  ]
  if (t.rate > 0) parts.push(`${(t.rate / MiB).toFixed(1)} MiB/s`)
  if (t.secondsLeft != null) parts.push(`${t.secondsLeft} s left`)
  return parts.join(', ')
}
