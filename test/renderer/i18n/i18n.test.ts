/**
 * Every string the UI shows comes from i18n/en.ts: every key the renderer
 * names exists, every key there is used, and each t() call fills exactly the
 * placeholders its text has.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { en } from '../../../src/renderer/i18n/en.js'
import { t } from '../../../src/renderer/i18n/t.js'

const RENDERER = fileURLToPath(new URL('../../../src/renderer/', import.meta.url))
const CATALOG = /^i18n[\\/]en(?:-[a-z]+)?\.ts$/
const keys = new Set(Object.keys(en))
const areas = new Set([...keys].map((k) => k.split('.')[0]!))
const placeholders = (text: string): string[] =>
  [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort()

async function sources(dir: string): Promise<Array<{ file: string; text: string }>> {
  const out: Array<{ file: string; text: string }> = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await sources(p)))
    // The catalog itself (en.ts and the tables it spreads, en-*.ts) names every key: not a use.
    else if (/\.tsx?$/.test(e.name) && !CATALOG.test(p.slice(RENDERER.length)))
      out.push({ file: p.slice(RENDERER.length), text: await readFile(p, 'utf8') })
  }
  return out
}

let files: Array<{ file: string; text: string }>
beforeAll(async () => {
  files = await sources(RENDERER)
})

describe('i18n', () => {
  it('has every key the renderer names, and no key it does not', () => {
    const named = new Set<string>()
    const missing: string[] = []
    for (const { file, text } of files) {
      for (const m of text.matchAll(/'([a-z][a-zA-Z]*\.[a-zA-Z][a-zA-Z0-9]*)'/g)) {
        const key = m[1]!
        if (!areas.has(key.split('.')[0]!)) continue // e.g. './x.js', 'sip.js'
        named.add(key)
        if (!keys.has(key)) missing.push(`${file}: ${key}`)
      }
    }
    expect(missing).toEqual([])
    expect([...keys].filter((k) => !named.has(k))).toEqual([])
  })

  it('fills exactly the placeholders of each text', () => {
    const wrong: string[] = []
    for (const { file, text } of files) {
      for (const m of text.matchAll(/\bt\(\s*'([^']+)'\s*(?:,\s*\{([^}]*)\})?\s*\)/g)) {
        const key = m[1]! as keyof typeof en
        if (!keys.has(key)) continue // reported above
        const given = [...(m[2] ?? '').matchAll(/(?:^|,)\s*(\w+)\s*(?=:|,|$)/g)]
          .map((p) => p[1]!)
          .sort()
        const wanted = placeholders(en[key])
        if (JSON.stringify([...new Set(given)].sort()) !== JSON.stringify(wanted))
          wrong.push(
            `${file}: t('${key}') gives {${given.join(', ')}}, text has {${wanted.join(', ')}}`,
          )
      }
    }
    expect(wrong).toEqual([])
  })

  it('keeps the accessible names end-to-end tests rely on', () => {
    expect([
      t('dial.userId'),
      t('dial.call'),
      t('dial.chat'),
      t('incoming.answer'),
      t('incoming.decline'),
      t('call.hangup'),
      t('call.mute'),
      t('messages.message'),
      t('messages.send'),
    ]).toEqual([
      'User ID',
      'Call',
      'Chat',
      'Answer',
      'Decline',
      'Hang up',
      'Mute',
      'Message',
      'Send',
    ])
  })

  it('interpolates, and leaves unknown placeholders visible', () => {
    expect(t('chat.stored', { peer: 'bob' })).toBe(
      'bob is offline; the message will be delivered when bob is back.',
    )
    expect(t('chat.stored')).toContain('{peer}')
  })
})
