/**
 * Reading Linux /proc for the benchmark: a process's resident memory and CPU time. Deno grants
 * /proc only with --allow-all, so the files are read through `cat` (needs only --allow-run).
 *
 * @module
 */

/** A /proc file's text, or "" when unreadable. */
export async function readProc(path: string): Promise<string> {
  try {
    const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout) : "";
  } catch {
    return "";
  }
}

/** Resident memory of a process in bytes, from /proc/PID/status (0 when unreadable). */
export async function rssBytes(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(await readProc(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SEC = 100;

/** CPU seconds a process has used so far in user and kernel mode (0 when unreadable). */
export async function cpuSeconds(pid: number): Promise<{ user: number; sys: number }> {
  const stat = await readProc(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces; fields after its ")" are fixed.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(rest[11]) / TICKS_PER_SEC, sys = Number(rest[12]) / TICKS_PER_SEC;
  return Number.isFinite(user + sys) ? { user, sys } : { user: 0, sys: 0 };
}
