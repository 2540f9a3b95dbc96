// Sums a V8 heap snapshot's self sizes by what the objects are: object
// constructors by name, everything else (code, strings, arrays, closures,
// hidden V8 internals) by V8's node type. Used by bench:idle.
//   node bench/heap-summary.mjs FILE.heapsnapshot [--top 25]
import { readFile } from 'node:fs/promises'

export async function summariseHeap(file, top = 25) {
  const snap = JSON.parse(await readFile(file, 'utf8'))
  const { node_fields: fields, node_types: types } = snap.snapshot.meta
  const width = fields.length
  const iType = fields.indexOf('type')
  const iName = fields.indexOf('name')
  const iSize = fields.indexOf('self_size')
  const typeNames = types[0]
  const { nodes, strings } = snap
  const groups = new Map()
  let total = 0
  for (let i = 0; i < nodes.length; i += width) {
    const type = typeNames[nodes[i + iType]]
    const size = nodes[i + iSize]
    total += size
    let key
    if (type === 'object' || type === 'native') key = `${type} ${strings[nodes[i + iName]]}`
    else if (type === 'code' || type === 'hidden')
      key = `${type} ${codeKind(strings[nodes[i + iName]])}`
    else key = type
    const g = groups.get(key) ?? { count: 0, size: 0 }
    g.count++
    g.size += size
    groups.set(key, g)
  }
  const rows = [...groups.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, top)
  return { total, rows }
}

// "system / BytecodeArray" stays; a function's name is folded into its kind.
function codeKind(name) {
  return name.startsWith('system / ') ? name : name.replace(/^\(|\)$/g, '').split(' ')[0] || name
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2]
  const top = Number(process.argv[process.argv.indexOf('--top') + 1]) || 25
  const { total, rows } = await summariseHeap(file, top)
  console.log(`heap snapshot ${file}: ${(total / 1048576).toFixed(1)} MB of objects`)
  for (const [k, v] of rows)
    console.log(
      `  ${(v.size / 1048576).toFixed(2).padStart(7)} MB  ${String(v.count).padStart(7)}  ${k}`,
    )
}
