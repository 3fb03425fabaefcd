/**
 * FastIM terminal client: `deno run --allow-net --allow-env=NO_COLOR,TERM,FASTIM_PASSWORD client.ts -ip 127.0.0.1
 * -port 8888`. This file only wires the pieces in `lib/client/` together; see docs/CLIENT.md.
 *
 * @module
 */

import { Chat, type Output } from "./lib/client/chat.ts";
import {
  CLIENT_VERSION,
  type ClientConfig,
  ConfigError,
  parseConfig,
  readEnv,
  usage,
} from "./lib/client/config.ts";
import { ConnectError, Connection, type ConnectionStatus } from "./lib/client/connection.ts";
import { type LineInput, openLineInput } from "./lib/client/line_editor.ts";
import { runMenu } from "./lib/client/menu.ts";
import {
  renderError,
  renderFrame,
  renderInfo,
  safe,
  toJsonLine,
  type View,
} from "./lib/client/render.ts";
import { runLines, runSend } from "./lib/client/scripting.ts";

const encoder = new TextEncoder();

function writeAll(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
}

const stdoutLine = (line: string) => writeAll(Deno.stdout, line + "\n");
const stderrLine = (line: string) => writeAll(Deno.stderr, line + "\n");
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
      const lines = [renderInfo(`reconnected to ${config.host}:${config.port} as ${s.name}`, view)];
      if (s.nameError) {
        lines.push(renderError(`could not take back your name: ${s.nameError}`, view));
      }
      return lines;
    }
    case "closed":
      return [renderError(`connection closed: ${s.reason}`, view)];
  }
}

async function main(): Promise<number> {
  let config: ClientConfig;
  try {
    config = parseConfig(Deno.args, readEnv(), {
      stdin: Deno.stdin.isTerminal(),
      stdout: Deno.stdout.isTerminal(),
    });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    fail(e.message);
    return 2;
  }
  if (config.help) return stdoutLine(usage()), 0;
  if (config.version) return stdoutLine(`fastim client ${CLIENT_VERSION}`), 0;

  const input = config.mode === "send" ? null : openLineInput({
    editor: config.lineEditor,
    showPrompts: config.mode === "menu" && Deno.stdin.isTerminal() && Deno.stdout.isTerminal(),
  });
  const out = outputFor(config, input);
  let conn: Connection | null = null;
  const view = (): View => ({ me: conn?.name ?? "", color: config.color });

  let leaving = false;
  const leave = async (code: number): Promise<never> => {
    if (!leaving) {
      leaving = true;
      await conn?.quit();
      if (config.mode === "menu") out.status(renderInfo("disconnected; bye", view()));
      input?.close();
    }
    Deno.exit(code);
  };
  if (input) input.onInterrupt = () => void leave(0);

  try {
    conn = await Connection.open({
      host: config.host,
      port: config.port,
      name: config.name,
      password: config.password,
      reconnect: config.reconnect,
      onFrame: (frame) => {
        // Line mode prints what happens while it runs; the backlog is for people (and --json).
        if (config.mode === "lines" && frame.history === true) return;
        const line = renderFrame(frame, view());
        if (line !== null) out.event(line);
      },
      onWire: config.json ? (frame) => stdoutLine(toJsonLine(frame)) : undefined,
      onStatus: (s) => {
        const problem = s.kind !== "back";
        for (const line of describeStatus(s, config, view())) {
          (problem ? out.problem : out.status)(line);
        }
      },
    });
  } catch (e) {
    input?.close();
    if (!(e instanceof ConnectError)) throw e;
    fail(e.message);
    return 1;
  }

  const nameError = conn.welcome.nameError as Record<string, unknown> | undefined;
  if (nameError && config.name !== undefined) {
    fail(
      `cannot ${config.password === undefined ? "use the name" : "log in as"} "${
        safe(config.name)
      }": ${safe(nameError.message) || safe(nameError.code)}`,
    );
    return await leave(1);
  }
  const online = Array.isArray(conn.welcome.online) ? conn.welcome.online.length : 0;
  out.status(
    renderInfo(
      `connected to ${config.host}:${config.port} as ${conn.name} (${online} online)`,
      view(),
    ),
  );

  conn.start(); // now the history and offline messages that came with the welcome
  const chat = new Chat(conn, out, config.color);
  // A drop with reconnecting off ends every mode with status 1.
  const lost = conn.done.then(() => 1);
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
