/** The max-min eviction rule that shares a mailbox between sender names. */
import { describe, expect, it } from 'vitest'
import { planEviction } from '../../../src/overlay/mailbox/fair-share.js'
import type { Holding } from '../../../src/overlay/mailbox/fair-share.js'

let clock = 0
const held = (sender: string, n: number, cost = 1): Array<Holding<string>> =>
  Array.from({ length: n }, (_, i) => ({ sender, cost, at: ++clock, ref: `${sender}#${i}` }))

describe('planEviction', () => {
  it('evicts nothing while there is room', () => {
    expect(planEviction(held('spam', 3), 'alice', 1, 1)).toEqual([])
  })

  it("takes the largest holder's newest mail for a newcomer", () => {
    const box = [...held('spam', 5), ...held('old', 2)]
    expect(planEviction(box, 'alice', 1, 0)).toEqual(['spam#4'])
    // A bigger mail frees as many slots as it needs, while the victim keeps
    // more than the newcomer will hold...
    expect(planEviction(box, 'alice', 2, 0)).toEqual(['spam#4', 'spam#3'])
    // ...and is refused once it would end up holding as much as its victim.
    expect(planEviction(box, 'alice', 3, 0)).toBeNull()
  })

  it("refuses rather than take a sender's last mail, or even out shares the wrong way", () => {
    // Everyone holds one: a newcomer would hold as much as its victim.
    expect(planEviction([...held('a', 1), ...held('b', 1)], 'alice', 1, 0)).toBeNull()
    // The largest holder itself cannot evict smaller ones.
    expect(planEviction([...held('spam', 5), ...held('alice', 1)], 'spam', 1, 0)).toBeNull()
  })

  it('breaks ties against the newest arrival', () => {
    const box = [...held('early', 2), ...held('late', 2)]
    expect(planEviction(box, 'alice', 1, 0)).toEqual(['late#1'])
  })

  it('skips mail an earlier plan already evicts', () => {
    const box = held('spam', 3)
    expect(planEviction(box, 'alice', 1, 0, new Set(['spam#2']))).toEqual(['spam#1'])
  })
})
