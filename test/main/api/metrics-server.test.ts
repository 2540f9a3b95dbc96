import { describe, expect, it } from 'vitest'
import { renderMetrics } from '../../../src/main/api/metrics-server.js'

describe('Prometheus text format', () => {
  it('writes HELP and TYPE once per name, escapes labels, and never prints NaN', () => {
    const text = renderMetrics([
      { name: 'kaiwa_a', help: 'first', type: 'gauge', value: 1, labels: { peer: 'x"y\\z' } },
      { name: 'kaiwa_a', help: 'first', type: 'gauge', value: 2, labels: { peer: 'w' } },
      { name: 'kaiwa_b_total', help: 'b', type: 'counter', value: Number.NaN },
    ])
    expect(text).toBe(
      [
        '# HELP kaiwa_a first',
        '# TYPE kaiwa_a gauge',
        'kaiwa_a{peer="x\\"y\\\\z"} 1',
        'kaiwa_a{peer="w"} 2',
        '# HELP kaiwa_b_total b',
        '# TYPE kaiwa_b_total counter',
        'kaiwa_b_total 0',
        '',
      ].join('\n'),
    )
    expect(() => renderMetrics([{ name: 'bad name', help: '', type: 'gauge', value: 0 }])).toThrow()
  })
})
