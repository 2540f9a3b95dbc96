/**
 * What the node's loopback HTTP endpoints share (api-server.ts and its raw
 * routes in file-routes.ts, metrics-server.ts): the bearer token compared in
 * constant time, the Host and Origin checks that stop DNS-rebinding pages in
 * a browser, and JSON answers no browser sniffs or caches.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Hashing first gives timingSafeEqual equal-length inputs without leaking the length. */
export function tokenMatches(candidate: string, token: string): boolean {
  const a = createHash('sha256').update(candidate).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b)
}

/** The token of an `Authorization: Bearer TOKEN` header (RFC 6750 §2.1), if there is one. */
export const bearerToken = (req: IncomingMessage): string | undefined =>
  /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1]

/**
 * The request names this server as a browser on this machine would: Host
 * 127.0.0.1:PORT or localhost:PORT, and no Origin or one of those. Browsers
 * send the Host they resolved; a rebinding attacker's page carries its own name.
 */
export function fromLocalPage(req: IncomingMessage, port: number): boolean {
  const h = req.headers.host?.toLowerCase()
  const o = req.headers.origin
  const host = h === `127.0.0.1:${port}` || h === `localhost:${port}`
  const origin =
    o === undefined || o === `http://127.0.0.1:${port}` || o === `http://localhost:${port}`
  return host && origin
}

/** A JSON answer, unless one has gone out already (e.g. a 413 while a body streamed). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(text)
}

/** The API's error body: `{error: {code, message}}`. */
export const sendError = (res: ServerResponse, status: number, code: string, message: string) =>
  sendJson(res, status, { error: { code, message } })
