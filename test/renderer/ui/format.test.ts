/** How screens print durations and sizes. */
import { describe, expect, it } from 'vitest'
import { formatBytes, formatDuration } from '../../../src/renderer/ui/format.js'

describe('format', () => {
  it('durations and sizes', () => {
    expect(formatDuration(0)).toBe('0:00')
    expect(formatDuration(65_400)).toBe('1:05')
    expect(formatDuration(3_725_000)).toBe('1:02:05')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB')
  })
})
