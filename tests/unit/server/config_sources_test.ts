import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import type { FlagSpec } from "../../../lib/shared/cli.ts";
import {
  blame,
  envName,
  formatSettings,
  mergeSources,
} from "../../../lib/server/config_sources.ts";
import { parseJsonc } from "../../../lib/shared/jsonc.ts";

const SPECS: FlagSpec[] = [
  { name: "port", type: "string", value: "PORT", default: "8888", doc: "" },
  { name: "redis-password", type: "string", value: "PW", doc: "" },
  { name: "no-plain", type: "boolean", doc: "" },
  { name: "config", type: "string", value: "FILE", doc: "" },
  { name: "print-config", type: "boolean", doc: "" },
];

Deno.test("envName is FASTIM_ and the long name in capitals", () => {
  deepStrictEqual(["tls-cert", "port"].map(envName), ["FASTIM_TLS_CERT", "FASTIM_PORT"]);
});

Deno.test("mergeSources: file, then variables, then flags; commands are no settings", () => {
  const files: Record<string, string> = { "a.jsonc": `{"port": 1, "redis-password": "s3"}` };
  const merged = mergeSources({ "no-plain": true, "print-config": true }, SPECS, {
    env: { FASTIM_CONFIG: "a.jsonc", FASTIM_PORT: "2", FASTIM_NO_PLAIN: "0" },
    readFile: (p) => files[p],
  });
  deepStrictEqual(merged.values, { port: "2", "redis-password": "s3", "no-plain": true });
  deepStrictEqual(Object.fromEntries(merged.origins), {
    port: { kind: "env", variable: "FASTIM_PORT" },
    "redis-password": { kind: "file", file: "a.jsonc" },
    "no-plain": { kind: "flag" },
  });
});

Deno.test("formatSettings masks secrets and says where each value came from", () => {
  const merged = mergeSources({}, SPECS, {
    env: { FASTIM_REDIS_PASSWORD: "hunter2" },
    readFile: () => "",
  });
  const text = formatSettings(SPECS, merged);
  strictEqual(text.includes("hunter2"), false, text);
  match(text, /^ {2}"redis-password": "\*{8}", +\/\/ FASTIM_REDIS_PASSWORD$/m);
  match(text, /^ {2}\/\/ "port": 8888, +\/\/ default$/m);
  deepStrictEqual(parseJsonc(text), { "redis-password": "********" });
});

Deno.test("blame names the file and key, or the variable, of a bad value", () => {
  const origins = new Map([
    ["port", { kind: "file" as const, file: "s.jsonc" }],
    ["db", { kind: "env" as const, variable: "FASTIM_DB" }],
    ["host", { kind: "flag" as const }],
  ]);
  strictEqual(
    blame('--port expects a port; got "x"', origins),
    's.jsonc: "port" expects a port; got "x"',
  );
  strictEqual(blame("--db needs a file", origins), "FASTIM_DB needs a file");
  strictEqual(blame("--host needs an address", origins), "--host needs an address");
});
