import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// scripts/test passes a free port, a fresh data directory and the built binary;
// standalone runs fall back to defaults.
const repoRoot = path.resolve(__dirname, "..");
const port = process.env.VOXGATE_E2E_PORT ?? "3917";
const dataDir = process.env.VOXGATE_E2E_DATA ?? fs.mkdtempSync(path.join(os.tmpdir(), "voxgate-e2e-"));
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target");
const bin = process.env.VOXGATE_BIN ?? path.join(targetDir, "debug", "voxgate");
const baseURL = `http://127.0.0.1:${port}`;
// The providers' numbers APIs (ownership checks) are a local provider cloud with the accounts
// and numbers of end2end/cloud.json: the world these journeys run in.
const cloudPort = process.env.VOXGATE_E2E_CLOUD_PORT ?? String(Number(port) + 1);
const cloudURL = `http://127.0.0.1:${cloudPort}`;

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  reporter: [["list"]],
  use: {
    baseURL,
    browserName: "chromium",
    headless: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
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
  webServer: [{
    command: `${bin} cloud --accounts ${path.join(__dirname, "cloud.json")} --listen 127.0.0.1:${cloudPort}`,
    cwd: repoRoot,
    port: Number(cloudPort),
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
  }, {
    command: bin,
    cwd: repoRoot,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      VOXGATE_LISTEN_ADDR: `127.0.0.1:${port}`,
      VOXGATE_PUBLIC_URL: baseURL,
      VOXGATE_DATA_DIR: dataDir,
      VOXGATE_DATABASE_URL: `surrealkv://${path.join(dataDir, "db")}`,
      VOXGATE_MODELS_DIR: process.env.VOXGATE_MODELS_DIR ?? path.join(repoRoot, "data", "models"),
      VOXGATE_LOG: "warn",
      VOXGATE_EXOTEL_API_URL: cloudURL,
      VOXGATE_TWILIO_API_URL: cloudURL,
      VOXGATE_VONAGE_API_URL: cloudURL,
      VOXGATE_PLIVO_API_URL: cloudURL,
      // The notifications journey's webhook receiver listens on loopback (the guard refuses it otherwise).
      VOXGATE_OUTBOUND_ALLOW: "127.0.0.1/32",
    },
  }],
});
