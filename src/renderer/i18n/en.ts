/**
 * Every string the UI shows, in English. Keys are `area.what`; `{name}`
 * marks a value filled in by t(). Sentences that report a problem say what
 * to do next. Calls and video have their own tables (en-calls.ts,
 * en-video.ts), spread in here.
 */
import { enCalls } from './en-calls.js'
import { enVideo } from './en-video.js'
import { enGroups } from './en-groups.js'
import { enGroupCalls } from './en-group-calls.js'
import { enFiles } from './en-files.js'
import { enDevices } from './en-devices.js'

export const en = {
  ...enCalls,
  ...enVideo,
  ...enGroups,
  ...enGroupCalls,
  ...enFiles,
  ...enDevices,
  'app.name': 'Kaiwa',

  'start.title': 'Connecting to your Kaiwa node…',
  'start.body': 'One moment.',
  'start.failed':
    'Your Kaiwa node does not answer yet ({reason}). Check that `kaiwa node --ui` is still running; this page keeps trying.',
  'start.noTokenTitle': 'Open Kaiwa from its link',
  'start.noToken':
    'This page needs the access token that `kaiwa node --ui` prints in its "ui" address. Open that address (it ends in #token=…) in this browser.',
  'start.unauthorizedTitle': 'The node refused this page',
  'start.unauthorized':
    'The access token is wrong or out of date (the node may have a new one). Open the "ui" address that `kaiwa node --ui` printed again.',

  'firstRun.title': 'Welcome to Kaiwa',
  'firstRun.intro':
    'Call and chat with anyone by user ID, with no server in the middle. Choose the user ID people will reach you at.',
  'firstRun.claimTitle': 'Create your account',
  'firstRun.nameLabel': 'Choose your user ID',
  'firstRun.rule': "3–32 characters: a–z, 0–9, '.', '_' or '-'.",
  'firstRun.checking': 'Checking whether {name} is free…',
  'firstRun.available': '{name} is available.',
  'firstRun.taken': '{name} is taken by someone else. Try another user ID.',
  'firstRun.yours': '{name} already belongs to this account.',
  'firstRun.unknown': 'Could not check right now ({reason}). You can still try to claim it.',
  'firstRun.invalid':
    "That is not a valid user ID: use 3–32 characters of a–z, 0–9, '.', '_' or '-'.",
  'firstRun.noPeers':
    'Your node is not connected to the Kaiwa network yet, so nobody can confirm the claim. Wait a moment and try again, or check its --bootstrap setting.',
  'firstRun.timeout': 'The network did not answer in time. Try again.',
  'firstRun.claimFailed': 'Claiming failed: {reason}. Try again.',
  'firstRun.claim': 'Claim',
  'firstRun.claiming': 'Claiming…',
  'firstRun.backupTitle': '{name} is yours. Back it up now',
  'firstRun.continue': 'Continue',

  'restore.title': 'I already have an account: restore from a backup',
  'restore.file': 'Backup file',
  'restore.submit': 'Restore',
  'restore.working': 'Restoring…',
  'restore.badFile':
    'This file is not a Kaiwa backup, or the passphrase is wrong. Check both and try again.',
  'restore.conflict':
    'This node already has a user ID. Restore a backup only on a new installation (an empty data directory).',
  'restore.failed':
    'Restoring failed: {reason}. Check the backup file and the passphrase, and try again.',
  'restore.needsName': 'Account restored. It has no user ID yet: claim one above.',

  'backup.help':
    'The backup holds your account key, encrypted with a passphrase. Without it, a lost device means a lost user ID. Keep the file and the passphrase in different places.',
  'backup.passphrase': 'Passphrase',
  'backup.again': 'Passphrase again',
  'backup.tooShort': 'Use a passphrase of at least {n} characters.',
  'backup.mismatch': 'The two passphrases differ. Type the same one twice.',
  'backup.download': 'Download backup',
  'backup.working': 'Encrypting…',
  'backup.saved': 'Backup saved to your downloads. Keep it somewhere safe.',
  'backup.failed': 'The backup could not be made: {reason}. Try again.',
  'backup.later': 'Later',

  'nav.label': 'Sections',
  'nav.contacts': 'Contacts',
  'nav.messages': 'Messages',
  'nav.calls': 'Calls',
  'nav.settings': 'Settings',
  'nav.unread': '{count} unread',

  'self.online': 'Online',
  'self.connecting': 'Connecting…',
  'theme.toggle': 'Dark theme',
  'theme.label': 'Theme',
  'theme.system': 'Same as the system',
  'theme.light': 'Light',
  'theme.dark': 'Dark',

  'dial.label': 'Call or chat by user ID',
  'dial.userId': 'User ID',
  'dial.placeholder': 'User ID, e.g. alice',
  'dial.call': 'Call',
  'dial.chat': 'Chat',
  'dial.invalid': "\"{input}\" is not a user ID: use 3–32 characters of a–z, 0–9, '.', '_' or '-'.",

  'banner.nodeLost':
    'Lost the connection to your Kaiwa node. Reconnecting… If this lasts, check that `kaiwa node` is still running.',
  'banner.sipOffline':
    'Calls and live messages are paused while Kaiwa reconnects to your node. Messages you send are still delivered by the node.',
  'banner.lanOnly':
    'LAN-only network: no supernode, {n} LAN peer(s). You can message and call the people on this LAN. A user ID claimed here is first come among them, and is checked again when your node reaches a Kaiwa network (it may be taken there). To reach anyone else, use "Join with an invite" in Settings → Network.',
  'banner.noSupernode':
    'Not on a Kaiwa network: your node is connected to no supernode, so nobody can find or call you. Ask someone on the network for an invite link and use "Join with an invite" in Settings → Network, or start a new network there.',

  'common.dismiss': 'Dismiss',
  'common.close': 'Close',
  'common.cancel': 'Cancel',

  'incoming.title': 'Incoming call',
  'incoming.body': '{peer} is calling',
  'incoming.answer': 'Answer',
  'incoming.decline': 'Decline',
  'incoming.verified': 'Verified: the key you trusted',
  'incoming.firstCall': 'First call from {peer}. Key {fp}: compare it with {peer} another way.',
  'incoming.notWhoYouKnow':
    'This caller is not the {peer} you know: the key is different ({fp}). Do not trust this call until you have compared keys with {peer} another way.',
  'messages.firstContact': 'First message from this key: {fp}',

  'quality.good': 'Good',
  'quality.fair': 'Fair',
  'quality.poor': 'Poor',
  'quality.unknown': 'Measuring…',
  'unit.ms': '{n} ms',
  'unit.percent': '{n} %',
  'unit.kbps': '{n} kbit/s',

  'notify.incomingTitle': 'Incoming call',
  'notify.incomingBody': '{peer} is calling you on Kaiwa',
  'notify.missedTitle': 'Missed call',
  'notify.messageTitle': 'Message from {peer}',

  'contacts.title': 'Contacts',
  'contacts.add': 'Add contact',
  'contacts.share': 'Share my ID',
  'contacts.shareTitle': 'Your user ID',
  'contacts.empty':
    'No contacts yet. Add one by user ID or by the kaiwa: link a friend shared, or share yours.',
  'contacts.unavailable': 'Contacts could not be loaded ({reason}). Kaiwa tries again shortly.',
  'contacts.pinnedKey': 'Pinned key',
  'contacts.dial': 'Dial',
  'contacts.dialName': 'Dial {name}',
  'contacts.messages': 'Messages',
  'contacts.messagesWith': 'Messages with {name}',
  'contacts.remove': 'Remove',
  'contacts.removeName': 'Remove {name}',
  'contacts.removeTitle': 'Remove {name}?',
  'contacts.removeBody':
    'The pinned key of {name} is forgotten. Your messages and call history stay.',
  'contacts.removeConfirm': 'Remove',
  'contacts.removeFailed': '{name} could not be removed ({reason}). Try again.',
  'contacts.keyChangedTitle': 'Warning: the key of {name} has changed',
  'contacts.keyChangedBody':
    'The network now shows a different key for {name} ({current}) than the one you trusted ({pinned}). This happens when {name} reinstalls Kaiwa without a backup, but it can also mean someone is impersonating {name}. Compare the new key with {name} in person or over another channel before you trust it.',
  'contacts.trust': 'Trust new key',
  'contacts.trustFailed': 'The new key of {name} could not be trusted ({reason}). Try again.',
  'contacts.invalidUserId':
    "\"{input}\" is neither a user ID nor a kaiwa: link. User IDs are 3–32 characters of a–z, 0–9, '.', '_' or '-'.",
  'contacts.invalidFingerprint':
    'The key fingerprint in that link is damaged. Ask for the link again, or add the user ID alone.',
  'contacts.notFound':
    'There is no user "{name}" on the network. Check the spelling, or ask {name} whether they are online.',
  'contacts.fingerprintMismatch':
    'The key of {name} on the network does not match the link. Someone may be impersonating {name}: do not add it until {name} confirms the key.',
  'contacts.noPeers': 'Your node is not connected to the network yet. Try again in a moment.',
  'contacts.addFailed': '{name} could not be added ({reason}). Try again.',

  'addContact.title': 'Add a contact',
  'addContact.label': 'Contact',
  'addContact.placeholder': 'alice, or kaiwa:alice#abcd-…',
  'addContact.help':
    'Type their user ID, or paste the kaiwa: link they shared. A link with a key fingerprint is checked against the network.',
  'addContact.submit': 'Add',
  'addContact.adding': 'Adding…',

  'card.qr': 'QR code of the link to {name}',
  'card.help': 'Share this link or let someone scan the code to add you.',
  'card.copy': 'Copy link',
  'card.copied': 'Copied',
  'card.fingerprint': 'Key fingerprint',

  'presence.online': 'Online',
  'presence.lastSeen': 'Last seen {ago}',
  'presence.unknown': 'Not seen on the network',
  'time.justNow': 'just now',
  'time.minutesAgo': '{n} min ago',
  'time.hoursAgo': '{n} h ago',

  'messages.title': 'Messages',
  'messages.empty': 'No conversations yet. Type a user ID above and press Chat.',
  'messages.pick': 'Choose a conversation, or type a user ID above and press Chat.',
  'messages.itemUnread': '{peer}, {count} unread',
  'messages.you': 'You: ',
  'messages.with': 'Conversation with {peer}',
  'messages.none': 'No messages with {peer} yet. Say hello.',
  'messages.keyChanged': 'Key changed',
  'messages.message': 'Message',
  'messages.placeholder': 'Message {peer} (Enter sends, Shift+Enter for a new line)',
  'messages.send': 'Send',

  'status.sending': 'Sending…',
  'status.delivered': 'Delivered',
  'status.stored': 'Stored for later',
  'status.failed': 'Not sent',

  'chat.stored': '{peer} is offline; the message will be delivered when {peer} is back.',
  'chat.noSuchUser': 'There is no user "{peer}". Check the user ID.',
  'chat.unreachable':
    '{peer} is unreachable and no supernode could keep the message. Try again later.',
  'chat.timeout': 'The network did not answer in time. Check your connection and send again.',
  'chat.tooLong': 'The message is too long. Split it and send again.',
  'chat.failed': 'Not sent ({status} {reason}). Try again.',
  'chat.failedOther': 'Not sent: {reason}. Try again.',
  'chat.failedNode': 'Not sent ({status}). Try again.',
  'chat.listUnavailable':
    'Conversations could not be loaded ({reason}). Kaiwa tries again shortly.',
  'chat.historyUnavailable':
    'Earlier messages could not be loaded ({reason}). Open the conversation again to retry.',

  'settings.title': 'Settings',
  'settings.audio': 'Audio',
  'settings.microphone': 'Microphone',
  'settings.speaker': 'Speaker',
  'settings.systemDefault': 'System default',
  'settings.micN': 'Microphone {n}',
  'settings.speakerN': 'Speaker {n}',
  'settings.deviceMissing':
    'The chosen device is not connected; the system default is used until it is back.',
  'settings.noSinkSelection': 'This browser plays calls on the system default speaker only.',
  'settings.labelsHidden': 'Device names are hidden until Kaiwa may use the microphone.',
  'settings.allowMic': 'Show device names',
  'settings.deviceError':
    'Audio devices could not be listed ({reason}). Allow microphone access for this page, then reload it.',
  'settings.processing': 'Echo cancellation, noise suppression and automatic gain are always on.',
  'settings.appearance': 'Appearance and notifications',
  'settings.notifications': 'Notifications',
  'settings.notificationsOn': 'On: incoming calls and messages show a notification.',
  'settings.notificationsDenied':
    'Blocked by the browser. Allow notifications for this page in the browser settings to see incoming calls while Kaiwa is in the background.',
  'settings.enableNotifications': 'Turn on notifications',
  'settings.saveFailed': 'The setting was not saved ({reason}). Try again.',

  'supernode.title': 'Supernode',
  'supernode.intro':
    "Supernodes keep the network running: they store the directory, relay calls for people behind strict firewalls (TURN, on port 3478) and keep messages for people who are offline. Serving is opt-in, and it costs: upload and download bandwidth for every relayed call (up to the relay cap below), disk space for others' records and messages (up to the storage cap), and a computer that stays on. Your own calls and messages work the same either way.",
  'supernode.mode': 'Help the network',
  'supernode.off': 'Off',
  'supernode.offHelp':
    'The default. Never serve others: no relaying, no storage for others. Best on metered, slow or battery-powered connections.',
  'supernode.auto': 'Automatic',
  'supernode.autoHelp':
    'You opt in; the network decides: serve others (relay calls, store records and messages) when this computer is publicly reachable and the network needs it. It never starts a network on its own.',
  'supernode.on': 'On',
  'supernode.onHelp':
    'Always serve others, within the caps below: relaying calls with TURN, storing the directory and offline messages. Needed to start a new network.',
  'supernode.usage': 'What this node does for others',
  'supernode.noUsage': 'No figures yet.',
  'supernode.role': 'Role now',
  'supernode.bytesRelayed': 'Relayed in total',
  'supernode.relayRate': 'Relaying now',
  'supernode.relayedCalls': 'Relayed calls',
  'supernode.peersServed': 'Peers served',
  'supernode.recordsStored': 'Records stored',
  'supernode.mailbox': 'Mailbox',
  'supernode.mailboxValue': '{count} messages, {size}',
  'supernode.caps': 'Caps',
  'supernode.capRelay': 'Relay bandwidth (kbit/s)',
  'supernode.capCalls': 'Relayed calls at once',
  'supernode.capStorage': 'Storage for others (MiB)',
  'supernode.capsHelp': '0 turns that service off.',
  'supernode.saveCaps': 'Save caps',

  'role.client': 'Client',
  'role.supernode': 'Supernode',

  'network.title': 'Network',
  'join.title': 'Join with an invite',
  'join.help':
    'Paste the invite link someone on a Kaiwa network gave you (it starts with kaiwa: and contains ?invite=). Your node saves its supernodes and adds that person to your contacts.',
  'join.label': 'Invite link',
  'join.submit': 'Join',
  'join.working': 'Joining…',
  'join.done':
    "Joined {name}'s network through {connected} supernode(s); {name} is in your contacts.",
  'join.empty': 'Paste an invite link first.',
  'join.notInvite':
    'That is a contact link, not an invite: it does not say how to reach a network. Ask for an invite link (kaiwa invite, or "Create an invite link" in the app).',
  'join.malformed': 'That link is incomplete or damaged. Copy the whole invite link again.',
  'join.tampered':
    'That invite was changed after it was made ({reason}), so it is refused. Ask for a new one.',
  'join.expired': 'That invite has expired. Ask for a new one.',
  'join.failed':
    'Joining failed: {reason}. Try again; if it keeps failing, ask for a new invite link.',
  'join.startTitle': 'Start a new network',
  'join.startHelp':
    'Only if you are the first: this computer becomes a supernode (it relays calls with TURN, stores the directory and offline messages for others, and should stay on), and others join through your invite link.',
  'join.start': 'Start a new network',
  'join.started': 'This node now serves as a supernode: claim your user ID, then invite others.',
  'invite.title': 'Invite someone',
  'invite.help':
    'An invite link lets someone join this network and adds you to their contacts with your key. It lists a few supernodes and is signed with your account key; it expires in a week.',
  'invite.create': 'Create an invite link',
  'invite.qr': 'QR code of your invite link',
  'invite.expires': 'Valid until {date}.',
  'invite.failed': 'No invite yet: {reason}. Try again in a moment.',
  'network.noStatus': 'Waiting for the node…',
  'network.role': 'Role',
  'network.reachability': 'Reachability',
  'network.public': 'Public',
  'network.private': 'Behind a NAT or firewall',
  'network.unknown': 'Not known yet',
  'network.supernodes': 'Connected supernodes',
  'network.peers': 'Peers',
  'network.records': 'Records held',
  'network.sip': 'Calls and messages',
  'network.sipRegistered': 'Ready',
  'network.sipOffline': 'Reconnecting…',
  'network.uptime': 'Node running for',
  'network.details': 'Details',
  'network.supernodeList': 'Supernodes',
  'network.none': 'None',
  'network.addresses': 'Listening addresses',
  'network.gateway': 'SIP gateway for desk phones',
  'network.gatewayHelp':
    'Point a standard SIP phone at {address} (domain {domain}, user {user}) to use this account from it.',

  'account.title': 'Account',
  'account.backup': 'Back up account',
  'account.backupTitle': 'Back up your account',

  'about.title': 'About',
  'about.dataDir': 'Data directory',
  'about.exportLogs': 'Export logs',
  'about.logsFailed': 'The logs could not be exported ({reason}). Try again.',
} as const
