/**
 * Drives an agent.mjs process inside a lab namespace: UDP probes for the NAT
 * tests, and HTTP calls to a Kaiwa node's control API (which listens on
 * 127.0.0.1 inside that namespace, out of the test process's reach).
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import type { Lab } from './lab.js'

const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url))

type Reply = Record<string, unknown> & { id: number; error?: string }

export interface Agent {
  ns: string
  call<T = Record<string, unknown>>(op: string, params?: Record<string, unknown>): Promise<T>
  /** Bind a UDP socket named `sock` (on `host`, default 0.0.0.0; `::` for IPv6); its local port. */
  bind(sock: string, port?: number, host?: string): Promise<number>
  /** Ask host:port to echo our source address, as it saw it; null on timeout. */
  ask(sock: string, host: string, port: number, timeoutMs?: number): Promise<string | null>
  send(sock: string, host: string, port: number, text: string): Promise<void>
  /** Wait `waitMs`, then everything `sock` received that was not an echo answer. */
  recv(sock: string, waitMs: number): Promise<Array<{ from: string; text: string }>>
  close(): void
}

export async function startAgent(lab: Lab, ns: string): Promise<Agent> {
  const child: ChildProcess = lab.spawn(ns, process.execPath, [AGENT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const pending = new Map<number, (r: Reply) => void>()
  let nextId = 1
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, () => resolve())
    child.once('exit', (code) =>
      reject(new Error(`agent in ${ns} exited (${code}) before it was ready: ${stderr}`)),
    )
  })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const r = JSON.parse(line) as Reply
    const done = pending.get(r.id)
    pending.delete(r.id)
    done?.(r)
  })
  child.once('exit', () => {
    for (const done of pending.values()) done({ id: -1, error: `agent in ${ns} exited: ${stderr}` })
    pending.clear()
  })
  await ready

  const call = <T>(op: string, params: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++
      pending.set(id, (r) => (r.error != null ? reject(new Error(r.error)) : resolve(r as T)))
      child.stdin!.write(JSON.stringify({ id, op, ...params }) + '\n')
    })

  return {
    ns,
    call,
    bind: async (sock, port = 0, host?: string) =>
      (await call<{ port: number }>('bind', { sock, port, ...(host != null ? { host } : {}) }))
        .port,
    ask: async (sock, host, port, timeoutMs = 1500) => {
      const r = await call<{ seen?: string }>('ask', { sock, host, port, timeoutMs })
      return r.seen ?? null
    },
    send: async (sock, host, port, text) => {
      await call('send', { sock, host, port, text })
    },
    recv: async (sock, waitMs) =>
      (await call<{ msgs: Array<{ from: string; text: string }> }>('recv', { sock, waitMs })).msgs,
    close: () => {
      child.stdin!.end()
    },
  }
}
