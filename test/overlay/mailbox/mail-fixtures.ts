/** Shared by the mailbox service and admission tests: datastores, accounts and mail. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { LevelDatastore } from 'datastore-level'
import { sealMail } from '../../../src/shared/mail/sealed-mail.js'
import type { MailEnvelope } from '../../../src/shared/mail/sealed-mail.js'

/** A level datastore in a fresh temp dir, and how to remove it. */
export async function levelDatastore(): Promise<{
  datastore: LevelDatastore
  dispose(): Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), 'kaiwa-mailbox-'))
  const datastore = new LevelDatastore(join(dir, 'ds'))
  await datastore.open()
  return {
    datastore,
    dispose: async () => {
      await datastore.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface Account {
  name: string
  key: Ed25519PrivateKey
}

export async function account(name: string): Promise<Account> {
  return { name, key: await generateKeyPair('Ed25519') }
}

/** Mail from `from` to `to`, signed by `signer` (the sender's own key unless a test forges). */
export async function mail(
  from: Account,
  to: Account,
  text = 'hello',
  signer: Ed25519PrivateKey = from.key,
): Promise<MailEnvelope> {
  return sealMail({
    to: to.name,
    recipientKey: to.key.publicKey.raw,
    senderPrivateKey: signer,
    plaintext: {
      from: from.name,
      fromUri: `sip:${from.name}@kaiwa.invalid`,
      date: new Date().toUTCString(),
      contentType: 'text/plain',
      body: new TextEncoder().encode(text),
    },
  })
}
