/** Kaiwa's version, shown in About and `kaiwa status`; a test keeps it equal to package.json's. */
export const KAIWA_VERSION = '0.1.0'
