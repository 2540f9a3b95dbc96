/**
 * One stop list for the composition root: every part that was started pushes
 * how to stop it, and stopping runs the list in reverse order (the last thing
 * started is the first stopped), once, whether the node is shutting down or
 * its start-up failed half-way. One failing step is logged and does not keep
 * the rest from stopping.
 */
import type { Logger } from '../shared/logger.js'

export class StopList {
  private readonly steps: Array<{ what: string; stop: () => Promise<void> | void }> = []
  private stopping: Promise<void> | undefined

  constructor(private readonly log: Logger) {}

  push(what: string, stop: () => Promise<void> | void): void {
    this.steps.push({ what, stop })
  }

  /** Run every step in reverse order; later calls wait for the first. */
  stopAll(): Promise<void> {
    this.stopping ??= this.run()
    return this.stopping
  }

  private async run(): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step.stop()
      } catch (err) {
        this.log.debug(`stopping ${step.what}: ${String(err)}`)
      }
    }
  }
}
