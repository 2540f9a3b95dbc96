/**
 * The strings of group calls (issue 14 §3), in English; en.ts spreads them
 * into the one table t() reads.
 */
export const enGroupCalls = {
  'groupCall.region': 'Group call',
  'groupCall.title': 'Group call · {count} people',
  'groupCall.add': 'Add to call',
  'groupCall.pick': 'Contact to add',
  'groupCall.invite': 'Invite',
  'groupCall.cancel': 'Cancel',
  'groupCall.noContacts': 'Everyone in your contacts is already in this call.',
  'groupCall.leave': 'Leave call',
  'groupCall.you': 'You',
  'groupCall.member': '{peer} in the call',
  'groupCall.calling': 'Calling…',
  'groupCall.joining': 'Joining…',
  'groupCall.connecting': 'Connecting…',
  'groupCall.connected': 'Connected',
  'groupCall.reconnecting': 'Reconnecting…',
  'groupCall.relayed': 'relayed',
  'groupCall.direct': 'direct',
  'groupCall.full': 'A group call takes at most {max} people.',
  'groupCall.already': '{peer} is already in this call.',
  'groupCall.self': 'You are already in this call.',
  'groupCall.videoOff': 'Video is for group calls of up to {max} people, so your camera is off.',
  'groupCall.cameraFailed': 'The camera could not be turned on ({reason}). Try Camera again.',
  'groupCall.invitation': 'An invitation into a group call of {members}.',
} as const
