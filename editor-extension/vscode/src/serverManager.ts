/**
 * One place that decides whether a server is there, starts one when allowed, and reports its state.
 * Plain TypeScript: the extension maps states to a status-bar item, the integration test drives it directly.
 */
import { isHealthy, StartrefError } from "./client";
import { ManagedServer } from "./serverProcess";
import type { ServerState } from "./serverProcess";
import { isLoopback, serverArgv } from "./settings";
import type { Settings } from "./settings";

export interface ManagerHooks {
  onState?: (state: ServerState, detail: string) => void;
  onOutput?: (line: string) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class ServerManager {
  private server: ManagedServer | null = null;
  private starting: Promise<void> | null = null;
  private current: ServerState = "stopped";

  constructor(private readonly hooks: ManagerHooks = {}) {}

  get state(): ServerState {
    return this.current;
  }

  /** The server this manager started, if any (null when an already running server was found). */
  get managed(): ManagedServer | null {
    return this.server;
  }

  private set(state: ServerState, detail: string): void {
    this.current = state;
    this.hooks.onState?.(state, detail);
  }

  /**
   * Resolve once a healthy server answers at `settings.serverUrl`, starting one if allowed. Concurrent
   * callers share one start. Rejects with a StartrefError whose message says what to do.
   */
  async ensure(settings: Settings): Promise<void> {
    if (await isHealthy({ serverUrl: settings.serverUrl, token: settings.token, timeoutMs: 1500 })) {
      this.set("ready", `startref server at ${settings.serverUrl}`);
      return;
    }
    if (!this.starting) {
      this.starting = this.start(settings).finally(() => {
        this.starting = null;
      });
    }
    return this.starting;
  }

  private async start(settings: Settings): Promise<void> {
    if (!settings.autoStart) {
      const message = `nothing answers at ${settings.serverUrl}; run \`startref serve\` or turn on startref.autoStart`;
      this.set("error", message);
      throw new StartrefError(message, "unreachable");
    }
    if (!isLoopback(settings.serverUrl)) {
      const message = `nothing answers at ${settings.serverUrl}, and a server is only started for a loopback URL`;
      this.set("error", message);
      throw new StartrefError(message, "unreachable");
    }
    await this.stop();
    const argv = serverArgv(settings);
    this.set("loading", `starting: ${argv.join(" ")}`);
    try {
      this.server = await ManagedServer.start({
        serverUrl: settings.serverUrl,
        token: settings.token,
        argv,
        cwd: this.hooks.cwd,
        env: this.hooks.env,
        timeoutMs: settings.startTimeoutMs,
        onOutput: this.hooks.onOutput,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.set("error", message);
      throw err;
    }
    const started = this.server;
    started.child.once("exit", () => {
      if (this.server === started) {
        this.server = null;
        this.set("error", "the startref server stopped; it is started again on the next request");
      }
    });
    this.set("ready", `started: ${argv.join(" ")}`);
  }

  /** Stop the server this manager started (a server found running is left alone). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      await server.stop();
      this.set("stopped", "stopped");
    }
  }
}
