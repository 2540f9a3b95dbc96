/**
 * The address book: contacts with pinned keys (trust on first use, or the
 * fingerprint from a `kaiwa:` link), presence from the freshness of their
 * contact records, and the loud key-changed state the node reports.
 * Presence is polled: records are refreshed on the overlay every few minutes,
 * so a faster poll would show nothing new.
 */
import { isInviteLink } from '../../shared/invite/invite-link.js'
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import type { ContactJson } from '../../shared/api/contract.js'
import { toApiError } from '../bridge/api-error.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'
import { t } from '../i18n/t.js'
import { parseKaiwaLink } from './kaiwa-link.js'

export interface ContactsState {
  contacts: ContactJson[]
  loaded: boolean
  error: string | undefined
  /** A `kaiwa:` link the app was opened with, waiting for the user to add it (or not). */
  offered: string | undefined
}

export interface ContactsController {
  store: Store<ContactsState>
  refresh(): Promise<void>
  /** Add from a user ID or a `kaiwa:` link; resolves to an error to show, or undefined. */
  add(input: string): Promise<string | undefined>
  remove(name: string): Promise<string | undefined>
  trust(name: string): Promise<string | undefined>
  /** Offer to add the contact a `kaiwa:` link names (the user confirms). */
  offer(link: string): void
  clearOffer(): void
  /** Poll presence every `everyMs`; returns a stop function. */
  watch(everyMs?: number): () => void
}

export function createContactsController(bridge: KaiwaBridge): ContactsController {
  const store = createStore<ContactsState>({
    contacts: [],
    loaded: false,
    error: undefined,
    offered: undefined,
  })
  const sorted = (list: ContactJson[]): ContactJson[] =>
    [...list].sort((a, b) => a.name.localeCompare(b.name))

  async function refresh(): Promise<void> {
    try {
      const { contacts } = await bridge.call('contacts', {})
      store.patch({ contacts: sorted(contacts), loaded: true, error: undefined })
    } catch (err) {
      store.patch({
        loaded: true,
        error: t('contacts.unavailable', { reason: toApiError(err).message }),
      })
    }
  }

  const upsert = (c: ContactJson): void =>
    store.set((s) => ({
      ...s,
      contacts: sorted([...s.contacts.filter((x) => x.name !== c.name), c]),
    }))

  async function joinFromInvite(link: string): Promise<string | undefined> {
    try {
      await bridge.call('joinInvite', { link: link.trim() })
      await refresh()
      return undefined
    } catch (err) {
      return t('join.failed', { reason: toApiError(err).message })
    }
  }

  return {
    store,
    refresh,
    async add(input) {
      // An invite also joins the inviter's network (and pins the inviter).
      if (isInviteLink(input)) return joinFromInvite(input)
      const parsed = parseKaiwaLink(input)
      if (!parsed.ok) {
        return parsed.error === 'user_id'
          ? t('contacts.invalidUserId', { input: input.trim() })
          : t('contacts.invalidFingerprint')
      }
      const { name, fingerprint } = parsed.link
      try {
        const { contact } = await bridge.call('contactAdd', {
          name,
          ...(fingerprint ? { fingerprint } : {}),
        })
        upsert(contact)
        return undefined
      } catch (err) {
        const e = toApiError(err)
        switch (e.code) {
          case 'not_found':
            return t('contacts.notFound', { name })
          case 'key_changed':
            return t('contacts.fingerprintMismatch', { name })
          case 'conflict':
            // The overlay's nodes disagree on the key: the message lists both fingerprints.
            return e.message
          case 'no_peers':
            return t('contacts.noPeers')
          default:
            return t('contacts.addFailed', { name, reason: e.message })
        }
      }
    },
    async remove(name) {
      try {
        await bridge.call('contactRemove', { name })
        store.set((s) => ({ ...s, contacts: s.contacts.filter((c) => c.name !== name) }))
        return undefined
      } catch (err) {
        return t('contacts.removeFailed', { name, reason: toApiError(err).message })
      }
    },
    async trust(name) {
      try {
        const { contact } = await bridge.call('contactTrust', { name })
        upsert(contact)
        return undefined
      } catch (err) {
        return t('contacts.trustFailed', { name, reason: toApiError(err).message })
      }
    },
    offer: (link) => store.patch({ offered: link }),
    clearOffer: () => store.patch({ offered: undefined }),
    watch(everyMs = 20_000) {
      void refresh()
      const timer = setInterval(() => void refresh(), everyMs)
      return () => clearInterval(timer)
    },
  }
}
