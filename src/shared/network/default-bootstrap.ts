/**
 * The project-wide default bootstrap list: supernodes every `kaiwa node` and
 * desktop app dials in addition to `--bootstrap`, the config file's list and
 * the peers saved from invites (settings `bootstrap`).
 *
 * It is empty on purpose: Kaiwa runs no network of its own, so a fresh node
 * joins nothing until its user is given a way in (an invite link, `--join`,
 * `--bootstrap`) or starts a network (`--supernode on`). A distribution that
 * runs supernodes for its users puts their multiaddrs here, each with its
 * `/p2p/<peer id>` (an address without one cannot be authenticated), and
 * rebuilds; see README "Joining a network".
 */
export const DEFAULT_BOOTSTRAP: readonly string[] = []

/** `lists` merged in order, without repeats (the first occurrence wins). */
export function mergeBootstrap(...lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())]
}
