import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApiServer } from '../../../src/main/api/api-server.js'
import type { ApiServer } from '../../../src/main/api/api-server.js'
import { createStaticUi, uiCsp } from '../../../src/main/api/static-ui.js'
import type { KaiwaApi } from '../../../src/shared/api/contract.js'

let server: ApiServer
let port = 0

function get(path: string, host = `127.0.0.1:${port}`) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      req.end()
    },
  )
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kaiwa-ui-'))
  await mkdir(join(dir, 'assets'))
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Kaiwa</title>')
  await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)')
  await writeFile(join(dir, '..', 'secret.txt'), 'not for the browser')
  const staticHandler = await createStaticUi(dir, () => port)
  server = await startApiServer({
    port: 0,
    token: 'T'.repeat(43),
    api: {} as KaiwaApi,
    staticHandler,
    log: () => {},
  })
  port = server.port
})
afterAll(async () => server.close())

describe('static UI', () => {
  it('serves the bundle without a token, with a strict CSP', async () => {
    const res = await get('/')
    expect(res.status).toBe(200)
    expect(res.body).toContain('<title>Kaiwa</title>')
    expect(res.headers['content-security-policy']).toBe(uiCsp(port))
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'")
    const js = await get('/assets/app.js')
    expect(js.headers['content-type']).toMatch(/javascript/)
  })

  it('never leaves the bundle, and refuses foreign Host headers', async () => {
    expect((await get('/../secret.txt')).status).toBe(404)
    expect((await get('/%2e%2e/secret.txt')).status).toBe(404)
    expect((await get('/', 'evil.example:80')).status).toBe(403)
  })
})
