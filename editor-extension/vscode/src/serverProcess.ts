/**
 * Server lifecycle without `vscode`: probe `/healthz`; if nothing answers, spawn the configured command, wait
 * until it is healthy (or dies, or times out) and stop it later. The extension and the integration test
 * share this code, so the test exercises the same start path the user gets.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { health, StartrefError } from "./client";

export type ServerState = "stopped" | "loading" | "ready" | "error";

export interface StartOptions {
  serverUrl: string;
  token?: string;
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Called for each line the server prints (for an output channel). */
  onOutput?: (line: string) => void;
}

const POLL_MS = 250;
const OUTPUT_KEPT = 40;

/** A server this process started; `stop()` ends it (and only it). */
export class ManagedServer {
  private exited = false;
  private readonly tail: string[] = [];
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private spawnError: Error | null = null;

  private constructor(readonly child: ChildProcess, readonly argv: string[]) {}

  /** Spawn `argv` and wait for `/healthz`; rejects with the server's last output when it fails. */
  static async start(options: StartOptions): Promise<ManagedServer> {
    const [file, ...args] = options.argv;
    if (!file) throw new StartrefError("no command configured to start the startref server", "unreachable");
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      // Not detached: the server stays in the editor's process group, so it dies with the editor even
      // when the editor is killed without running deactivate().
    });
    const server = new ManagedServer(child, options.argv);
    server.watch(options.onOutput);
    const deadline = Date.now() + options.timeoutMs;
    let failed: string | null = null;
    while (Date.now() < deadline) {
      if (server.exited) break;
      const now = await health({ serverUrl: options.serverUrl, token: options.token, timeoutMs: 1000 });
      if (now.state === "ready") return server;
      if (now.state === "failed") {
        failed = `the startref server (${options.argv.join(" ")}) could not load its models: ${now.message}`;
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const why = failed ?? server.failure(options.timeoutMs);
    await server.stop();
    throw new StartrefError(why, "unreachable");
  }

  get running(): boolean {
    return !this.exited;
  }

  private watch(onOutput?: (line: string) => void): void {
    const take = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split(/\r?\n/)) {
        if (line.trim() === "") continue;
        this.tail.push(line);
        if (this.tail.length > OUTPUT_KEPT) this.tail.shift();
        onOutput?.(line);
      }
    };
    this.child.stdout?.on("data", take);
    this.child.stderr?.on("data", take);
    this.child.on("error", (err) => {
      this.spawnError = err;
      this.exited = true;
    });
    this.child.on("exit", (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
    });
  }

  private failure(timeoutMs: number): string {
    const cmd = this.argv.join(" ");
    if (this.spawnError) return `could not start the startref server (${cmd}): ${this.spawnError.message}`;
    const last = this.tail.slice(-5).join("\n");
    if (this.exited) {
      const how = this.exitSignal ? `signal ${this.exitSignal}` : `exit code ${this.exitCode}`;
      return `the startref server (${cmd}) stopped with ${how}${last ? `:\n${last}` : ""}`;
    }
    return `the startref server (${cmd}) was not ready after ${timeoutMs / 1000} s${last ? `:\n${last}` : ""}`;
  }

  /** Last lines the server printed (for error messages and the output channel). */
  get output(): string[] {
    return [...this.tail];
  }

  /** SIGTERM the server, SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        this.child.kill(sig);
      } catch {
        // already gone
      }
    };
    const done = new Promise<void>((resolve) => {
      if (this.exited) resolve();
      else this.child.once("exit", () => resolve());
    });
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), graceMs);
    await done;
    clearTimeout(timer);
  }
}
