/** Where a call's encryption ends, in the words of the call panel and the call history. */
import { describe, expect, it } from 'vitest'
import {
  anchorHistoryNote,
  anchorNote,
  encryptionLabel,
} from '../../../src/renderer/call/call-encryption.js'

describe('call encryption words', () => {
  it('says encryption ends at the far node for a phone-anchored call', () => {
    expect(encryptionLabel('phone', 'alice')).toBe("To alice's Kaiwa node")
    expect(anchorNote('phone', 'alice')).toBe(
      "Encrypted to alice's Kaiwa node. From there to alice's SIP phone the audio is not encrypted (plain RTP on alice's computer or local network).",
    )
    expect(anchorHistoryNote('phone', 'alice')).toBe("SIP phone, encrypted to alice's node only")
  })

  it('says end to end, and adds no note, for calls between apps', () => {
    expect(encryptionLabel(undefined, 'bob')).toBe('End to end')
    expect(anchorNote(undefined, 'bob')).toBeUndefined()
    expect(anchorHistoryNote(undefined, 'bob')).toBeUndefined()
  })
})
