/**
 * How dialogs between a stock phone and the overlay route through the gateway.
 *
 * The overlay routes in-dialog requests by the remote target alone: the router
 * rewrites every Contact leaving this node into a GRUU naming the device and
 * the binding (`sip:bob@kaiwa;gr=…`, overlay-uri.ts). A phone that follows
 * RFC 3261 §12 sends its in-dialog requests (ACK for a 2xx, BYE, re-INVITE,
 * UPDATE, INFO, REFER) to the first hop of the dialog's route set or, with an
 * empty set, to the remote target's host: `kaiwa` in DNS, which goes nowhere.
 *
 * We Record-Route rather than rewrite the Contact into a gateway address: the
 * GRUU must stay the Request-URI, since it is the only thing that tells the
 * far node which device and which binding the request is for, and encoding it
 * into a `sip:127.0.0.1:PORT` Contact would give every phone a different,
 * gateway-specific remote target for the same dialog. With a Record-Route
 * naming the gateway (`;lr`, loose routing, §16.6 step 4) the phone keeps the
 * GRUU as Request-URI and sends the request to us with `Route: <sip:gateway;lr>`,
 * which §16.4 has us pop (stripOwnRoutes).
 *
 * The Record-Route is only ever seen by the phone on this machine; the
 * overlay leg carries none (a loopback address means nothing to another node,
 * and another node's gateway must not become this phone's next hop):
 *
 * - phone is UAS (request from the overlay): the dialog-creating request gets
 *   exactly our Record-Route (§16.6 step 4); the phone copies it into its
 *   101-299 responses (§12.1.1) and we remove it there before the router.
 * - phone is UAC (request to the overlay): the request leaves without one, and
 *   the 101-299 responses to it get ours (§16.7 step 9 lets a proxy rewrite the
 *   Record-Route values it provided; the overlay leg is ours on both ends), so
 *   the phone's route set (§12.1.2, reversed Record-Route) is exactly [gateway].
 *
 * `transport=` matches the phone's flow, so a phone registered over TCP sends
 * its in-dialog requests over TCP as well (§19.1.1).
 */
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { toTag } from '../../../shared/sip/sip-message.js'
import { parseSipUri } from '../../../shared/sip/sip-uri.js'
import { extractUri } from '../local-registrar.js'
import { isLoopbackHost } from './gateway-types.js'
import type { GatewayTransport } from './gateway-types.js'

/** Methods whose 101-299 responses create a dialog (§12.1; RFC 6665 SUBSCRIBE/NOTIFY; RFC 3515 REFER). */
const DIALOG_METHODS = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY'])

/** True for a request outside any dialog whose 2xx would create one (§12.1: no To tag). */
export function createsDialog(req: SipRequest): boolean {
  return DIALOG_METHODS.has(req.method) && toTag(req) == null
}

export class DialogRoutes {
  /** `address`: the gateway's bound `127.0.0.1:PORT` (known only after start). */
  constructor(private readonly address: () => string) {}

  /** Our Record-Route value for a phone on `transport` (§16.6 step 4, `lr` per §19.1.1). */
  recordRoute(transport: GatewayTransport): string {
    return `<sip:${this.address()};transport=${transport.toLowerCase()};lr>`
  }

  /**
   * A request from the overlay for a phone: a copy whose Record-Route is ours
   * alone when it creates a dialog, and none otherwise (Record-Route in an
   * in-dialog request changes nothing, §12.2.1.2, and would leak hops).
   */
  requestToPhone(req: SipRequest, transport: GatewayTransport): SipRequest {
    const headers = req.headers.clone()
    headers.remove('record-route')
    if (createsDialog(req)) headers.add('Record-Route', this.recordRoute(transport))
    return { ...req, headers }
  }

  /**
   * A response from the overlay to the phone's `req`: a dialog-creating
   * 101-299 carries our Record-Route (and only ours); any other drops them.
   */
  responseToPhone(req: SipRequest, res: SipResponse, transport: GatewayTransport): SipResponse {
    const headers = res.headers.clone()
    headers.remove('record-route')
    if (createsDialog(req) && res.status > 100 && res.status < 300)
      headers.add('Record-Route', this.recordRoute(transport))
    return { ...res, headers }
  }

  /** A message from a phone on its way to the router: no local hop may reach the overlay. */
  fromPhone<M extends SipRequest | SipResponse>(msg: M): M {
    msg.headers.remove('record-route')
    return msg
  }

  /**
   * §16.4: Route values at the top that name this gateway (a phone's outbound
   * proxy setting, or the route set our Record-Route gave it) are consumed.
   */
  popOwnRoutes(req: SipRequest, port: number, defaultPort: number): void {
    const routes = req.headers.getAll('route')
    let i = 0
    while (i < routes.length && isOwnUri(extractUri(routes[i]!), port, defaultPort)) i++
    if (i === 0) return
    req.headers.remove('route')
    for (const r of routes.slice(i)) req.headers.add('Route', r)
  }
}

function isOwnUri(uri: string, port: number, defaultPort: number): boolean {
  try {
    const u = parseSipUri(uri)
    return u.kind === 'sip' && isLoopbackHost(u.host) && (u.port ?? defaultPort) === port
  } catch {
    return false
  }
}
