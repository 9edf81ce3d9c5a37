import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SETTINGS, isLoopback, parseSettings, serverArgv, serverPort, SettingsError } from "../../src/settings";

test("missing settings take the defaults", () => {
  assert.deepEqual(parseSettings({}), { ...DEFAULT_SETTINGS });
});

test("values are trimmed, clamped and normalised", () => {
  const s = parseSettings({ serverUrl: " http://localhost:9000/ ", k: 500, citeCommand: "\\citep", autoStart: false, token: " t " });
  assert.equal(s.serverUrl, "http://localhost:9000");
  assert.equal(s.k, 50);
  assert.equal(s.citeCommand, "citep");
  assert.equal(s.autoStart, false);
  assert.equal(s.token, "t");
  assert.equal(parseSettings({ k: 0 }).k, 1);
  assert.equal(parseSettings({ k: "7" }).k, 7);
  assert.equal(parseSettings({ startTimeoutSeconds: 10 }).startTimeoutMs, 10_000);
});

test("bad values raise an error naming the setting", () => {
  assert.throws(() => parseSettings({ serverUrl: "not a url" }), (e: Error) => e instanceof SettingsError && /serverUrl/.test(e.message));
  assert.throws(() => parseSettings({ serverUrl: "ftp://x" }), /serverUrl/);
  assert.throws(() => parseSettings({ k: "many" }), /startref\.k/);
  assert.throws(() => parseSettings({ citeCommand: "cite{" }), /citeCommand/);
  assert.throws(() => parseSettings({ autoStart: "yes" }), /autoStart/);
  assert.throws(() => parseSettings({ serverArgs: [1, 2] }), /serverArgs/);
});

test("server argv: default, python path, explicit command, token and extra args", () => {
  assert.deepEqual(serverArgv(parseSettings({})), ["startref", "serve", "--port", "8765"]);
  assert.deepEqual(
    serverArgv(parseSettings({ pythonPath: "/v/bin/python", serverArgs: ["--no-generator"], token: "s3" })),
    ["/v/bin/python", "-m", "startref.server", "--port", "8765", "--token", "s3", "--no-generator"],
  );
  assert.deepEqual(
    serverArgv(parseSettings({ serverCommand: "/v/bin/startref serve", serverUrl: "http://localhost:7000" })),
    ["/v/bin/startref", "serve", "--port", "7000", "--host", "localhost"],
  );
});

test("ports and loopback detection", () => {
  assert.equal(serverPort("http://127.0.0.1:8765"), 8765);
  assert.equal(serverPort("http://127.0.0.1"), 80);
  assert.equal(serverPort("https://example.org"), 443);
  assert.ok(isLoopback("http://127.0.0.1:1"));
  assert.ok(isLoopback("http://localhost:1"));
  assert.ok(isLoopback("http://[::1]:1"));
  assert.ok(!isLoopback("http://192.168.1.2:1"));
});
