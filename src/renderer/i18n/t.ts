/**
 * The UI's one way to text: `t('call.hangup')`, `t('chat.stored', { peer })`.
 * Every string a user reads lives in en.ts; a test checks that every key used
 * in src/renderer exists there and that placeholders match. Another language
 * is another table of the same keys.
 */
import { en } from './en.js'

export type MessageKey = keyof typeof en
export type MessageParams = Record<string, string | number>

export function t(key: MessageKey, params?: MessageParams): string {
  const text: string = en[key]
  if (params == null) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  )
}
