/**
 * Incoming INVITEs while a group call may be running (group-mesh.ts `admit`
 * decides; this carries it out): auto-accept a member, refuse the rest, and
 * keep an INVITE from someone not yet on the roster waiting (it neither
 * rings nor is answered) until a roster update lists them, or refuse it
 * after `waitMs`.
 */
import type { KaiwaCall } from '../sip/call-session.js'
import { admit } from './group-mesh.js'
import type { MeshState } from './group-mesh.js'

export interface AdmissionDeps {
  mesh(): MeshState | undefined
  /** Answer `call` as a member's pair; `cancelOwn`: ours to them loses the glare. */
  accept(call: KaiwaCall, cancelOwn: boolean): void
  log(text: string): void
  waitMs: number
}

export class GroupAdmission {
  private readonly pending = new Map<KaiwaCall, ReturnType<typeof setTimeout>>()

  constructor(private readonly deps: AdmissionDeps) {}

  /** True when the group took the call (accepted, refused or waiting); false: it may ring. */
  decide(c: KaiwaCall): boolean {
    const mesh = this.deps.mesh()
    const a = admit(mesh, c.peer, c.conference?.invite, c.verification)
    switch (a.kind) {
      case 'not-ours':
        if (mesh == null) return false
        // In a group call another call is busy, as it is during a one-to-one call.
        void c.decline(true)
        return true
      case 'refuse':
        this.deps.log(`group: refusing ${c.peer}: ${a.why}`)
        void c.decline(a.status === 486)
        return true
      case 'wait':
        if (!this.pending.has(c)) this.hold(c)
        return true
      case 'accept':
        this.deps.accept(c, a.cancelOwn)
        return true
    }
  }

  /** The roster changed: decide again on the INVITEs kept waiting. */
  retry(): void {
    for (const [c, timer] of [...this.pending]) {
      const a = admit(this.deps.mesh(), c.peer, c.conference?.invite, c.verification)
      if (a.kind === 'wait') continue
      clearTimeout(timer)
      this.pending.delete(c)
      this.decide(c)
    }
  }

  /** The group ended: refuse whatever still waits. */
  clear(): void {
    for (const [c, timer] of this.pending) {
      clearTimeout(timer)
      void c.decline(true)
    }
    this.pending.clear()
  }

  private hold(c: KaiwaCall): void {
    const timer = setTimeout(() => {
      this.pending.delete(c)
      this.deps.log(`group: ${c.peer} never appeared on the roster; refused`)
      void c.decline(false)
    }, this.deps.waitMs)
    this.pending.set(c, timer)
    const off = c.onChange(() => {
      if (c.phase !== 'ended') return
      off()
      clearTimeout(this.pending.get(c))
      this.pending.delete(c)
    })
  }
}
