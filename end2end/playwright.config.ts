import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";

// The main server is started by `cargo leptos end-to-end` (see scripts/test); global-setup
// waits for it. Debian's Chromium is used: a browser download does not work on our machines.
export const baseURL = process.env.BASE_URL ?? "http://127.0.0.1:3000";

// More instances of the same binary, each with its own policy and database, for the policy
// specs. cargo leptos has built the binary and the site by the time Playwright starts.
const dataDir = process.env.E2E_DIR ?? mkdtempSync(join(tmpdir(), "single-login-e2e-"));
// Workers load this file again: they must find the same directory (`databaseOf`).
process.env.E2E_DIR = dataDir;
export const servers = {
  denyNew: { port: 3010, env: { ON_LIMIT: "deny_new" } },
  ask: { port: 3011, env: { ON_LIMIT: "ask" } },
  sameIp: { port: 3012, env: { SAME_IP_SHARES_SEAT: "true", TRUSTED_PROXIES: "127.0.0.1/32" } },
  twoSessions: { port: 3013, env: { MAX_SESSIONS: "2" } },
  phoneAndComputer: { port: 3014, env: { MAX_SESSIONS: "2", SEAT_LIMITS: "phone=1,computer=1" } },
  console: { port: 3015, env: { MAX_SESSIONS: "2" } },
};
/** The database of one of the servers above, for the operator's command line. */
export const databaseOf = (name: keyof typeof servers) => `sqlite://${join(dataDir, `${name}.db`)}`;
export const urlOf = (port: number) => `http://127.0.0.1:${port}`;

const webServer = Object.entries(servers).map(([name, { port, env }]) => ({
  command: "target/debug/single-login",
  cwd: "..",
  url: `${urlOf(port)}/login`,
  reuseExistingServer: false,
  timeout: 60_000,
  stdout: "ignore" as const,
  stderr: "pipe" as const,
  env: {
    ...(process.env as Record<string, string>),
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: "target/site",
    LEPTOS_SITE_PKG_DIR: "pkg",
    LEPTOS_OUTPUT_NAME: "single-login",
    DATABASE_URL: databaseOf(name as keyof typeof servers),
    RUST_LOG: "warn",
    // Every browser of the suite comes from 127.0.0.1.
    ADDRESS_MAX_ATTEMPTS: "100000",
    SUBNET_MAX_ATTEMPTS: "100000",
    HASH_QUEUE_PER_NETWORK: "1000",
    ...env,
  },
}));

export default defineConfig({
  testDir: "./tests",
  // Generous: on a cold machine the first page of each worker compiles the debug wasm.
  timeout: 60_000,
  expect: { timeout: 5_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  webServer,
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "js", use: { javaScriptEnabled: true } },
    {
      name: "no-js",
      use: { javaScriptEnabled: false },
      testIgnore: /.*\.hydrate\.spec\.ts/,
    },
  ],
});
