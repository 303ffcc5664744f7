import { test, expect } from "@playwright/test";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HOURS, VOXGATE_BIN, hoursAgent, keepScreenshot, open, signUp } from "./helpers";

const repoRoot = path.resolve(__dirname, "..", "..");
const GREETING = "Hello, this is the web desk.";

/** The caller's line as a WAV file, spoken by Voxgate's own offline voice (`voxgate say`). */
function callerWav(text: string): string {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "voxgate-mic-")), "caller.wav");
  const said = spawnSync(VOXGATE_BIN, ["say", text, "--out", out, "--rate", "16000", "--pad-ms", "3500"], { cwd: repoRoot, encoding: "utf8" });
  expect(said.status, said.stderr + said.stdout).toBe(0);
  expect(fs.statSync(out).size).toBeGreaterThan(16000 * 2 * 7);
  return out;
}

test("a test call in the browser: the microphone talks to the agent, the transcript follows live, the call is in Calls", async ({ playwright }) => {
  test.setTimeout(150_000);
  const wav = callerWav("What are your opening hours?");
  const base = test.info().project.use.baseURL!;
  // Chromium's fake microphone plays the WAV (in a loop); its permission prompt is accepted.
  const browser = await playwright.chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}`,
    ],
  });
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await signUp(page);
  await hoursAgent(page, "Web desk", GREETING);

  await open(page, "/agents");
  await page.getByTestId("agent-card").getByTestId("test-call-agent").click();
  const panel = page.getByRole("dialog", { name: "Test call" });
  await expect(panel.getByTestId("test-call-status")).toHaveAttribute("data-phase", "idle");
  await panel.getByTestId("test-call-start").click();
  await expect(panel.getByTestId("test-call-status")).toHaveAttribute("data-phase", "live", { timeout: 15_000 });

  // The transcript beside the controls: the greeting, the caller's words as the agent heard
  // them, and the agent's answer, as they are stored.
  const transcript = panel.getByTestId("test-call-transcript");
  await expect(transcript.locator('[data-role="agent"]').first()).toContainText(GREETING, { timeout: 30_000 });
  await expect(transcript.locator('[data-role="caller"]').first()).toContainText(/opening hours/i, { timeout: 45_000 });
  await expect(transcript.locator('[data-role="agent"]').filter({ hasText: HOURS }).first()).toBeVisible({ timeout: 30_000 });
  await keepScreenshot(page, "agent-test-call");

  await panel.getByTestId("test-call-stop").click();
  await expect(panel.getByTestId("test-call-status")).toHaveAttribute("data-phase", "ended", { timeout: 10_000 });
  await expect(panel.getByTestId("test-call-status")).toContainText("Call ended");
  await expect(panel.getByTestId("test-call-start")).toBeVisible();

  // The call is in Calls, marked as a browser test call, with its conversation.
  await panel.getByTestId("test-call-link").click();
  await expect(page).toHaveURL(/\/calls\?call=/);
  const row = page.getByTestId("call-row");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Browser test call");
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("detail-status")).toHaveText("completed");
  await expect(detail.getByTestId("detail-provider")).toHaveText("the browser (test call)");
  await expect(detail.getByTestId("conversation")).toContainText(GREETING);
  await expect(detail.getByTestId("conversation")).toContainText(HOURS);
  await browser.close();
  fs.rmSync(path.dirname(wav), { recursive: true, force: true });
});

test("a test call without microphone access says so and sends nothing", async ({ playwright }) => {
  const base = test.info().project.use.baseURL!;
  // A microphone exists, but this site was never allowed to use it: the prompt is refused.
  const browser = await playwright.chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream"],
  });
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await signUp(page);
  await hoursAgent(page, "Quiet desk", GREETING);
  await open(page, "/agents");
  await page.getByTestId("agent-card").getByTestId("test-call-agent").click();
  const panel = page.getByRole("dialog", { name: "Test call" });
  await panel.getByTestId("test-call-start").click();
  await expect(panel.getByTestId("test-call-status")).toHaveAttribute("data-phase", "failed");
  await expect(panel.getByTestId("test-call-error")).toHaveText("Microphone access was refused. Allow it for this site and try again.");
  await expect(panel.getByTestId("test-call-link")).toHaveCount(0);
  await keepScreenshot(page, "agent-test-call-no-microphone");
  // No call was recorded.
  const calls = await page.request.get("/api/calls");
  expect((await calls.json()).calls).toHaveLength(0);
  await panel.getByTestId("test-call-close").click();
  await expect(panel).toHaveCount(0);
  await browser.close();
});
