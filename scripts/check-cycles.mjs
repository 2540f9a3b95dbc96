#!/usr/bin/env node
// Import cycles in src/ and test/, type-only imports included (ESLint's
// import-x/no-cycle checks value imports; a cycle through types is still a
// cycle in the design). Part of `npm run lint`; exits 1 and lists each cycle.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (/\.(ts|tsx)$/.test(name)) files.push(path)
  }
}
for (const dir of ['src', 'test']) walk(join(root, dir))

/** Relative imports of a file, resolved to files (`./x.js` is `./x.ts` or `./x.tsx`). */
const graph = new Map()
for (const file of files) {
  const deps = []
  for (const imp of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    if (!imp.fileName.startsWith('.')) continue
    const base = resolve(dirname(file), imp.fileName).replace(/\.(js|mjs)$/, '')
    const hit = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((p) => existsSync(p))
    if (hit != null) deps.push(hit)
  }
  graph.set(file, deps)
}

// Tarjan's strongly connected components: every component of 2+ files is a cycle.
let counter = 0
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const cycles = []
const visit = (v) => {
  index.set(v, counter)
  low.set(v, counter++)
  stack.push(v)
  onStack.add(v)
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue
    if (!index.has(w)) {
      visit(w)
      low.set(v, Math.min(low.get(v), low.get(w)))
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
  }
  if (low.get(v) !== index.get(v)) return
  const component = []
  let w
  do {
    w = stack.pop()
    onStack.delete(w)
    component.push(w)
  } while (w !== v)
  if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component)
}
for (const v of graph.keys()) if (!index.has(v)) visit(v)

for (const c of cycles)
  console.error(`import cycle: ${c.map((p) => relative(root, p)).join(' → ')}`)
if (cycles.length > 0) {
  console.error(
    `${cycles.length} import cycle(s): move the shared types or logic into a module both sides import`,
  )
  process.exit(1)
}
console.log(`no import cycles in ${files.length} files`)
