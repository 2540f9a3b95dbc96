/**
 * Opt-in Prometheus metrics (`--metrics-port N`): the text exposition format
 * (version 0.0.4) on 127.0.0.1:N/metrics, behind the same bearer token as the
 * control API (Prometheus: `authorization: { credentials_file: DIR/api-token }`).
 * Loopback only, like every local API; an operator who wants remote scraping
 * puts their own authenticated proxy in front.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { bearerToken, tokenMatches } from './local-http.js'

export interface Metric {
  name: string
  help: string
  type: 'gauge' | 'counter'
  value: number
  labels?: Record<string, string>
}

export interface MetricsServer {
  url: string
  close(): Promise<void>
}

const escapeLabel = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

/** Render metrics in the Prometheus text format; HELP/TYPE once per name. */
export function renderMetrics(metrics: Metric[]): string {
  const out: string[] = []
  const seen = new Set<string>()
  for (const m of metrics) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m.name)) throw new Error(`bad metric name ${m.name}`)
    if (!seen.has(m.name)) {
      seen.add(m.name)
      out.push(`# HELP ${m.name} ${m.help.replace(/\n/g, ' ')}`, `# TYPE ${m.name} ${m.type}`)
    }
    const labels = Object.entries(m.labels ?? {})
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',')
    out.push(
      `${m.name}${labels.length > 0 ? `{${labels}}` : ''} ${Number.isFinite(m.value) ? m.value : 0}`,
    )
  }
  return out.join('\n') + '\n'
}

export async function startMetricsServer(opts: {
  port: number
  token: string
  collect: () => Promise<Metric[]>
  log: (msg: string) => void
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (!tokenMatches(bearerToken(req) ?? '', opts.token)) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('missing or wrong bearer token\n')
      return
    }
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n')
      return
    }
    opts
      .collect()
      .then((metrics) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        res.end(renderMetrics(metrics))
      })
      .catch((err: unknown) => {
        opts.log(`metrics failed: ${String(err)}`)
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n')
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
