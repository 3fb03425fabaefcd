/**
 * FastIM terminal client: `deno run --allow-net --allow-read --allow-env=NO_COLOR,TERM,FASTIM_PASSWORD,HOME,XDG_CONFIG_HOME
 * client.ts -ip 127.0.0.1 -port 8888`. This file only wires the pieces in `lib/client/` together;
 * see docs/CLIENT.md.
 *
 * @module
 */

import { type AskSecret, Chat, END_OF_HISTORY, type Output } from "./lib/client/chat.ts";
import { holdsPassword } from "./lib/client/commands.ts";
import {
  type ClientConfig,
  ConfigError,
  parseConfig,
  readEnv,
  usage,
} from "./lib/client/config.ts";
import { clientConfigPath, readClientConfigFile } from "./lib/client/config_file.ts";
import { ConnectError, type ConnectionStatus, ServerLink } from "./lib/client/connection.ts";
import { type LineInput, openLineInput } from "./lib/client/line_editor.ts";
import { runMenu } from "./lib/client/menu.ts";
import {
  renderError,
  renderFrame,
  renderInfo,
  safe,
  toJsonLine,
  type View,
  withoutColor,
} from "./lib/client/render.ts";
import { runLines, runSend } from "./lib/client/scripting.ts";
import { OnlineNames, renderStatus } from "./lib/client/status.ts";
import { RoomState } from "./lib/client/rooms.ts";
import { readTerminalSecret, StdinBytes } from "./lib/client/secret_input.ts";
import { readCaFile } from "./lib/client/tls.ts";
import { versionLine } from "./lib/shared/version.ts";
import { writeAllSync } from "./lib/shared/bytes.ts";
import { within } from "./lib/shared/deadline.ts";

const encoder = new TextEncoder();

function writeTextSync(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  writeAllSync(stream, encoder.encode(text));
}

/** Writes to stdout; when its reader went away (`client --json | head -1`), the client is done. */
function stdoutLine(line: string): void {
  try {
    writeTextSync(Deno.stdout, line + "\n");
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw e;
  }
}

/** Whether stderr gets colour; decided apart from stdout's (either may be redirected). */
let stderrColor = false;

/** Writes to stderr; nobody reading it is no reason to stop. */
function stderrLine(line: string): void {
  try {
    writeTextSync(Deno.stderr, (stderrColor ? line : withoutColor(line)) + "\n");
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}
const ignore = () => {};

/** One clear line on stderr, no stack trace. */
function fail(message: string): void {
  stderrLine(`client: ${message}`);
}

/** Routes display lines for the mode: the screen (menu), stdout/stderr (scripts), or nowhere. */
function outputFor(config: ClientConfig, input: LineInput | null): Output {
  if (config.mode === "menu" && input) {
    const show = (line: string) => input.print(line);
    return { event: show, reply: show, status: show, problem: show };
  }
  if (config.mode === "send") {
    return {
      event: ignore,
      reply: ignore,
      status: ignore,
      problem: (l) => fail(l.replace(/^! /, "")),
    };
  }
  // Line mode: stdout carries events and replies (or the JSON frames), stderr everything else.
  const data = config.json
    ? ignore
    : (line: string) => (input ? input.print(line) : stdoutLine(line));
  return { event: data, reply: data, status: stderrLine, problem: stderrLine };
}

/** `out`, calling `refresh` after each line (the status line follows renames and presence). */
function withStatusRefresh(out: Output, refresh: () => void): Output {
  const after = (show: (line: string) => void) => (line: string) => (show(line), refresh());
  return {
    event: after(out.event),
    reply: after(out.reply),
    status: after(out.status),
    problem: after(out.problem),
  };
}

function describeStatus(s: ConnectionStatus, config: ClientConfig, view: View): string[] {
  const secs = (ms: number) => `${Math.round(ms / 1000)}s`;
  switch (s.kind) {
    case "lost":
      return [
        renderError(`connection lost (${s.reason}); reconnecting in ${secs(s.retryInMs)}`, view),
      ];
    case "retry_failed":
      return [
        renderError(`still disconnected (${s.reason}); retrying in ${secs(s.retryInMs)}`, view),
      ];
    case "back": {
      const lines = [renderInfo(`reconnected to ${where(config, s.server)} as ${s.name}`, view)];
      if (s.nameError) {
        lines.push(renderError(`could not take back your name: ${s.nameError}`, view));
      }
      return lines;
    }
    case "closed":
      return [renderError(`connection closed: ${s.reason}`, view)];
  }
}

/** `HOST:PORT` (of `server`, with several), marked when the connection is encrypted. */
function where(config: ClientConfig, server = `${config.host}:${config.port}`): string {
  return `${server}${config.tls ? " (TLS)" : ""}`;
}

/** Why `--name` was refused, in one line. */
function describeNameError(config: ClientConfig, nameError: Record<string, unknown>): string {
  const name = safe(config.name);
  if (config.password === undefined && nameError.code === "name_registered") {
    return `cannot use the name "${name}": it is registered (set FASTIM_PASSWORD to log in, ` +
      "or run at a terminal to be asked for the password)";
  }
  const verb = config.password === undefined ? "use the name" : "log in as";
  return `cannot ${verb} "${name}": ${safe(nameError.message) || safe(nameError.code)}`;
}

async function main(): Promise<number> {
  let config: ClientConfig;
  let caCerts: string[] | undefined;
  try {
    const env = readEnv();
    const configPath = clientConfigPath(env);
    const file = configPath === undefined ? undefined : readClientConfigFile(configPath);
    config = parseConfig(Deno.args, env, {
      stdin: Deno.stdin.isTerminal(),
      stdout: Deno.stdout.isTerminal(),
      stderr: Deno.stderr.isTerminal(),
    }, file);
    stderrColor = config.stderrColor;
    if (config.help) return stdoutLine(usage()), 0;
    if (config.version) return stdoutLine(versionLine("client")), 0;
    if (config.caFile !== undefined) caCerts = [readCaFile(config.caFile)];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    fail(e.message);
    return 2;
  }

  const input = config.mode === "send" ? null : openLineInput({
    editor: config.lineEditor,
    showPrompts: config.mode === "menu" && Deno.stdin.isTerminal() && Deno.stdout.isTerminal(),
    secretLine: holdsPassword,
  });
  const ask: AskSecret | undefined = !config.canPrompt
    ? undefined
    : input
    ? (prompt) => input.readSecret(prompt)
    : (prompt) => readTerminalSecret(prompt, new StdinBytes());
  let link: ServerLink | null = null;
  // The rooms joined and the current one: lines about other rooms carry their room's name.
  const rooms = new RoomState();
  const view = (): View => ({ me: link?.name ?? "", color: config.color, room: rooms.current });
  // The status line (a terminal only): name, room, how many are online and unread counts.
  const online = new OnlineNames();
  let greeted = false;
  const refreshStatus = () => {
    if (!greeted || !link || config.mode !== "menu") return;
    input?.setStatus(
      renderStatus({
        name: link.name,
        online: online.count,
        connected: link.online,
        room: rooms.current,
        unread: rooms.unread,
      }, config.color),
    );
  };
  const out = withStatusRefresh(outputFor(config, input), refreshStatus);
  let chat: Chat | null = null;
  /** History lines shown since the last live event: a line after them marks where they end. */
  let backlogShown = 0;
  const endBacklog = () => {
    if (backlogShown === 0 || config.json) return;
    backlogShown = 0;
    out.status(renderInfo(END_OF_HISTORY, view()));
  };

  let leaving = false;
  const leave = async (code: number): Promise<never> => {
    if (!leaving) {
      leaving = true;
      // What was read just before quitting still moves the markers (not waited for long).
      if (link?.online) await within(chat?.flushMarks() ?? Promise.resolve(), 2000);
      await link?.quit();
      if (config.mode === "menu") out.status(renderInfo("disconnected; bye", view()));
      input?.close();
    }
    Deno.exit(code);
  };
  if (input) input.onInterrupt = () => void leave(0);

  try {
    link = await ServerLink.open({
      host: config.host,
      port: config.port,
      servers: config.servers,
      tls: config.tls,
      caCerts,
      name: config.name,
      password: config.password,
      reconnect: config.reconnect,
      // --send shows nothing it receives, so it must not acknowledge (delete) waiting messages.
      ackOffline: config.mode !== "send",
      // Line mode prints what happens while it runs; the backlog is for people (and --json).
      // After a reconnect it does print the backlog's messages it has not seen: they were missed.
      firstBacklog: config.mode !== "lines",
      onFrame: (frame) => {
        online.apply(frame);
        // A `marker` (the account read on another device) shows no line: only the status moves.
        const counts = rooms.apply(frame, link?.name ?? "");
        const line = renderFrame(frame, view());
        if (line === null && counts) refreshStatus();
        if (line !== null) {
          if (frame.history === true) backlogShown++;
          else endBacklog();
          // BEL (0x07) rings the terminal (or flags the tmux window) when a message names you.
          const bell = config.bell && frame.mention === true && frame.history !== true;
          out.event(bell ? line + "\x07" : line);
        }
        chat?.shown(frame);
      },
      onBacklogEnd: endBacklog,
      onWire: config.json ? (frame) => stdoutLine(toJsonLine(frame)) : undefined,
      onStatus: (s) => {
        let lostRooms: string[] = [];
        const current = rooms.current;
        if (s.kind === "back" && link) {
          online.reset(link.lastWelcome);
          lostRooms = rooms.reset(link.lastWelcome);
        }
        const problem = s.kind !== "back";
        for (const line of describeStatus(s, config, view())) {
          (problem ? out.problem : out.status)(line);
        }
        refreshStatus();
        // A guest's rooms ended with the lost connection: join them again.
        if (lostRooms.length > 0) void chat?.rejoin(lostRooms, current).then(refreshStatus);
        // What the account's other devices read meanwhile.
        if (s.kind === "back") void chat?.syncMarkers();
      },
    });
  } catch (e) {
    input?.close();
    if (!(e instanceof ConnectError)) throw e;
    fail(e.message);
    return 1;
  }

  // Read markers where a person reads what is shown: the menu (see docs/CLIENT.md).
  const markers = { enabled: config.mode === "menu", onChange: refreshStatus };
  chat = new Chat(link, out, config.color, ask, rooms, markers);
  const nameError = link.welcome.nameError as Record<string, unknown> | undefined;
  if (nameError && config.name !== undefined) {
    const askable = nameError.code === "name_registered" && config.password === undefined && ask;
    const why = askable
      ? await chat.loginAsking(config.name)
      : describeNameError(config, nameError);
    if (why !== null) {
      fail(askable ? `cannot log in as "${safe(config.name)}": ${why}` : why);
      return await leave(1);
    }
  }
  online.reset(link.welcome);
  rooms.reset(link.welcome);
  const yours = rooms.joined.length > 0 ? `; your rooms: ${rooms.joined.join(", ")}` : "";
  out.status(
    renderInfo(
      `connected to ${where(config, link.server)} as ${link.name} (${online.count} online${yours})`,
      view(),
    ),
  );
  greeted = true;

  // Now the history and offline messages that came with the welcome, all before the menu; then
  // the account's unread counts, which count what that backlog could not say.
  await link.start();
  await chat.syncMarkers();
  // A drop with reconnecting off ends every mode with status 1.
  const lost = link.done.then(() => 1);
  let code: number;
  if (config.mode === "send") {
    code = await runSend(chat, config.send!, config.to);
  } else if (config.mode === "lines") {
    code = await Promise.race([runLines(chat, input!), lost]);
  } else {
    code = await Promise.race([runMenu(chat, input!).then(() => 0), lost]);
  }
  return await leave(code);
}

if (import.meta.main) {
  const crash = (e: unknown) => {
    try {
      Deno.stdin.setRaw(false);
    } catch { /* not a terminal */ }
    fail(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  };
  globalThis.addEventListener("unhandledrejection", (ev) => {
    ev.preventDefault();
    crash(ev.reason);
  });
  main().then((code) => Deno.exit(code), crash);
}
