/**
 * A small typed collection in the node's level datastore: JSON values under
 * one key prefix, validated with zod on the way out. The address book, the
 * call log and read marks use it. A damaged entry is skipped and reported,
 * never fatal: one bad record must not hide the rest of a user's data.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import type { z } from 'zod'

export class JsonCollection<S extends z.ZodType> {
  constructor(
    private readonly datastore: Datastore,
    private readonly prefix: string,
    private readonly schema: S,
    private readonly onDamaged: (key: string) => void = () => {},
  ) {}

  private key(id: string): Key {
    // Keys are user IDs or generated ids; '/' would split the key path.
    return new Key(`${this.prefix}/${encodeURIComponent(id)}`)
  }

  async put(id: string, value: z.infer<S>): Promise<void> {
    await this.datastore.put(this.key(id), new TextEncoder().encode(JSON.stringify(value)))
  }

  async get(id: string): Promise<z.infer<S> | undefined> {
    const key = this.key(id)
    if (!(await this.datastore.has(key))) return undefined
    return this.parse(key.toString(), await this.datastore.get(key))
  }

  async delete(id: string): Promise<void> {
    await this.datastore.delete(this.key(id))
  }

  /** Every entry, in key order. */
  async list(): Promise<Array<z.infer<S>>> {
    const out: Array<z.infer<S>> = []
    for await (const { key, value } of this.datastore.query({ prefix: `${this.prefix}/` })) {
      const parsed = this.parse(key.toString(), value)
      if (parsed !== undefined) out.push(parsed)
    }
    return out
  }

  private parse(key: string, bytes: Uint8Array): z.infer<S> | undefined {
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(bytes))
    } catch {
      json = undefined
    }
    const parsed = this.schema.safeParse(json)
    if (parsed.success) return parsed.data
    this.onDamaged(key)
    return undefined
  }
}
