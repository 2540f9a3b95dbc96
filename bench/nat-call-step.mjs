// The call step of bench:nat (its default --call-step): the two clients of a
// pairing call each other from the softphone UI, in headless Chromium running
// inside each client's namespace (test/natlab/call-step.ts). Columns: whether
// the call connected with audio both ways, the media path from the selected
// ICE candidate pair, the UI's path indicator (and whether it agrees), the
// setup time (Call → ringing + Answer → audio), the packets the supernode's
// TURN relayed meanwhile, and what the UI's Settings → Network says.
//
// Hooks (test/natlab/pairings.ts PairingHooks): default = after the chat, a
// calls b; afterIdle = after the keepalive idle, b calls a ("call in");
// dispose = close both browsers. `nodeOptions` makes the clients run --ui.
import './nat-ts.mjs'

const C = await import('../test/natlab/call-step.ts')
const { chromiumUnavailableReason } = await import('../test/natlab/phone.ts')

export const unavailable = chromiumUnavailableReason()
export const nodeOptions = { ui: true }

export default async function callStep(ctx) {
  let a, b
  try {
    ;({ a, b } = await C.phonesFor(ctx))
  } catch (err) {
    return { call: `FAIL (browser: ${String(err).split('\n')[0]})` }
  }
  // Settings → Network against the lab: attached to the lab's supernode, and
  // reachability as the lab built it (a client on a site without NAT is public).
  const REACH = {
    Public: 'public',
    'Behind a NAT or firewall': 'private',
    'Not known yet': 'unknown',
  }
  const net = async (phone, where) => {
    try {
      const s = await C.readNetworkStatus(phone.page)
      const site = ctx.spec.sites[where.site]
      const lab = site.nat === 'none' && site.carrier == null ? 'public' : 'private'
      const ui = REACH[s.reachability] ?? s.reachability
      const attached = s.supernodeIds.includes(ctx.supernode.ready.peerId)
      return `${attached ? 'sn ✓' : `sn ✗ (${s.supernodes})`}, ${ui}${ui === lab ? '' : ` (lab: ${lab})`}`
    } catch (err) {
      return `? (${String(err).split('\n')[0]})`
    }
  }
  const uiNet = `${await net(a, ctx.spec.a)} / ${await net(b, ctx.spec.b)}`
  const r = await C.callOnce(ctx, 'a')
  return { ...C.callColumns(r), uiNet, json: JSON.stringify(r) }
}

export async function afterIdle(ctx) {
  const r = await C.callOnce(ctx, 'b')
  return { ...C.callColumns(r, 'idle.'), 'idle.json': JSON.stringify(r) }
}

export function dispose(ctx) {
  return C.closePhones(ctx)
}
