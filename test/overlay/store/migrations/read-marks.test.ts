/** read-marks v1 → v2: marks the old ReadMarks stored as bare JSON keep working. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  readMarksCollection,
  readMarksMigrations,
} from '../../../../src/overlay/store/migrations/read-marks.js'
import { ReadMarks } from '../../../../src/overlay/store/read-marks.js'
import { openCollection } from '../../../../src/overlay/store/versioned-collection.js'
import { getJson, openTempStore, putRaw } from '../level-store.js'
import type { TempStore } from '../level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

describe('read-marks migration 1 -> 2', () => {
  it('takes a v1 entry to the v2 value', () => {
    const [m] = readMarksMigrations
    expect([m.from, m.to]).toEqual([1, 2])
    expect(m.migrate({ lastReadId: '000001-aa' })).toEqual({ lastReadId: '000001-aa' })
    expect(() => m.migrate({ lastReadId: 7 })).toThrow()
  })

  it('rewrites a stored mark, which still holds back older ids', async () => {
    await putRaw(store.ds, '/kaiwa/read/bob', '{"lastReadId":"000001700000000500-abcd"}')
    expect(await openCollection(store.ds, readMarksCollection)).toMatchObject({ migrated: 1 })
    expect(await getJson(store.ds, '/kaiwa/read/bob')).toEqual({
      $v: 2,
      data: { lastReadId: '000001700000000500-abcd' },
    })
    const marks = new ReadMarks(store.ds)
    await marks.set('bob', '000001700000000100-0000')
    expect(await marks.get('bob')).toBe('000001700000000500-abcd')
    await marks.set('bob', '000001700000000900-ffff')
    expect(await marks.get('bob')).toBe('000001700000000900-ffff')
  })
})
