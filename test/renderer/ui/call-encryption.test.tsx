/** The note in the call panel and the incoming-call dialog on where encryption ends. */
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { AnchorNote } from '../../../src/renderer/ui/CallEncryption.js'

describe('AnchorNote', () => {
  it('says encryption ends at the far node for a phone-anchored call', () => {
    expect(
      renderToStaticMarkup(createElement(AnchorNote, { anchor: 'phone', peer: 'alice' })),
    ).toBe(
      '<p class="call-anchor" role="note">Encrypted to alice&#x27;s Kaiwa node. From there to alice&#x27;s SIP phone the audio is not encrypted (plain RTP on alice&#x27;s computer or local network).</p>',
    )
  })

  it('renders nothing for end-to-end calls', () => {
    expect(
      renderToStaticMarkup(createElement(AnchorNote, { anchor: undefined, peer: 'bob' })),
    ).toBe('')
  })
})
