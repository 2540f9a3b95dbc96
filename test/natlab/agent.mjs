// The lab's hands inside a namespace. The test process cannot enter a network
// namespace itself, so it starts one of these per host (`ip netns exec NS node
// agent.mjs`) and drives it with JSON lines on stdin; each answer is one JSON
// line on stdout with the request's id. Plain JavaScript, no imports from the
// project: it must start fast and run anywhere the lab does.
//
// Requests:
//   {id, op:'bind', sock, port?, host?}            -> {port}   (host '::': an IPv6 socket)
//   {id, op:'send', sock, host, port, text}        -> {}
//   {id, op:'ask', sock, host, port, timeoutMs?}   -> {seen:'ip:port'} | {timeout:true}
//       (sends "echo?"; every agent socket answers "echo?" with "seen <src ip:port>")
//   {id, op:'recv', sock, waitMs}                  -> {msgs:[{from, text}]} (drains)
//   {id, op:'close', sock}                         -> {}
//   {id, op:'http', url, method?, headers?, body?} -> {status, text}   (the node's API)
import { createSocket } from 'node:dgram'
import { createInterface } from 'node:readline'

const sockets = new Map()

function reply(id, body) {
  process.stdout.write(JSON.stringify({ id, ...body }) + '\n')
}

function bind(name, port = 0, host = '0.0.0.0') {
  return new Promise((resolve, reject) => {
    // An IPv6 host (`::`, an IPv6-only site) gets an IPv6 socket.
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    const state = { socket: s, inbox: [], waiters: [] }
    s.on('message', (buf, rinfo) => {
      const text = buf.toString('utf8')
      const from = `${rinfo.address}:${rinfo.port}`
      if (text === 'echo?') {
        s.send(`seen ${from}`, rinfo.port, rinfo.address)
        return
      }
      state.inbox.push({ from, text })
      for (const w of state.waiters.splice(0)) w()
    })
    s.once('error', reject)
    s.bind(port, host, () => {
      sockets.set(name, state)
      resolve(s.address().port)
    })
  })
}

function sock(name) {
  const s = sockets.get(name)
  if (s == null) throw new Error(`no socket ${name}`)
  return s
}

async function ask(name, host, port, timeoutMs = 1000) {
  const s = sock(name)
  const deadline = Date.now() + timeoutMs
  // A lost datagram is not a NAT verdict: resend a few times before giving up.
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    s.socket.send('echo?', port, host)
    const until = Math.min(deadline, Date.now() + 250)
    while (Date.now() < until) {
      const i = s.inbox.findIndex((m) => m.from === `${host}:${port}` && m.text.startsWith('seen '))
      if (i >= 0) {
        const seen = s.inbox[i].text.slice(5)
        // Answers to earlier attempts are duplicates, not unsolicited traffic.
        s.inbox = s.inbox.filter(
          (m) => !(m.from === `${host}:${port}` && m.text.startsWith('seen ')),
        )
        return { seen }
      }
      await new Promise((r) => {
        s.waiters.push(r)
        setTimeout(r, until - Date.now())
      })
    }
  }
  return { timeout: true }
}

async function handle(req) {
  switch (req.op) {
    case 'bind':
      return { port: await bind(req.sock, req.port, req.host) }
    case 'send':
      sock(req.sock).socket.send(req.text, req.port, req.host)
      return {}
    case 'ask':
      return ask(req.sock, req.host, req.port, req.timeoutMs)
    case 'recv': {
      const s = sock(req.sock)
      await new Promise((r) => setTimeout(r, req.waitMs ?? 0))
      return { msgs: s.inbox.splice(0) }
    }
    case 'close':
      sock(req.sock).socket.close()
      sockets.delete(req.sock)
      return {}
    case 'http': {
      const res = await fetch(req.url, {
        method: req.method ?? 'POST',
        headers: req.headers ?? {},
        body: req.body,
        signal: AbortSignal.timeout(req.timeoutMs ?? 60_000),
      })
      return { status: res.status, text: await res.text() }
    }
    default:
      throw new Error(`unknown op ${req.op}`)
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let req
  try {
    req = JSON.parse(line)
  } catch {
    return
  }
  handle(req).then(
    (body) => reply(req.id, body),
    (err) => reply(req.id, { error: String(err?.message ?? err) }),
  )
})
process.stdin.on('end', () => process.exit(0))
reply(0, { ready: true })
