/**
 * `kaiwa` command entry. `kaiwa node` runs a node in the foreground and prints
 * exactly one JSON ready line on stdout; the other commands talk to a running
 * node through its control API (127.0.0.1 + bearer token from the data dir).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KaiwaError } from '../../shared/errors.js'
import { createApiClient, ApiCallError } from '../api/api-client.js'
import { startApiServer } from '../api/api-server.js'
import type { ApiServer } from '../api/api-server.js'
import {
  loadOrCreateApiToken,
  readApiEndpoint,
  removeApiEndpoint,
  writeApiEndpoint,
} from '../api/api-token.js'
import { startKaiwaNode } from '../kaiwa-node.js'
import type { KaiwaNode } from '../kaiwa-node.js'
import { createStderrLogger, redactingLogger } from '../logger.js'
import type { RedactingLogger } from '../logger.js'
import type { Logger } from '../../shared/logger.js'
import { parseCommand, USAGE, UsageError } from './args.js'
import { sendFile } from './send-file.js'
import { groupCli } from './group-cli.js'
import { deviceCli } from './device-cli.js'
import type { ClientCommand, NodeCommand } from './args.js'
import { resolveNodeConfig } from './node-config.js'
import { createStaticUi, findUiDir } from '../api/static-ui.js'
import { createFileRoutes, dropStagedUpload } from '../api/file-routes.js'
import type { FileTransferJson } from '../../shared/api/contract.js'
import { nodeEvents } from '../node-events.js'
import { startMetricsServer } from '../api/metrics-server.js'
import { collectNodeMetrics } from '../node-metrics.js'
import { openInviteLink } from '../../shared/invite/invite-link.js'
import { mergeBootstrap } from '../../shared/network/default-bootstrap.js'
import { startNoSupernodeNotice } from '../no-supernode-notice.js'
import { lanPeerCount } from '../../overlay/names/lan-scope.js'
import { SIP_PASSWORD_FILE } from '../../overlay/sip/gateway/sip-password.js'

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'group') return groupCli(argv.slice(1))
  if (argv[0] === 'device') return deviceCli(argv.slice(1))
  let cmd
  try {
    cmd = parseCommand(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`kaiwa: ${err.message}\n\n${USAGE}`)
      return 2
    }
    throw err
  }
  try {
    switch (cmd.command) {
      case 'help':
        process.stdout.write(USAGE)
        return 0
      case 'node':
        return await runNode(cmd)
      default:
        return await runClient(cmd)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`kaiwa: ${err.message}\n\n${USAGE}`)
      return 2
    }
    process.stderr.write(`kaiwa: ${describe(err)}\n`)
    return 1
  }
}

async function runNode(cmd: NodeCommand): Promise<number> {
  const config = await resolveNodeConfig(cmd)
  // A changed or expired invite is refused before anything starts.
  const invite = cmd.join != null ? await openInviteLink(cmd.join, Date.now()) : undefined
  if (invite != null) config.bootstrap = mergeBootstrap(config.bootstrap, invite.supernodes)
  const log = redactingLogger(createStderrLogger(cmd.logLevel))
  if (config.sipPassword != null) log.addSecret(config.sipPassword)
  const node = await startKaiwaNode({ dataDir: cmd.dataDir, ...config, name: cmd.name, log })
  await registerSecrets(log, node.dataDir)
  const server = await startControlApi(node, cmd, log)
  const stopNotice = startNoSupernodeNotice({
    role: () => node.role(),
    supernodes: () => node.supernodes.connected(),
    lanPeers: () => lanPeerCount(node.libp2p()),
    log,
  })
  // In the background: the lookup of the inviting user may wait for the DHT to fill.
  if (cmd.join != null) void joinAtStart(node, cmd.join, log)
  const metrics =
    cmd.metricsPort != null
      ? await startMetricsServer({
          port: cmd.metricsPort,
          token: await loadOrCreateApiToken(node.dataDir),
          collect: () => collectNodeMetrics(node),
          log: (m) => log.warn(m),
        }).catch(async (err: unknown) => {
          await server.close().catch(() => {})
          await node.stop().catch(() => {})
          throw new KaiwaError(
            `cannot serve metrics on 127.0.0.1:${cmd.metricsPort} (${String(err)}); ` +
              'choose another --metrics-port',
          )
        })
      : undefined
  const { name } = await node.settings.get()
  // The fragment never reaches a server or a log: the page reads the token and drops it.
  const ui = cmd.ui ? `${server.url}/#token=${await loadOrCreateApiToken(node.dataDir)}` : undefined
  const sipAddr = node.sip.gatewayAddress()
  process.stdout.write(
    JSON.stringify({
      event: 'ready',
      peerId: node.peerId,
      addrs: node.addrs().map((a) => a.toString()),
      role: node.role(),
      api: server.url,
      ...(ui != null ? { ui } : {}),
      ...(metrics != null ? { metrics: metrics.url } : {}),
      ...(sipAddr != null ? { sip: sipAddr } : {}),
      name,
      dataDir: node.dataDir,
    }) + '\n',
  )
  log.info(
    `node ${node.peerId} is up as ${node.role()}; control API at ${server.url}` +
      (sipAddr != null ? `; SIP gateway at ${sipAddr}` : ''),
  )
  // The "ui" address carries the token, so it goes only to stdout (the ready line), never the log.
  if (ui != null) {
    log.info(
      `the UI is served at ${server.url}; open the "ui" address of the ready line ` +
        '(it logs the page in) in a browser on this machine',
    )
  }

  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      log.info(`${signal}: shutting down`)
      void (async () => {
        stopNotice()
        await server.close().catch(() => {})
        await metrics?.close().catch(() => {})
        await removeApiEndpoint(node.dataDir).catch(() => {})
        await node.stop().catch((err) => log.error(`stop failed: ${String(err)}`))
        resolve()
      })()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  return 0
}

/**
 * `--join`: save the invite's supernodes, pin its user. The node keeps
 * running if the user cannot be looked up yet (the supernodes are saved; add
 * the contact later from the link).
 */
async function joinAtStart(node: KaiwaNode, link: string, log: Logger): Promise<void> {
  try {
    const joined = await node.api.joinInvite({ link })
    log.info(
      `joined ${joined.name}'s network through ${joined.connected} of ` +
        `${joined.supernodes.length} supernodes; ${joined.name} is a contact with key ` +
        joined.fingerprint,
    )
  } catch (err) {
    log.warn(`--join: ${describe(err)}`)
  }
}

/**
 * Lets the logger blank out the node's secrets should any line ever carry
 * one: the API token and the generated SIP password (a --sip-password given
 * on the command line was registered before start).
 */
async function registerSecrets(log: RedactingLogger, dataDir: string): Promise<void> {
  log.addSecret(await loadOrCreateApiToken(dataDir))
  const sip = await readFile(join(dataDir, SIP_PASSWORD_FILE), 'utf8').catch(() => '')
  if (sip.trim() !== '') log.addSecret(sip.trim())
}

/** The control API for `node`, announced in DIR/api.json. On failure the node is stopped cleanly. */
async function startControlApi(node: KaiwaNode, cmd: NodeCommand, log: Logger): Promise<ApiServer> {
  let server: ApiServer | undefined
  try {
    const token = await loadOrCreateApiToken(node.dataDir)
    let port = 0
    const staticHandler = cmd.ui ? await createStaticUi(await findUiDir(), () => port) : undefined
    const events = nodeEvents(node)
    const stagingDir = join(node.dataDir, 'uploads')
    keepStagingTidy(node, stagingDir, log)
    server = await startApiServer({
      port: cmd.apiPort,
      token,
      api: node.api,
      events,
      ...(staticHandler != null ? { staticHandler } : {}),
      sip: node.sip.router,
      routes: createFileRoutes({
        stagingDir,
        maxBytes: async () => ((await node.api.settings({})).files?.maxMiB ?? 4096) * 1048576,
        view: (id) => node.files.view(id),
        log: (m) => log.child('api').info(m),
      }),
      log: (m) => log.child('api').info(m),
    })
    port = server.port
    await writeApiEndpoint(node.dataDir, { url: server.url, pid: process.pid })
    return server
  } catch (err) {
    await server?.close().catch(() => {})
    await node.stop().catch((e) => log.error(`stop failed: ${String(e)}`))
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new KaiwaError(
        `the control API port ${cmd.apiPort} on 127.0.0.1 is already in use; ` +
          'pass a different --api-port, or --api-port 0 for any free port',
      )
    }
    throw err
  }
}

/** Files the UI uploaded are removed once their transfer is over (now, and as each ends). */
function keepStagingTidy(node: KaiwaNode, stagingDir: string, log: Logger): void {
  const drop = (t: FileTransferJson): void =>
    void dropStagedUpload(stagingDir, t).catch((err: Error) =>
      log.child('api').warn(`could not remove an uploaded copy: ${err.message}`),
    )
  node.files.onChange((id) => void node.files.view(id).then(drop, () => {}))
  void node.files.list().then(
    (all) => all.forEach(drop),
    () => {},
  )
}

async function runClient(cmd: ClientCommand): Promise<number> {
  const endpoint = await readApiEndpoint(cmd.dataDir)
  const token = (await readFile(`${cmd.dataDir}/api-token`, 'utf8')).trim()
  const api = createApiClient({ url: endpoint.url, token })
  try {
    if (cmd.command === 'status') print(await api.status({}))
    else if (cmd.command === 'claim') print(await api.claim({ name: cmd.name! }))
    else if (cmd.command === 'inbox') print((await api.inbox({})).messages)
    else if (cmd.command === 'turn-credentials') print(await api.turnCredentials({}))
    else if (cmd.command === 'invite') process.stdout.write(`${(await api.invite({})).link}\n`)
    else if (cmd.command === 'send-file') return await sendFile(api, cmd.name!, cmd.path!)
    else if (cmd.command === 'files') print((await api.files({})).files)
    else if (cmd.command === 'message') {
      const res = await api.message({ to: cmd.name!, text: cmd.text! })
      process.stdout.write(
        res.status === 'delivered'
          ? `delivered to ${cmd.name} (${res.code} ${res.reason})\n`
          : `stored for later delivery: ${cmd.name} is offline (${res.code} ${res.reason})\n`,
      )
    } else print((await api.lookup({ name: cmd.name! })).record)
    return 0
  } catch (err) {
    if (cmd.command === 'lookup' && err instanceof ApiCallError && err.status === 404) {
      process.stderr.write(`kaiwa: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

function describe(err: unknown): string {
  if (err instanceof KaiwaError || err instanceof ApiCallError) return err.message
  if (err instanceof Error) return `${err.name}: ${err.message}`
  return String(err)
}
