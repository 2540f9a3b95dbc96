/** Fresh STUN/TURN servers for one call, from the node (`iceServers`), within a few seconds. */
import type { KaiwaBridge } from '../../shared/api/bridge.js'

const ICE_FETCH_MS = 3000

export async function fetchIceServers(
  bridge: KaiwaBridge,
  log: (text: string) => void,
  timeoutMs = ICE_FETCH_MS,
): Promise<RTCIceServer[]> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)
    })
    const r = await Promise.race([bridge.call('iceServers', {}), timeout])
    return r.iceServers
      .filter((s) => s.urls.length > 0)
      .map((s) => ({
        urls: s.urls,
        ...(s.username != null ? { username: s.username } : {}),
        ...(s.credential != null ? { credential: s.credential } : {}),
      }))
  } catch (err) {
    // Without STUN/TURN, calls still work where host candidates reach (a LAN, loopback).
    log(`no ICE servers for this call: ${String(err)}`)
    return []
  } finally {
    clearTimeout(timer)
  }
}
