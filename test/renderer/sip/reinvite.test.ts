/** re-INVITEs: serialised, a 491 retried once after RFC 3261 §14.1's wait, hold restored on failure. */
import type { Session } from 'sip.js'
import { describe, expect, it } from 'vitest'
import { ReinviteError, Reinviter, glareWaitMs } from '../../../src/renderer/sip/reinvite.js'

type Delegate = {
  onAccept(r: { message: { body?: string } }): void
  onReject(r: { message: { statusCode?: number; reasonPhrase?: string } }): void
}

/** A session whose re-INVITEs are answered from a script, in order. */
function scripted(answers: Array<number | string>) {
  const log: string[] = []
  const session = {
    sessionDescriptionHandlerOptionsReInvite: {} as { hold?: boolean },
    invite(opts: { requestDelegate: Delegate }) {
      const next = answers.shift()
      log.push(`invite hold=${String(this.sessionDescriptionHandlerOptionsReInvite.hold)}`)
      setTimeout(() => {
        if (typeof next === 'string') opts.requestDelegate.onAccept({ message: { body: next } })
        else opts.requestDelegate.onReject({ message: { statusCode: next, reasonPhrase: 'No' } })
      }, 1)
      return Promise.resolve()
    },
  }
  return { session, log }
}

describe('Reinviter', () => {
  it('runs re-INVITEs one after the other, each after its prepare step', async () => {
    const { session, log } = scripted(['answer 1', 'answer 2'])
    const r = new Reinviter(
      session as unknown as Session,
      true,
      () => false,
      async () => {},
    )
    const a = r.run(false, () => void log.push('prepare 1'))
    const b = r.run(true, () => void log.push('prepare 2'))
    await expect(a).resolves.toBe('answer 1')
    await expect(b).resolves.toBe('answer 2')
    expect(log).toEqual(['prepare 1', 'invite hold=false', 'prepare 2', 'invite hold=true'])
  })

  it('retries once after a 491 Request Pending, waiting as §14.1 says', async () => {
    const { session, log } = scripted([491, 'answer'])
    const waits: number[] = []
    const r = new Reinviter(
      session as unknown as Session,
      false,
      () => false,
      async (ms) => {
        waits.push(ms)
      },
    )
    await expect(r.run(false)).resolves.toBe('answer')
    expect(log).toHaveLength(2)
    expect(waits).toHaveLength(1)
    expect(waits[0]).toBeLessThan(2000)
  })

  it('fails with the status, restores the hold state in force, and keeps the queue going', async () => {
    const { session } = scripted([488, 'later'])
    const r = new Reinviter(
      session as unknown as Session,
      true,
      () => true,
      async () => {},
    )
    const err = await r.run(false).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ReinviteError)
    expect((err as ReinviteError).status).toBe(488)
    expect(session.sessionDescriptionHandlerOptionsReInvite.hold).toBe(true)
    await expect(r.run(false)).resolves.toBe('later')
  })

  it('waits 2.1–4 s when it owns the Call-ID, 0–2 s otherwise', () => {
    expect(glareWaitMs(true, () => 0)).toBe(2100)
    expect(glareWaitMs(true, () => 0.999)).toBeLessThanOrEqual(4000)
    expect(glareWaitMs(false, () => 0)).toBe(0)
    expect(glareWaitMs(false, () => 0.999)).toBeLessThan(2000)
  })
})
