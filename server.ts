/**
 * FastIM server entrypoint: parses flags, listens, and shuts down cleanly on SIGINT/SIGTERM.
 * `deno task server -- --help` lists the flags.
 *
 * @module
 */

import { ChatServer, type RunningServer, StartupError } from "./lib/server/listener.ts";
import { UsageError, usageErrorLine } from "./lib/shared/cli.ts";
import { formatAddr } from "./lib/server/connection.ts";
import { Logger } from "./lib/shared/log.ts";
import { parseServerArgs, readServerEnv, type ServerConfig } from "./lib/server/config.ts";
import { type LocalBackend, openBackend } from "./lib/server/backend.ts";
import { StoreError } from "./lib/store/sqlite.ts";
import { BridgeStartError } from "./lib/server/matterbridge_bridge.ts";
import { versionLine } from "./lib/shared/version.ts";
import { startLagProbe } from "./lib/server/http/metrics.ts";

/** Runs the server with `args`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  let command;
  try {
    command = parseServerArgs(args, {
      env: readServerEnv(),
      readFile: (path) => Deno.readTextFileSync(path),
    });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(usageErrorLine("server", e));
    return 2;
  }
  if (command.kind === "help") {
    console.log(command.text);
    return 0;
  }
  if (command.kind === "version") {
    console.log(versionLine("server"));
    return 0;
  }
  if (command.kind === "print-config") {
    console.log(command.text);
    return 0;
  }
  if (command.kind === "backup") return await backup(command.dbPath, command.target);
  if (command.kind === "add-bot" || command.kind === "remove-bot") {
    const { addBotCommand, removeBotCommand } = await import("./lib/server/bot_admin.ts");
    const result = command.kind === "add-bot"
      ? addBotCommand(command.dbPath, command.name)
      : removeBotCommand(command.dbPath, command.name);
    if (result.out) console.log(result.out);
    if (result.err) console.error(result.err);
    return result.code;
  }
  const { config } = command;
  const log = new Logger(config.logLevel, undefined, config.logFormat);
  if (config.redisUrl !== undefined) {
    return await runClusterNode({ ...config, redisUrl: config.redisUrl }, log);
  }
  let backend: LocalBackend;
  let server: RunningServer;
  const dbExisted = config.dbPath === ":memory:" || exists(config.dbPath);
  try {
    backend = openBackend(config, log);
  } catch (e) {
    if (e instanceof BridgeStartError) {
      // Refused before anything ran: no new, empty database is left behind.
      if (!dbExisted) removeDatabase(config.dbPath);
      console.error(`server: ${e.message}`);
      return 2;
    }
    if (!(e instanceof StoreError)) throw e;
    console.error(`server: ${e.message}`);
    return 1;
  }
  try {
    // Loaded only when asked for, like the cluster's Redis client: what a server does not use
    // should not cost its start (docs/BENCHMARKS.md, startup).
    server = config.workers > 1
      ? await (await import("./lib/server/workers/worker_server.ts")).WorkerServer.start(
        config,
        log,
        backend,
        config.workers,
      )
      : ChatServer.listen(config, log, backend, { usersOnline: () => backend.core.who().length });
  } catch (e) {
    backend.stopRetention();
    backend.store.close();
    // A start that failed (a port in use) leaves no new, empty database behind.
    if (!dbExisted) removeDatabase(config.dbPath);
    if (!(e instanceof StartupError)) throw e;
    console.error(`server: ${e.message}`);
    return 1;
  }
  const code = await serve(server, log, config.plain);
  backend.stopRetention();
  backend.store.close();
  return code;
}

/** `--redis`: a node of a cluster (lib/cluster/); its chat lives in Redis, not in `--db`. */
async function runClusterNode(
  config: ServerConfig & { redisUrl: string },
  log: Logger,
): Promise<number> {
  // The Redis client (an npm package of ~700 KB) is loaded only by the nodes that use it.
  const { openClusterBackend, RedisStartError } = await import("./lib/cluster/backend.ts");
  let backend;
  try {
    backend = await openClusterBackend(config, log);
  } catch (e) {
    if (!(e instanceof RedisStartError)) throw e;
    console.error(
      `server: ${e.message}: is Redis running at --redis? (check the URL and password)`,
    );
    return 1;
  }
  let server: RunningServer;
  try {
    const core = backend.core;
    server = ChatServer.listen(config, log, backend, { usersOnline: () => core.who().length });
  } catch (e) {
    await backend.close();
    if (!(e instanceof StartupError)) throw e;
    console.error(`server: ${e.message}`);
    return 1;
  }
  const code = await serve(server, log, config.plain);
  await backend.close();
  return code;
}

/** Announces the listening addresses, then waits for the shutdown a signal starts. */
async function serve(server: RunningServer, log: Logger, plain: boolean): Promise<number> {
  const stop = () => void server.shutdown();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, stop);
  // Always printed, whatever the log level: scripts and tests wait for this line.
  log.notice(`listening on ${formatAddr(server.addr)}`);
  if (plain && server.tlsAddr) {
    log.notice(`listening (TLS) on ${formatAddr(server.tlsAddr)}`);
  }
  if (server.httpAddr) log.notice(`listening (HTTP) on ${formatAddr(server.httpAddr)}`);
  if (server.httpsAddr) log.notice(`listening (HTTPS) on ${formatAddr(server.httpsAddr)}`);
  if (server.ircAddr) log.notice(`listening (IRC) on ${formatAddr(server.ircAddr)}`);
  if (server.ircsAddr) log.notice(`listening (IRCS) on ${formatAddr(server.ircsAddr)}`);
  const stopProbe = startLagProbe();
  await server.finished;
  stopProbe();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(signal, stop);
  if (server.failure) {
    console.error(`server: stopped: ${server.failure} E_EDGE`);
    return 70;
  }
  log.info("stopped");
  return 0;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes a database file this start created, with SQLite's WAL and shared-memory files. */
function removeDatabase(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      Deno.removeSync(file);
    } catch { /* already gone */ }
  }
}

/** `--backup FILE`: one line saying what was copied, or what went wrong. */
async function backup(dbPath: string, target: string): Promise<number> {
  const { backupDatabase } = await import("./lib/store/backup.ts");
  try {
    const s = await backupDatabase(dbPath, target);
    console.log(
      `backed up ${dbPath} to ${target}: schema ${s.schemaVersion}, ${s.messages} messages, ` +
        `${s.accounts} accounts, ${s.bytes} bytes`,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    console.error(`server: backup failed: ${e.message}`);
    return 1;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`server: internal error E_INTERNAL: ${(e as Error)?.message ?? e}`);
    Deno.exit(70);
  }
}
