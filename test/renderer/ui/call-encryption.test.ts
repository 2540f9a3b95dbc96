/** What the call panel, the incoming-call dialog and the history say about where encryption ends. */
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { AnchorNote, encryptionLabel } from '../../../src/renderer/ui/CallEncryption.js'
import { t } from '../../../src/renderer/i18n/t.js'

describe('call encryption', () => {
  it('says encryption ends at the far node for a phone-anchored call', () => {
    expect(
      renderToStaticMarkup(createElement(AnchorNote, { anchor: 'phone', peer: 'alice' })),
    ).toBe(
      '<p class="call-anchor" role="note">Encrypted to alice&#x27;s Kaiwa node. From there to alice&#x27;s SIP phone the audio is not encrypted (plain RTP on alice&#x27;s computer or local network).</p>',
    )
    expect(encryptionLabel('phone', 'alice')).toBe("To alice's Kaiwa node")
    expect(t('calls.anchoredPhone', { peer: 'alice' })).toBe(
      "SIP phone, encrypted to alice's node only",
    )
  })

  it('says nothing more for end-to-end calls', () => {
    expect(
      renderToStaticMarkup(createElement(AnchorNote, { anchor: undefined, peer: 'bob' })),
    ).toBe('')
    expect(encryptionLabel(undefined, 'bob')).toBe('End to end')
  })
})
