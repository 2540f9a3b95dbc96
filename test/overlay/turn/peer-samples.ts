/** Peer addresses for the TURN peer policy tests (peer-policy.ts). */

/**
 * One IPv4 address (two for the wider blocks, at both ends) in each range the policy refuses by
 * default. Tests only ever ask for permissions to these; nothing is sent to them.
 */
export const DENIED_SAMPLES: readonly string[] = [
  '0.1.2.3',
  '10.0.0.1',
  '10.255.255.254',
  '100.64.0.1',
  '100.127.255.254',
  '169.254.1.1',
  '169.254.169.254',
  '172.16.0.1',
  '172.31.255.254',
  '192.0.0.8',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.1.1',
  '198.18.0.1',
  '198.19.255.254',
  '198.51.100.1',
  '203.0.113.5',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
]
