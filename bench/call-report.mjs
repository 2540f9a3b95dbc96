// bench:call's figures: per-call measures from the pages' probe events
// (bench/call-probe.mjs) and the printed report with PASS/MISS against the
// goals. Split from bench/call.mjs, which runs the overlay and the calls.
import { cpus, loadavg } from 'node:os'
import { pct, printTable } from './lib.mjs'

/** Per-call figures (ms) from both pages' events. */
export function measures(ce, ee) {
  const at = (list, name, pred = () => true, after = -Infinity) =>
    list.find((e) => e.name === name && e.t >= after && pred(e))?.t
  const d = (a, b) => (a == null || b == null ? undefined : b - a)
  const dial = at(ce, 'click', (e) => e.label === 'Call')
  const ans = at(ee, 'click', (e) => e.label === 'Answer')
  const invite = (e) => e.start === 'INVITE'
  const cInviteOut = at(ce, 'sip.out', invite)
  const eInviteIn = at(ee, 'sip.in', invite)
  const e180Out = at(ee, 'sip.out', (e) => e.start === '180' && e.cseq === 'INVITE')
  const c180In = at(ce, 'sip.in', (e) => e.start === '180' && e.cseq === 'INVITE')
  const e200Out = at(ee, 'sip.out', (e) => e.start === '200' && e.cseq === 'INVITE')
  const c200In = at(ce, 'sip.in', (e) => e.start === '200' && e.cseq === 'INVITE')
  const iceOut = (list, after) => at(list, 'api.out', (e) => e.method === 'iceServers', after)
  const iceIn = (list, after) => at(list, 'api.in', (e) => e.method === 'iceServers', after)
  const rtp = (list) => list.find((e) => e.name === 'rtp.first' && e.t >= ans)
  const cRtp = rtp(ce)?.t
  const eRtp = rtp(ee)?.t
  // When the page knew audio had arrived: the remote track's unmute (Chromium fires it
  // on the first RTP packet) or the getStats poll, whichever came first. The poll
  // alone lags: Chromium may serve a getStats report up to 50 ms old.
  const unmute = (list) => at(list, 'track.unmute', () => true, ans)
  const firstAudio = (list) => {
    const ts = [rtp(list)?.t, unmute(list)].filter((x) => x != null)
    return ts.length === 0 ? undefined : Math.min(...ts)
  }
  const longtasks = (list, from, to) =>
    from == null || to == null
      ? undefined
      : list
          .filter((e) => e.name === 'longtask' && e.t >= from && e.t < to)
          .reduce((n, e) => n + e.ms, 0)
  const relayAt = (list, after) => at(list, 'pc.candidate', (e) => e.type === 'relay', after)
  const cSld = at(ce, 'pc.setLocalDescription.done')
  const eSld = at(ee, 'pc.setLocalDescription.done', () => true, ans)
  return {
    // The headline figures.
    ringUi: d(dial, at(ee, 'ui.incoming.painted')),
    ringDom: d(dial, at(ee, 'ui.incoming')),
    ring180: d(dial, c180In),
    ringCallerUi: d(
      dial,
      at(ce, 'ui.state', (e) => e.state === 'Ringing…'),
    ),
    answered200: d(ans, c200In),
    answeredUi: d(
      ans,
      at(ce, 'ui.state', (e) => e.state === 'In call', ans),
    ),
    audioCaller: d(ans, firstAudio(ce)),
    audioCallee: d(ans, firstAudio(ee)),
    audioCallerPoll: d(ans, cRtp),
    audioCalleePoll: d(ans, eRtp),
    audioCallerUnmute: d(ans, unmute(ce)),
    audioCalleeUnmute: d(ans, unmute(ee)),
    // Inferred: the last packet's arrival minus one 20 ms frame per further packet.
    audioCallerEst: d(ans, rtp(ce)?.estimate),
    audioCalleeEst: d(ans, rtp(ee)?.estimate),
    // Dial, in order.
    dialToIceReq: d(dial, iceOut(ce, dial)),
    iceServersCaller: d(iceOut(ce, dial), iceIn(ce, dial)),
    gumCaller: d(at(ce, 'gum'), at(ce, 'gum.done')),
    offer: d(at(ce, 'pc.createOffer'), cSld),
    gatherCaller: d(cSld, cInviteOut),
    relayCandCaller: d(cSld, relayAt(ce, cSld ?? 0)),
    dialToInvite: d(dial, cInviteOut),
    inviteRoute: d(cInviteOut, eInviteIn),
    calleeUa180: d(eInviteIn, e180Out),
    back180: d(e180Out, c180In),
    calleeRender: d(eInviteIn, at(ee, 'ui.incoming')),
    calleePaint: d(at(ee, 'ui.incoming'), at(ee, 'ui.incoming.painted')),
    calleeLongtasks: longtasks(ee, eInviteIn, at(ee, 'ui.incoming.painted')),
    callerLongtasks: longtasks(ce, dial, cInviteOut),
    audioContextCaller: d(at(ce, 'audiocontext.new'), at(ce, 'audiocontext.new.done')),
    audioContextCallee: d(at(ee, 'audiocontext.new'), at(ee, 'audiocontext.new.done')),
    // Answer, in order.
    ansToIceReq: d(ans, iceOut(ee, ans)),
    iceServersCallee: d(iceOut(ee, ans), iceIn(ee, ans)),
    gumCallee: d(
      at(ee, 'gum', () => true, ans),
      at(ee, 'gum.done', () => true, ans),
    ),
    answerSdp: d(
      at(ee, 'pc.setRemoteDescription', () => true, ans),
      eSld,
    ),
    gatherCallee: d(eSld, e200Out),
    ansTo200Out: d(ans, e200Out),
    back200: d(e200Out, c200In),
    calleeIceConnected: d(
      ans,
      at(ee, 'pc.ice.connected', () => true, ans),
    ),
    calleeDtls: d(
      ans,
      at(ee, 'pc.conn.connected', () => true, ans),
    ),
    callerIceConnected: d(
      ans,
      at(ce, 'pc.ice.connected', () => true, ans),
    ),
    callerDtls: d(
      ans,
      at(ce, 'pc.conn.connected', () => true, ans),
    ),
    path: ce.find((e) => e.name === 'rtp.first')?.path,
    callerRelay: ce.some((e) => e.name === 'pc.candidate' && e.type === 'relay'),
    callerIceServers: ce.find((e) => e.name === 'pc.new')?.iceServers ?? '',
  }
}

/** JS heap (CDP) and renderer memory of one page; `gc`: collect garbage first. */

/**
 * The dial path's main threads from typing the ID until the callee rings:
 * time waiting, runnable, for a CPU (the run queue) and time on one, ms.
 */
export function schedMeasures(sched) {
  const out = { schedWall: sched.wall }
  const sum = (pick) =>
    Object.entries(sched)
      .filter(([k]) => k.startsWith('Supernode'))
      .reduce((acc, [, v]) => acc + pick(v), 0)
  for (const k of ['CallerNode', 'CalleeNode', 'CallerPage', 'CalleePage']) {
    if (sched[k] == null) continue
    out[`schedWait${k}`] = sched[k].wait
    out[`schedRun${k}`] = sched[k].run
  }
  out.schedWaitSupernodes = sum((v) => v.wait)
  out.schedRunSupernodes = sum((v) => v.run)
  return out
}

export const f = (x) => (x == null ? '-' : `${x.toFixed(0)} ms`)
const kib = (b) => (b == null || Number.isNaN(b) ? '-' : `${(b / 1024).toFixed(0)} KiB`)
const mib = (b) => (b == null || Number.isNaN(b) ? '-' : `${(b / 2 ** 20).toFixed(1)} MB`)

// Issue 16 §6: dial → remote ringing p50 ≤ 100 ms (it was ≤ 150 ms before).
const GOAL_RING_MS = 100
const GOAL_AUDIO_MS = 300

/** Print the run: `run` is { supernodes, clients, load0 (load average at the start), whatIf }. */
export function report({ results, idle, inCall, bundle, turnMode, diag, ownCores }, run) {
  const { supernodes: S, clients: C, load0: LOAD0, whatIf } = run
  const ok = results.filter((r) => r.ok)
  const by = (kind) => ok.filter((r) => kind === 'all' || r.kind === kind)
  const xs = (list, key) => list.map((r) => r.m[key]).filter((x) => x != null)
  const triple = (list, key) => {
    const v = xs(list, key)
    return v.length === 0
      ? '-'
      : `${f(pct(v, 50))} / ${f(pct(v, 95))} / ${f(Math.max(...v))}`.padEnd(24)
  }
  const row = (label, key) => [
    label,
    ['all', 'cold', 'warm'].map((k) => triple(by(k), key)).join(' | '),
  ]
  const both = (r) =>
    r.m.audioCaller == null || r.m.audioCallee == null
      ? undefined
      : Math.max(r.m.audioCaller, r.m.audioCallee)
  for (const r of ok) r.m.audioBoth = both(r)

  const cold = results.filter((r) => r.kind === 'cold')
  const warm = results.filter((r) => r.kind === 'warm')
  printTable(`bench:call — ${S + C}-node overlay, UI calls in Chromium`, [
    ['nodes', `${S} supernodes (TURN ${turnModeText(turnMode)}) + ${C} clients with the UI`],
    [
      'calls answered with audio both ways',
      `${ok.length}/${results.length} (cold ${cold.filter((r) => r.ok).length}/${cold.length}, ` +
        `warm ${warm.filter((r) => r.ok).length}/${warm.length})`,
    ],
    ['media path (caller, first call)', ok[0]?.m.path ?? '-'],
    [
      'machine load (1-min load average)',
      `${LOAD0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end, on ${cpus().length} cores`,
    ],
    ['CPU of the bench itself during the calls', `${ownCores.toFixed(2)} cores (nodes + Chromium)`],
    ...(whatIf !== '' ? [['WHAT-IF EXPERIMENT (not the product)', whatIf]] : []),
    ['', 'p50 / p95 / max: all | cold | warm'],
    row('dial → callee rings (screen painted)', 'ringUi'),
    row('dial → callee rings (screen in DOM)', 'ringDom'),
    row('dial → 180 Ringing at the caller', 'ring180'),
    row('dial → caller shows "Ringing…"', 'ringCallerUi'),
    row('answer → 200 OK at the caller', 'answered200'),
    row('answer → caller "In call"', 'answeredUi'),
    row('answer → first audio at the caller', 'audioCaller'),
    row('answer → first audio at the callee', 'audioCallee'),
    row('  caller: remote track unmuted', 'audioCallerUnmute'),
    row('  caller: getStats poll saw packets', 'audioCallerPoll'),
    row('  caller: inferred from stats', 'audioCallerEst'),
    row('  callee: remote track unmuted', 'audioCalleeUnmute'),
    row('  callee: getStats poll saw packets', 'audioCalleePoll'),
    row('  callee: inferred from stats', 'audioCalleeEst'),
    row('answer → audio on both sides', 'audioBoth'),
  ])
  printTable('where the time goes (p50 / p95 / max: all | cold | warm)', [
    ['dial, caller page', ''],
    row('  click → iceServers request', 'dialToIceReq'),
    row('  iceServers round trip', 'iceServersCaller'),
    row('  getUserMedia', 'gumCaller'),
    row('  createOffer + setLocalDescription', 'offer'),
    row('  ICE gathering (until INVITE leaves)', 'gatherCaller'),
    row('  (first relay candidate after SLD)', 'relayCandCaller'),
    row('  = click → INVITE leaves the page', 'dialToInvite'),
    ['overlay and callee', ''],
    row('  INVITE: caller page → callee page', 'inviteRoute'),
    row('  callee UA: INVITE → 180 out', 'calleeUa180'),
    row('  callee: INVITE → incoming screen in DOM', 'calleeRender'),
    row('  callee: DOM → painted', 'calleePaint'),
    row('  callee: long tasks INVITE → painted', 'calleeLongtasks'),
    row('  caller: long tasks click → INVITE', 'callerLongtasks'),
    row('  new AudioContext() (ringback), caller', 'audioContextCaller'),
    row('  new AudioContext() (ringtone), callee', 'audioContextCallee'),
    row('  180: callee page → caller page', 'back180'),
    ['CPU on the dial path, typing the ID → callee rings (main threads, /proc schedstat)', ''],
    row('  window (fill + click + ring, Playwright included)', 'schedWall'),
    row('  caller node: waiting for a CPU', 'schedWaitCallerNode'),
    row('  caller node: on a CPU', 'schedRunCallerNode'),
    row('  callee node: waiting for a CPU', 'schedWaitCalleeNode'),
    row('  callee node: on a CPU', 'schedRunCalleeNode'),
    row('  supernodes: waiting for a CPU', 'schedWaitSupernodes'),
    row('  supernodes: on a CPU', 'schedRunSupernodes'),
    row('  caller page: waiting for a CPU', 'schedWaitCallerPage'),
    row('  caller page: on a CPU', 'schedRunCallerPage'),
    row('  callee page: waiting for a CPU', 'schedWaitCalleePage'),
    row('  callee page: on a CPU', 'schedRunCalleePage'),
    ['answer, callee page', ''],
    row('  click → iceServers request', 'ansToIceReq'),
    row('  iceServers round trip', 'iceServersCallee'),
    row('  getUserMedia', 'gumCallee'),
    row('  setRemote + createAnswer + setLocal', 'answerSdp'),
    row('  ICE gathering (until 200 leaves)', 'gatherCallee'),
    row('  = answer → 200 leaves the page', 'ansTo200Out'),
    row('  200: callee page → caller page', 'back200'),
    ['media (from the answer click)', ''],
    row('  callee ICE connected', 'calleeIceConnected'),
    row('  callee DTLS connected', 'calleeDtls'),
    row('  caller ICE connected', 'callerIceConnected'),
    row('  caller DTLS connected', 'callerDtls'),
  ])

  const dRow = (label, key) => {
    const v = diag.map((x) => x[key])
    return [label, v.length === 0 ? '-' : `${f(pct(v, 50))} / ${f(Math.max(...v))}`]
  }
  printTable(`the overlay alone: control API on ${diag.length} unused pairs (p50 / max)`, [
    dRow('lookup, cold (DHT query)', 'lookupCold'),
    dRow('lookup, cached (= API overhead)', 'lookupWarm'),
    dRow('MESSAGE, record cached, new link', 'messageNewLink'),
    dRow('MESSAGE, warm', 'messageWarm'),
  ])

  const med = (list, key) =>
    pct(
      list.map((x) => x[key]).filter((x) => x != null),
      50,
    )
  const max = (list, key) => {
    const v = list.map((x) => x[key]).filter((x) => x != null && !Number.isNaN(x))
    return v.length === 0 ? undefined : Math.max(...v)
  }
  printTable('footprint', [
    [
      'JS heap used, idle (after GC) p50 / max',
      `${mib(med(idle, 'heapAfterGc'))} / ${mib(max(idle, 'heapAfterGc'))} (${idle.length} pages)`,
    ],
    [
      'JS heap used, idle (no GC) p50 / max',
      `${mib(med(idle, 'heap'))} / ${mib(max(idle, 'heap'))}`,
    ],
    [
      'JS heap used, in call (no GC) p50 / max',
      `${mib(med(inCall, 'heap'))} / ${mib(max(inCall, 'heap'))} (${inCall.length} samples)`,
    ],
    [
      'renderer processes found (CPU-burn match)',
      `${new Set(idle.map((x) => x.pid).filter((x) => x != null)).size} of ${idle.length} pages`,
    ],
    [
      'renderer RSS idle p50 / max',
      `${mib(med(idle, 'rss'))} / ${mib(max(idle, 'rss'))} (PSS ${mib(med(idle, 'pss'))})`,
    ],
    [
      'renderer RSS in call p50 / max',
      `${mib(med(inCall, 'rss'))} / ${mib(max(inCall, 'rss'))} (PSS ${mib(med(inCall, 'pss'))})`,
    ],
    ['dist/ui JS raw / gzip', `${kib(bundle.js)} / ${kib(bundle.jsGz)}`],
    ['dist/ui CSS raw / gzip', `${kib(bundle.css)} / ${kib(bundle.cssGz)}`],
    ['dist/ui total (no source maps) raw / gzip', `${kib(bundle.total)} / ${kib(bundle.totalGz)}`],
  ])

  const verdict = (label, list, key, goal) => {
    const v = pct(xs(list, key), 50)
    return [
      label,
      v == null
        ? 'MISS (no data)'
        : `${v <= goal ? 'PASS' : 'MISS'}: p50 ${f(v)} (goal ≤ ${goal} ms)`,
    ]
  }
  printTable('goals (all calls; cold and warm below)', [
    verdict('dial → remote ringing', ok, 'ringUi', GOAL_RING_MS),
    verdict('  cold', by('cold'), 'ringUi', GOAL_RING_MS),
    verdict('  warm', by('warm'), 'ringUi', GOAL_RING_MS),
    verdict('answer → first audio (both sides)', ok, 'audioBoth', GOAL_AUDIO_MS),
    verdict('  cold', by('cold'), 'audioBoth', GOAL_AUDIO_MS),
    verdict('  warm', by('warm'), 'audioBoth', GOAL_AUDIO_MS),
    ['calls that failed', String(results.length - ok.length)],
  ])
  for (const r of results.filter((x) => !x.ok))
    console.log(`  failed: ${r.caller} → ${r.callee}: ${r.error}`)
}

export function turnModeText(mode) {
  if (mode === 'loopback') return '--turn-port P --turn-host 127.0.0.1'
  if (mode === 'any') return '--turn-port P, bound to 0.0.0.0'
  return 'off'
}
