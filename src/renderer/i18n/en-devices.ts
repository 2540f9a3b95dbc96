/** Settings → Devices' strings (issue 15 §3), spread into en.ts. */
export const enDevices = {
  'devices.title': 'Devices',
  'devices.help':
    'Every device restored from your backup is one more device of your account: messages, read state and contacts follow you across them.',
  'devices.thisDevice': 'this device',
  'devices.online': 'online',
  'devices.away': 'away (last seen {lastSeen})',
  'devices.removed': 'removed',
  'devices.remove': 'Remove',
  'devices.removeLabel': 'Remove device {id}',
  'devices.confirm':
    'Remove it? Your other devices stop syncing with it and your record stops listing it.',
  'devices.removeNow': 'Remove device',
  'devices.keep': 'Keep it',
  'devices.failed': 'That did not work: {reason}',
} as const
