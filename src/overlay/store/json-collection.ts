/**
 * A small typed collection in the node's level datastore: JSON entries under
 * one key prefix, in the versioned stored form of versioned-collection.ts. The
 * address book, the call log, read marks and message history use it.
 *
 * The collection is opened (version checked, older entries migrated) before its
 * first read or write. An entry that cannot be read is moved to quarantine and
 * reported, never fatal and never silently skipped: one bad record must not
 * hide the rest of a user's data, and its bytes stay recoverable.
 */
import type { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import type { z } from 'zod'
import type { Logger } from '../../shared/logger.js'
import { quarantineEntry } from './quarantine.js'
import { entryKey, openCollection, readEntry, writeEntry } from './versioned-collection.js'
import type { CollectionSpec } from './versioned-collection.js'

/** Options every store built on a collection accepts. */
export interface StoreOptions {
  /** Receives a warning for every entry moved to quarantine. */
  log?: Logger | undefined
}

export interface JsonCollectionOptions extends StoreOptions {
  /** Called with the original key of an entry moved to quarantine. */
  onDamaged?: ((key: string) => void) | undefined
}

export class JsonCollection<S extends z.ZodType> {
  private readonly prefix: string

  constructor(
    private readonly datastore: Datastore,
    readonly spec: CollectionSpec<S>,
    private readonly opts: JsonCollectionOptions = {},
  ) {
    if (!('prefix' in spec.location))
      throw new TypeError(`${spec.name} is a single-key collection, not a JsonCollection`)
    this.prefix = spec.location.prefix
  }

  /** Resolves once the collection's version is checked and old entries migrated. */
  ready(): Promise<unknown> {
    return openCollection(this.datastore, this.spec, {
      log: this.opts.log,
      onQuarantined: this.opts.onDamaged,
    })
  }

  key(id: string): Key {
    return entryKey(this.spec, id)
  }

  /** The bytes `put` would write, for callers that batch their own writes. */
  encode(value: z.infer<S>): Uint8Array {
    return writeEntry(this.spec, value)
  }

  async put(id: string, value: z.infer<S>): Promise<void> {
    const bytes = this.encode(value)
    await this.ready()
    await this.datastore.put(this.key(id), bytes)
  }

  async get(id: string): Promise<z.infer<S> | undefined> {
    await this.ready()
    const key = this.key(id)
    if (!(await this.datastore.has(key))) return undefined
    return this.read(key, await this.datastore.get(key))
  }

  async delete(id: string): Promise<void> {
    await this.ready()
    await this.datastore.delete(this.key(id))
  }

  /** Every readable entry, in key order. */
  async list(): Promise<Array<z.infer<S>>> {
    await this.ready()
    const out: Array<z.infer<S>> = []
    for await (const { key, value } of this.datastore.query({ prefix: `${this.prefix}/` })) {
      const entry = await this.read(key, value)
      if (entry !== undefined) out.push(entry)
    }
    return out
  }

  private async read(key: Key, bytes: Uint8Array): Promise<z.infer<S> | undefined> {
    const result = readEntry(this.spec, bytes)
    if (result.ok) return result.value
    await quarantineEntry(this.datastore, {
      collection: this.spec.name,
      key,
      raw: bytes,
      reason: result.reason,
      log: this.opts.log,
    })
    this.opts.onDamaged?.(key.toString())
    return undefined
  }
}
