/**
 * Sync events built from, and turned back into, what a device stores
 * (sync-wire.ts): a history entry as a message event and back, the shared
 * settings as a settings event, a record's devices as peer ids.
 */
import type { StoredMessageJson } from '../../shared/api/contract.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { peerIdFromBytes } from '../../shared/records/contact-record.js'
import type { SyncEvent, SyncMessageEvent } from '../../shared/sync/sync-wire.js'

/** The settings every device of an account shares (file acceptance, MiB). */
export interface SharedSettings {
  autoAcceptMiB?: number
  maxMiB?: number
}

export function peersOf(record: ContactRecord | undefined): string[] {
  const out: string[] = []
  for (const d of record?.devices ?? []) {
    try {
      out.push(peerIdFromBytes(d.peerId).toString())
    } catch {
      // not a key-derived peer id: never a device to sync with
    }
  }
  return out
}

export function settingsEvent(s: SharedSettings, at: number): SyncEvent {
  return {
    k: 's',
    ...(s.autoAcceptMiB != null ? { aa: s.autoAcceptMiB } : {}),
    ...(s.maxMiB != null ? { mx: s.maxMiB } : {}),
    at,
  }
}

export function messageEvent(id: string, m: StoredMessageJson): SyncMessageEvent {
  return {
    k: 'm',
    id,
    d: m.direction,
    p: m.peer,
    fr: m.from,
    to: m.to,
    dt: m.date,
    ct: m.contentType,
    tx: m.text.slice(0, 16_384),
    st: m.status,
    cd: m.code,
    ...(m.offline === true ? { of: true } : {}),
    ...(m.verification != null ? { vf: m.verification } : {}),
    ...(m.fingerprint != null ? { fp: m.fingerprint } : {}),
  }
}

export function messageFromEvent(e: SyncMessageEvent): Omit<StoredMessageJson, 'id'> {
  return {
    direction: e.d,
    peer: e.p,
    from: e.fr,
    to: e.to,
    date: e.dt,
    contentType: e.ct,
    text: e.tx,
    status: e.st,
    code: e.cd,
    ...(e.of === true ? { offline: true } : {}),
    ...(e.vf != null ? { verification: e.vf } : {}),
    ...(e.fp != null ? { fingerprint: e.fp } : {}),
  }
}
