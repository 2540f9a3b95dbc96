/**
 * One account on two devices for multi-device tests: `name` claimed on a
 * first device, its backup restored on a second (as a user restores it on
 * another machine), returned once each lists the other among its devices.
 */
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startClient, waitFor } from '../../helpers/nodes.js'

export async function startTwoDevices(
  sn: KaiwaNode,
  name: string,
): Promise<{ one: KaiwaNode; two: KaiwaNode }> {
  const one = await startClient(sn, { name })
  const { backup } = await one.api.identityExport({ passphrase: 'correct horse battery' })
  const two = await startClient(sn)
  await two.api.identityImport({ backup, passphrase: 'correct horse battery' })
  const peersOf = async (n: KaiwaNode): Promise<string[]> =>
    (await n.api.devices({})).devices.filter((d) => !d.removed).map((d) => d.peerId)
  await waitFor(async () => (await peersOf(one)).includes(two.peerId), 30_000, 'device 1 to know 2')
  await waitFor(async () => (await peersOf(two)).includes(one.peerId), 30_000, 'device 2 to know 1')
  return { one, two }
}
