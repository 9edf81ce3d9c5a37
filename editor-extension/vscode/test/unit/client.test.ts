import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { isHealthy, StartrefError, suggest } from "../../src/client";
import { ManagedServer } from "../../src/serverProcess";

/** A loopback port that nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

test("an unreachable server gives a clear message, and healthz is false", async () => {
  const serverUrl = `http://127.0.0.1:${await freePort()}`;
  assert.equal(await isHealthy({ serverUrl }), false);
  await assert.rejects(
    suggest({ serverUrl }, { text: "", position: { line: 0, character: 0 }, k: 1 }),
    (e: Error) => e instanceof StartrefError && e.kind === "unreachable" && e.message.includes(serverUrl) && /ECONNREFUSED/.test(e.message),
  );
});

test("a start command that does not exist fails with its name", async () => {
  const serverUrl = `http://127.0.0.1:${await freePort()}`;
  await assert.rejects(
    ManagedServer.start({ serverUrl, argv: ["/nonexistent/startref", "serve"], timeoutMs: 5000 }),
    (e: Error) => /could not start the startref server \(\/nonexistent\/startref serve\)/.test(e.message),
  );
});

test("a server that exits early reports its exit code and last output", async () => {
  const serverUrl = `http://127.0.0.1:${await freePort()}`;
  await assert.rejects(
    ManagedServer.start({ serverUrl, argv: [process.execPath, "-e", "console.error('no bibliography support'); process.exit(3)"], timeoutMs: 10_000 }),
    (e: Error) => /exit code 3/.test(e.message) && /no bibliography support/.test(e.message),
  );
});

test("a server that never gets healthy is stopped after the timeout", async () => {
  const serverUrl = `http://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  await assert.rejects(
    ManagedServer.start({ serverUrl, argv: [process.execPath, "-e", "setInterval(() => {}, 1000)"], timeoutMs: 1500 }),
    /was not ready after 1.5 s/,
  );
  assert.ok(Date.now() - started < 8000);
});
