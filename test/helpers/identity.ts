/**
 * Seeds a data directory with a given account key (and a fresh device key), as
 * restoring a backed-up identity on a second device will: two nodes, one account.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Key } from 'interface-datastore'
import { encode } from 'cborg'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { openDataDir } from '../../src/overlay/store/data-dir.js'
import { encodeIdentity } from '../../src/overlay/identity/identity-store.js'

export async function seedIdentity(dataDir: string, accountKey: Ed25519PrivateKey): Promise<void> {
  const dir = await openDataDir(dataDir)
  try {
    const identity = {
      accountKey,
      deviceKey: await generateKeyPair('Ed25519'),
      createdAt: Date.now(),
    }
    await dir.datastore.put(new Key('/kaiwa/identity'), encodeIdentity(identity))
    await dir.datastore.put(new Key('/kaiwa/meta'), encode({ v: 1, createdAt: Date.now() }))
  } finally {
    await dir.close()
  }
}
