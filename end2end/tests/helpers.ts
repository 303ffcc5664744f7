import { Locator, Page, expect, test } from "@playwright/test";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Where screenshots of each page are kept as test artifacts. */
export const ARTIFACTS = path.join(__dirname, "..", "artifacts");

/** Opens a path and waits until the WASM has hydrated the page. */
export async function open(page: Page, urlPath: string) {
  const response = await page.goto(urlPath);
  await page.locator("body[data-hydrated]").waitFor();
  return response;
}

/** Saves a full-page screenshot under end2end/artifacts/<name>.png. */
export async function keepScreenshot(page: Page, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(fs.statSync(file).size).toBeGreaterThan(1000);
}

let counter = 0;

/** A fresh e-mail address for this run. */
export function freshEmail(tag = "user") {
  counter += 1;
  return `${tag}-${Date.now()}-${counter}@example.com`;
}

export const PASSWORD = "correct horse battery";

/** Signs a new user up through the sign-up server function; the page's context keeps the cookie. */
export async function signUp(page: Page, email = freshEmail()) {
  const base = test.info().project.use.baseURL!;
  const res = await page.request.post("/api/auth/signup", {
    form: { email, password: PASSWORD },
    headers: { origin: base, accept: "text/html" },
    maxRedirects: 0,
  });
  expect(res.status()).toBe(302);
  return email;
}

const repoRoot = path.resolve(__dirname, "..", "..");
/** The `voxgate` binary the tests run (the debug build the test command makes). */
export const VOXGATE_BIN =
  process.env.VOXGATE_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target"), "debug", "voxgate");

/** Runs `voxgate call` with `args` and `env` from the repository; its output once it has exited 0. */
export async function voxgateCall(args: string[], env: Record<string, string>): Promise<string> {
  const call = spawn(VOXGATE_BIN, ["call", ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  call.stdout.on("data", (d) => (output += d));
  call.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => call.on("exit", (c) => resolve(c)));
  expect(code, output).toBe(0);
  expect(output).toMatch(/greeting\s+first audio \d+ ms after start/);
  return output;
}

/** Creates an agent `name` that greets with `greeting` and tells its opening hours. */
export async function hoursAgent(page: Page, name: string, greeting: string) {
  const base = test.info().project.use.baseURL!;
  const res = await page.request.post("/api/agents", {
    headers: { origin: base },
    data: { name, greeting, rules: [{ keywords: ["open", "hours"], reply: HOURS }] },
  });
  expect(res.status()).toBe(201);
}

/** What an [`hoursAgent`] answers about its opening hours. */
export const HOURS = "We are open from nine to five.";

/** Copies the card's `testId` URL with its button; the clipboard then holds exactly that URL. */
export async function copyUrl(page: Page, card: Locator, testId: string) {
  const url = (await card.getByTestId(`${testId}-url`).textContent())!;
  await card.getByTestId(`${testId}-copy`).click();
  await expect(card.getByTestId(`${testId}-copy`)).toHaveText("Copied!");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
  return url;
}

/** Call Logs holds one completed call from `caller` through `provider`, with the agent's
 * `greeting` and its opening hours in the conversation; screenshot `shot`. */
export async function expectOneCall(page: Page, caller: string, provider: string, greeting: string, shot: string) {
  await open(page, "/calls");
  const row = page.getByTestId("call-row");
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("call-caller")).toHaveText(caller);
  await expect(row.getByTestId("call-status")).toHaveText("completed");
  await row.click();
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("detail-provider")).toHaveText(provider);
  await expect(detail.getByTestId("conversation")).toContainText(greeting);
  await expect(detail.getByTestId("conversation")).toContainText(HOURS);
  await keepScreenshot(page, shot);
  return detail;
}
