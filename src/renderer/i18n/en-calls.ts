/**
 * The strings of calls (the call panel, call failures, the microphone, the
 * call history), in English; en.ts spreads them into the one table t() reads.
 * A failure says what went wrong and what the user can do about it: who to
 * ask, what to change, or what to try instead (issue 12 §4).
 */
export const enCalls = {
  'call.region': 'Call with {peer}',
  'call.dialing': 'Calling…',
  'call.ringing': 'Ringing…',
  'call.connecting': 'Connecting…',
  'call.active': 'In call',
  'call.onHold': 'On hold',
  'call.heldByRemote': '{peer} put the call on hold',
  'call.reconnecting': 'Reconnecting…',
  'call.networkLost':
    'The call with {peer} was lost: your network or theirs changed and the call could not reconnect. Call {peer} again.',
  'call.duration': 'Call duration',
  'call.quality': 'Call quality',
  'call.qualityGrade': 'Quality',
  'call.path': 'Path',
  'call.direct': 'Direct',
  'call.relayed': 'Relayed',
  'call.pathUnknown': 'Finding…',
  'call.rtt': 'Round trip',
  'call.jitter': 'Jitter',
  'call.loss': 'Loss',
  'call.encryption': 'Encryption',
  'call.endToEnd': 'End to end',
  'call.toNode': "To {peer}'s Kaiwa node",
  'call.anchoredPhone':
    "Encrypted to {peer}'s Kaiwa node. From there to {peer}'s SIP phone the audio is not encrypted (plain RTP on {peer}'s computer or local network).",
  'call.mute': 'Mute',
  'call.hold': 'Hold',
  'call.resume': 'Resume',
  'call.keypad': 'Keypad',
  'call.tone': 'Tone {key}',
  'call.tonesSent': 'Tones sent',
  'call.hangup': 'Hang up',
  'call.keyWarning': 'The key of {peer} changed since you added them: verify it in Contacts.',
  'call.alreadyInCall': 'You are already in a call. Hang up first.',
  'call.invalidUserId': '"{input}" is not a user ID. Check the spelling and try again.',
  'call.notConnected': 'Kaiwa is still connecting to your node. Try again in a moment.',
  'call.missed': 'Missed call from {peer}.',
  'call.noSuchUser': 'There is no user "{peer}". Check the user ID and try again.',
  'call.offline':
    '{peer} is offline. Send a message instead: it will be delivered when {peer} is back.',
  'call.timeout': '{peer} could not be reached in time. Check your network and try again.',
  'call.busy': '{peer} is busy. Try again later, or send a message.',
  'call.declined': '{peer} declined the call. Try again later, or send a message.',
  'call.noCommonMedia':
    "{peer}'s phone can't use this call's audio format. Ask {peer} to turn on Opus or G.711 (PCMU/PCMA) in that phone's settings, or to answer in the Kaiwa app.",
  'call.noCommonMediaWhy':
    "{peer}'s phone can't use this call's audio format ({detail}). Ask {peer} to turn on Opus or G.711 (PCMU/PCMA) in that phone's settings, or to answer in the Kaiwa app.",
  'call.noRoute':
    'No path to {peer} right now: their node or the network did not take the call. Try again in a minute, or send a message.',
  'call.noAnswer': '{peer} did not answer. Try again later, or send a message.',
  'call.failedStatus': 'The call to {peer} failed ({status} {reason}). Try again.',
  'call.failedLocal': 'The call failed: {reason}. Try again.',
  'call.answerFailed':
    'The call from {peer} could not be connected ({reason}). Ask {peer} to call again; if it keeps failing, export the logs (Settings → About) and report it.',
  'call.unsupportedOffer':
    '{peer} called from a SIP phone whose audio this app cannot receive ({detail}). Ask {peer} to call from the Kaiwa app, or to update the Kaiwa node that phone uses so it can connect phone calls.',
  'call.unsupportedCodec':
    "{peer}'s phone offered no audio format this app can play ({detail}). Ask {peer} to turn on Opus or G.711 (PCMU/PCMA) in that phone's settings, or to call from the Kaiwa app.",
  'call.holdFailed': 'Hold did not work ({reason}). Try again.',
  'call.dtmfFailed': 'The tone could not be sent ({reason}). Press the key again.',

  'media.denied':
    'Kaiwa may not use your microphone. Allow microphone access for this page in the browser (the icon in the address bar), then call again.',
  'media.missing': 'No microphone found. Connect one, pick it in Settings → Audio, and call again.',
  'media.busy': 'Your microphone is in use by another application. Close it and call again.',

  'calls.title': 'Calls',
  'calls.empty': 'No calls yet. Type a user ID above and press Call.',
  'calls.historyUnavailable':
    'The call history could not be loaded from the node; showing this session only. Kaiwa tries again each time you open Calls.',
  'calls.incoming': 'Incoming',
  'calls.outgoing': 'Outgoing',
  'calls.answered': 'Answered',
  'calls.missedOutcome': 'Missed',
  'calls.declined': 'Declined',
  'calls.failed': 'Failed',
  'calls.cancelled': 'Cancelled',
  'calls.anchoredPhone': "SIP phone, encrypted to {peer}'s node only",
} as const
