/**
 * Offline delivery for SIP MESSAGE (RFC 3428), the mailbox's client side.
 * When none of the recipient's devices can be reached, the sender's node seals
 * the message to the recipient's account key, signs it with its own account
 * key, and stores it with the DHT servers closest to the recipient's mailbox
 * key (several, so one leaving loses nothing). On the recipient's next
 * registration its node collects (page by page, deleting nothing), verifies,
 * delivers, and then deletes what it delivered: mail for another device of
 * the account (account sync) stays for that device.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import type { Logger } from '../../shared/logger.js'
import { openVerifiedMail, sealMail } from '../../shared/mail/sealed-mail.js'
import type { MailEnvelope, MailPlaintext } from '../../shared/mail/sealed-mail.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import {
  MailboxPagingUnsupportedError,
  deleteMail,
  fetchMail,
  mailboxKey,
  storeMail,
} from './mailbox-protocol.js'
import type { FetchResult } from './mailbox-protocol.js'
import type { MailboxStore } from './mailbox-store.js'

/** How many supernodes keep a copy of each mail. */
export const MAIL_REPLICAS = 3
/** Most pages read from one supernode per collection (the rest wait for the next one). */
const MAX_PAGES = 40

export interface OfflineMailInit {
  node: () => KaiwaLibp2p
  accountKey: Ed25519PrivateKey
  lookup: (user: string) => Promise<ContactRecord | undefined>
  /** This node's own mailbox store, used when it is itself one of the closest servers. */
  localStore?: () => MailboxStore | undefined
  log: Logger
}

export interface CollectedMail extends MailPlaintext {
  id: string
  /** True when the sender's current contact record carries the key that signed it. */
  senderVerified: boolean
}

export class OfflineMail {
  constructor(private readonly init: OfflineMailInit) {}

  /** Seal and store; resolves true when at least one supernode kept it. */
  async store(recipient: ContactRecord, plaintext: MailPlaintext): Promise<boolean> {
    const env = await sealMail({
      to: recipient.name,
      recipientKey: recipient.publicKey,
      senderPrivateKey: this.init.accountKey,
      plaintext,
    })
    const node = this.init.node()
    const peers = await this.closestServers(recipient.publicKey)
    const results = await Promise.allSettled(
      peers.map(async (p) => {
        const local = p.equals(node.peerId) ? this.init.localStore?.() : undefined
        if (local != null) return local.put(env, plaintext.from)
        // The supernode looks our name up before it stores (up to 6 s).
        return storeMail(node, p, env, {
          from: plaintext.from,
          signal: AbortSignal.timeout(10_000),
        })
      }),
    )
    const stored = results.filter((r) => r.status === 'fulfilled').length
    for (const r of results) {
      if (r.status === 'rejected') this.init.log.debug(`mailbox store failed: ${String(r.reason)}`)
    }
    return stored > 0
  }

  /**
   * Fetch every mail waiting for us, verify and decrypt it. Deletion is a
   * separate step (`acknowledge`) taken only after delivery, so a crash between
   * the two delivers twice rather than never.
   */
  async collect(): Promise<{
    mail: CollectedMail[]
    ack: (keep?: ReadonlySet<string>) => Promise<void>
  }> {
    const node = this.init.node()
    const peers = await this.closestServers(this.init.accountKey.publicKey.raw)
    const byId = new Map<string, MailEnvelope>()
    const holders = new Map<string, Set<PeerId>>()
    await Promise.all(
      peers.map(async (peer) => {
        try {
          if (peer.equals(node.peerId)) {
            const local = this.init.localStore?.()
            for (const env of (await local?.list(this.init.accountKey.publicKey.raw)) ?? []) {
              const id = hex(env.id)
              byId.set(id, env)
              if (!holders.has(id)) holders.set(id, new Set())
              holders.get(id)!.add(peer)
            }
            return
          }
          // Page by page after a cursor, deleting nothing: what is delivered is
          // deleted by `ack`, and mail left for another device stays.
          let after: MailEnvelope | undefined
          for (let page = 0; page < MAX_PAGES; page++) {
            let res: FetchResult
            try {
              res = await fetchMail(node, peer, this.init.accountKey, {
                signal: AbortSignal.timeout(5000),
                ...(after != null ? { after } : {}),
              })
            } catch (err) {
              if (!(err instanceof MailboxPagingUnsupportedError)) throw err
              this.init.log.warn(err.message)
              break
            }
            for (const env of res.envelopes) {
              const id = hex(env.id)
              byId.set(id, env)
              if (!holders.has(id)) holders.set(id, new Set())
              holders.get(id)!.add(peer)
            }
            if (!res.more || res.envelopes.length === 0) break
            after = res.envelopes.at(-1)
          }
        } catch (err) {
          this.init.log.debug(`mailbox fetch from ${peer.toString()} failed: ${String(err)}`)
        }
      }),
    )
    const mail: CollectedMail[] = []
    for (const [id, env] of [...byId].sort((a, b) => a[1].createdAt - b[1].createdAt)) {
      try {
        const plain = await openVerifiedMail(env, this.init.accountKey)
        mail.push({
          ...plain,
          id,
          senderVerified: await this.senderMatches(plain.from, env.senderKey),
        })
      } catch (err) {
        this.init.log.warn(`dropping undecryptable or forged offline mail ${id}: ${String(err)}`)
      }
    }
    // `keep`: mail left for another device of this account (account sync).
    const ack = async (keep?: ReadonlySet<string>): Promise<void> => {
      const perPeer = new Map<string, { peer: PeerId; ids: Uint8Array[] }>()
      for (const [id, set] of holders) {
        if (keep?.has(id) === true) continue
        for (const p of set) {
          const entry = perPeer.get(p.toString()) ?? { peer: p, ids: [] }
          entry.ids.push(byId.get(id)!.id)
          perPeer.set(p.toString(), entry)
        }
      }
      const self = this.init.node().peerId
      await Promise.allSettled(
        [...perPeer.values()].map(async (e) => {
          if (e.peer.equals(self)) {
            await this.init.localStore?.()?.delete(this.init.accountKey.publicKey.raw, e.ids)
            return
          }
          await deleteMail(this.init.node(), e.peer, this.init.accountKey, e.ids)
        }),
      )
    }
    return { mail, ack }
  }

  private async senderMatches(user: string, key: Uint8Array): Promise<boolean> {
    try {
      const rec = await this.init.lookup(user)
      return (
        rec != null &&
        rec.publicKey.length === key.length &&
        rec.publicKey.every((b, i) => b === key[i])
      )
    } catch {
      return false
    }
  }

  /** The DHT servers closest to a mailbox key: where its mail lives. */
  private async closestServers(recipientKey: Uint8Array): Promise<PeerId[]> {
    const node = this.init.node()
    const dht = node.services.dht
    const out: PeerId[] = []
    if (dht.getMode() === 'server') out.push(node.peerId)
    try {
      for await (const ev of dht.getClosestPeers(mailboxKey(recipientKey), {
        signal: AbortSignal.timeout(5000),
      })) {
        if (ev.name === 'FINAL_PEER' && !out.some((p) => p.equals(ev.peer.id))) out.push(ev.peer.id)
      }
    } catch (err) {
      this.init.log.debug(`closest-peer query for a mailbox failed: ${String(err)}`)
    }
    return out.slice(0, MAIL_REPLICAS).map((p) => (typeof p === 'string' ? peerIdFromString(p) : p))
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
