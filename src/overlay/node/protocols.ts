/**
 * The overlay's protocol names in one place, so that services and the libp2p
 * factory agree without importing each other.
 */

/** Kaiwa's own DHT, so a node never joins (or pollutes) IPFS's `/ipfs/kad/1.0.0`. */
export const KAIWA_DHT_PROTOCOL = '/kaiwa/kad/1.0.0'
export const KAIWA_PROTOCOL_PREFIX = 'kaiwa'
export const KAIWA_MDNS_TAG = '_kaiwa-discovery._udp.local'
