// Running a node (`npm start`): opens the data directory and the database, sets the node up on
// its first start (app/setup.ts), serves the HTTP app, runs the delivery worker, the registry
// sync and the removal of files left by interrupted requests (app/files.ts), and shuts down
// gracefully on SIGTERM/SIGINT: it stops accepting connections (and answers 503 on /readyz),
// lets requests and deliveries in flight finish, then closes the database. Logs are JSON lines (pino) on stdout; the first start's tokens are printed for people
// on stdout too, but never logged.
import { realpathSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import pino, { type Logger } from "pino";
import {
  AppError,
  SetupError,
  firstStart,
  listRegistry,
  markDraining,
  openContext,
  startDeliveryWorker,
  startAuditChain,
  startOrphanSweep,
  loadConfig,
  startRegistrySync,
  startVdxpBridge,
  syncSource,
  watchTrustChanges,
  startTimestampJob,
  type AppContext,
  type BootstrapResult,
  type RegistrySync,
} from "../app/index.ts";
import { createApp } from "./app.ts";

export interface RunningNode {
  node: AppContext;
  server: Server;
  /** The URL the node listens at (its public URL). */
  url: string;
  bootstrap: BootstrapResult;
  sync: RegistrySync | null;
  /** Graceful: stop accepting, finish what is in flight (at most the grace period), close the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the first start's URL and tokens are printed (default stdout). */
  out?: { write(text: string): unknown };
  log?: Logger;
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? new AppError("invalid", `port ${port} is already in use: stop the other program or set PORT`) : err);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Starts a node from the environment (the contract's variables; see README "Running a node"). */
export async function startNode(opts: StartOptions = {}): Promise<RunningNode> {
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stdout;
  const config = loadConfig(env);
  const syncConfig = syncSource(config); // fails before anything is created when set wrongly
  const log = opts.log ?? pino({ level: config.logLevel, base: { node: config.publicUrl } });
  const node = await openContext(config, log);
  let server: Server | undefined;
  try {
    const app = createApp(node);
    server = createServer({ requestTimeout: config.requestTimeoutMs, headersTimeout: 60_000 }, app);
    const host = config.listenHost;
    await listen(server, config.port, host);
    const port = (server.address() as AddressInfo).port;
    if (config.port === 0 && !config.publicUrlSet) {
      // PORT=0 (tests): a free port, known only now
      const h = !host || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
      config.publicUrl = `http://${h}:${port}`;
    }

    const bootstrap = await firstStart(node, config.firstAgency);
    const banner = bootstrapBanner(bootstrap, (await listRegistry(node)).filter((a) => a.local).length);

    const stopSweep = await startOrphanSweep(node);
    const worker = startDeliveryWorker(node);
    const stopAuditChain = startAuditChain(node);
    const sync = syncConfig ? startRegistrySync(node, syncConfig) : null;
    if (syncConfig) log.info({ source: syncConfig.url, everyMs: syncConfig.intervalMs }, "registry sync started");
    const axle = config.vdxp ? startVdxpBridge(node) : null;
    if (config.vdxp) log.info({ hub: config.vdxp.endpoint, systemId: config.vdxp.systemId, everyMs: config.vdxp.pollMs }, "national axle bridge started");
    const unwatch = watchTrustChanges(node, config.trustRefreshMs);
    const stopStamps = startTimestampJob(node);
    if (config.tsa) log.info({ tsa: config.tsa.url, retryMs: config.tsa.retryMs }, "packets and status packets are time-stamped (B-T)");

    const graceMs = config.shutdownGraceMs;
    let stopping: Promise<void> | null = null;
    const srv = server;
    const stop = () =>
      (stopping ??= (async () => {
        markDraining(node);
        unwatch();
        stopStamps();
        stopSweep();
        const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
        srv.closeIdleConnections();
        const force = setTimeout(() => {
          log.warn(`requests still running after ${graceMs} ms: closing their connections`);
          srv.closeAllConnections();
        }, graceMs);
        force.unref();
        await Promise.all([
          closed,
          sync?.stop(),
          axle?.stop(),
          worker.stop().catch((err) => log.error({ err }, "the delivery worker did not stop cleanly")),
        ]);
        await stopAuditChain();
        clearTimeout(force);
        await node.close();
      })());
    // said last: whoever waits for it (a supervisor, a test) may stop the node from then on
    out.write(banner);
    log.info(
      { url: config.publicUrl, port, database: node.storage.dialect, dataDir: config.dataDir, firstStart: bootstrap.created, organId: bootstrap.organId },
      bootstrap.created ? "first start: created the development agency and two API tokens (printed on the console, not logged)" : "node started",
    );
    for (const w of bootstrap.warnings) log.warn(w);
    return { node, server, url: config.publicUrl, bootstrap, sync, stop };
  } catch (err) {
    server?.close();
    await node.close().catch(() => {});
    throw err;
  }
}

/** What `npm start` prints for people (not a log line: the tokens must not end up in log files). */
export function bootstrapBanner(r: BootstrapResult, agencies: number): string {
  const lines = [``, `edoc node at ${r.url}`];
  if (r.created && r.tokens) {
    lines.push(
      `  first start: created the development agency ${r.organId} "${r.name}"`,
      `  with a certificate from this node's DEVELOPMENT-ONLY CA (${r.devCaPath}).`,
      ``,
      `  API tokens, shown only this once (only their hashes are stored):`,
      `    admin token: ${r.tokens.admin}`,
      `    clerk token: ${r.tokens.clerk}`,
      ``,
      `  try: curl -H "Authorization: Bearer <clerk token>" ${r.url}/api/v1/agencies`,
    );
  } else {
    lines.push(`  ${agencies} local agenc${agencies === 1 ? "y" : "ies"}, first ${r.organId} "${r.name}"`);
    lines.push(r.tokenCount > 0 ? `  ${r.tokenCount} API token(s) exist; they were shown when created.` : `  no API token exists yet.`);
  }
  lines.push(`  create a token: bin/edoc token create --organ-id ${r.organId} --role clerk|archivist|admin [--name LABEL]`);
  lines.push(`  web pages: ${r.url}/ after bin/edoc user add --organ-id ${r.organId} --role clerk --username NAME (password on standard input)`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(``);
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  // whatever the umask it was started with, what the node creates is for its own account only
  process.umask(0o077);
  let running: RunningNode;
  let log: Logger;
  try {
    const config = loadConfig();
    log = pino({ level: config.logLevel, base: { node: config.publicUrl } });
  } catch (err) {
    process.stderr.write(`edoc: ${(err as Error).message}\n`);
    process.exit(2);
  }
  try {
    running = await startNode({ log });
  } catch (err) {
    if (err instanceof SetupError || (err instanceof AppError && err.kind === "invalid")) {
      process.stderr.write(`edoc: ${err.message}\n`);
      process.exit(2);
    }
    // a sentence for what the node knows (a database it cannot open); the stack only for the unexpected
    if (err instanceof AppError) log.fatal(`the node cannot start: ${err.message}`);
    else log.fatal({ err }, `the node cannot start: ${(err as Error).message}`);
    process.stderr.write(`edoc: the node cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(130);
    }
    log.info({ signal }, "shutting down: no new requests; finishing those in flight");
    running.stop().then(
      () => {
        log.info("stopped");
        log.flush();
        process.exitCode = 0;
        // anything left (a client's keep-alive socket, a timer of a library) must not keep us up
        setTimeout(() => process.exit(0), 1000).unref();
      },
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
}

const isEntryPoint = () => {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};
if (isEntryPoint()) await main();
