/**
 * The contact book remembers what it read (every incoming request's sender is
 * compared with it), and that memory never disagrees with the store: pins and
 * removals through the book, a read that raced a write, a failed write, and
 * many non-contacts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ContactBook } from '../../../src/overlay/store/contact-book.js'
import { openTempStore } from './level-store.js'
import type { TempStore } from './level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

describe('ContactBook', () => {
  it('answers from memory after the first read, and sees its own writes', async () => {
    const book = new ContactBook(store.ds)
    expect(await book.get('bob')).toBeUndefined()
    let reads = 0
    const has = store.ds.has.bind(store.ds)
    store.ds.has = (...a: Parameters<typeof has>) => {
      reads++
      return has(...a)
    }
    expect(await book.get('bob')).toBeUndefined()
    expect(reads).toBe(0)
    await book.pin('bob', 'ab12', Date.UTC(2026, 0, 1))
    reads = 0
    expect((await book.get('bob'))?.fingerprint).toBe('ab12')
    expect(reads).toBe(0)
    await book.remove('bob')
    expect(await book.get('bob')).toBeUndefined()
    // A new book on the same store (a restart) reads what was written.
    await book.pin('carol', 'cd34')
    expect((await new ContactBook(await store.reopen()).get('carol'))?.fingerprint).toBe('cd34')
  })

  it('does not remember a read that raced a pin', async () => {
    const book = new ContactBook(store.ds)
    const racing = book.get('dave')
    await book.pin('dave', 'ef56')
    await racing
    expect((await book.get('dave'))?.fingerprint).toBe('ef56')
  })

  it('forgets nothing true when a write fails', async () => {
    const book = new ContactBook(store.ds)
    await book.pin('erin', 'aa11')
    const put = store.ds.put.bind(store.ds)
    store.ds.put = () => Promise.reject(new Error('disk full'))
    await expect(book.pin('erin', 'bb22')).rejects.toThrow('disk full')
    store.ds.put = put
    expect((await book.get('erin'))?.fingerprint).toBe('aa11')
  })

  it('keeps answering right past its bound on remembered non-contacts', async () => {
    const book = new ContactBook(store.ds)
    await book.pin('frank', 'cc33')
    for (let i = 0; i < 10_050; i++) expect(await book.get(`stranger-${i}`)).toBeUndefined()
    expect((await book.get('frank'))?.fingerprint).toBe('cc33')
  })
})
