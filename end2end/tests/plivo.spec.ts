import { test, expect } from "@playwright/test";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { open, keepScreenshot, signUp } from "./helpers";

const repoRoot = path.resolve(__dirname, "..", "..");
const bin = process.env.VOXGATE_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target"), "debug", "voxgate");
const AUTH_ID = "MA0123456789ABCDEFGH";
const AUTH_TOKEN = "PlivoE2eToken000000000000000000000000cafe";

test("a Plivo number: import it, copy its URLs, take a simulated Plivo call, see it in Call Logs", async ({ page, context }) => {
  test.setTimeout(150_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page);
  const base = test.info().project.use.baseURL!;
  const agentRes = await page.request.post("/api/agents", {
    headers: { origin: base },
    data: { name: "Plivo desk", greeting: "Hello, this is the Plivo desk.", rules: [{ keywords: ["open", "hours"], reply: "We are open from nine to five." }] },
  });
  expect(agentRes.status()).toBe(201);

  await open(page, "/numbers");
  await page.getByTestId("import-number").click();
  const modal = page.getByRole("dialog", { name: "Import phone number" });
  await modal.getByLabel("Provider").selectOption("plivo");
  await expect(modal.getByTestId("plivo-section")).toBeVisible();
  await expect(modal.getByTestId("vonage-section")).toHaveCount(0);
  await modal.getByLabel("Phone number (E.164)").fill("+1 415 555 2671");
  await modal.getByLabel("Auth id").fill("XX123");
  await expect(modal.getByTestId("error-plivoConfig-authId")).toContainText("MA or SA");
  await modal.getByLabel("Auth id").fill(AUTH_ID);
  await expect(modal.getByTestId("error-plivoConfig-authId")).toBeEmpty();
  await modal.getByTestId("save-number").click();
  await expect(modal.getByTestId("error-plivoConfig-authToken")).toContainText("auth token");
  await modal.getByLabel("Auth token").fill(AUTH_TOKEN);
  await modal.getByLabel("Audio").selectOption("audio/x-l16;rate=16000");
  await modal.getByLabel("Agent").selectOption({ label: "Plivo desk" });
  await keepScreenshot(page, "number-modal-plivo");
  await modal.getByTestId("save-number").click();
  await expect(modal).toHaveCount(0);

  const card = page.getByTestId("number-card");
  await expect(card.getByTestId("number-auth-token")).toHaveText("••••cafe");
  const answer = (await card.getByTestId("webhook-url").textContent())!;
  expect(answer).toMatch(/\/api\/telephony\/plivo\/answer\/[a-z0-9]+$/);
  await expect(card.getByTestId("event-url")).toHaveText(answer.replace("/answer/", "/hangup/"));
  await card.getByTestId("webhook-copy").click();
  await expect(card.getByTestId("webhook-copy")).toHaveText("Copied!");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(answer);
  expect(await page.content()).not.toContain(AUTH_TOKEN);
  await keepScreenshot(page, "phone-numbers-card-plivo");

  // Plivo's side, simulated: a V3-signed answer webhook, Plivo XML, 16-bit audio at 16 kHz.
  const call = spawn(bin, ["call", answer, "--provider", "plivo", "--rate", "16000", "--say", "Hello, what are your opening hours?"], {
    cwd: repoRoot,
    env: { ...process.env, PLIVO_AUTH_ID: AUTH_ID, PLIVO_AUTH_TOKEN: AUTH_TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  call.stdout.on("data", (d) => (output += d));
  call.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => call.on("exit", (c) => resolve(c)));
  expect(code, output).toBe(0);
  expect(output).toMatch(/\(16000 Hz\)/);
  expect(output).toMatch(/greeting\s+first audio \d+ ms after start/);

  await open(page, "/calls");
  const row = page.getByTestId("call-row");
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("call-caller")).toHaveText("+14155550100");
  await expect(row.getByTestId("call-status")).toHaveText("completed");
  await row.click();
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("detail-provider")).toHaveText("Plivo");
  await expect(detail.getByTestId("conversation")).toContainText("Hello, this is the Plivo desk.");
  await expect(detail.getByTestId("conversation")).toContainText("We are open from nine to five.");
  await keepScreenshot(page, "call-logs-plivo");

  await open(page, "/setup");
  await expect(page.getByTestId("guide-plivo")).toContainText("X-Plivo-Signature-V3");
});
