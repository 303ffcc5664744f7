import { test, expect } from "@playwright/test";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { open, keepScreenshot, signUp } from "./helpers";

const repoRoot = path.resolve(__dirname, "..", "..");
const bin = process.env.VOXGATE_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target"), "debug", "voxgate");
const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "f00dfacef00dfacef00dfacef00dface";

test("a Twilio number: import it, copy its URL, take a simulated Twilio call, see it in Call Logs", async ({ page, context }) => {
  test.setTimeout(150_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page);
  const base = test.info().project.use.baseURL!;
  const agentRes = await page.request.post("/api/agents", {
    headers: { origin: base },
    data: { name: "Twilio desk", greeting: "Hello, this is the Twilio desk.", rules: [{ keywords: ["open", "hours"], reply: "We are open from nine to five." }] },
  });
  expect(agentRes.status()).toBe(201);

  // Import: the provider's own section, validated live next to each field.
  await open(page, "/numbers");
  await page.getByTestId("import-number").click();
  const modal = page.getByRole("dialog", { name: "Import phone number" });
  await modal.getByLabel("Provider").selectOption("twilio");
  await expect(modal.getByTestId("twilio-section")).toBeVisible();
  await expect(modal.getByTestId("exotel-section")).toHaveCount(0);
  await modal.getByLabel("Phone number (E.164)").fill("+1 415 555 2671");
  await modal.getByLabel("Account SID").fill("AC123");
  await expect(modal.getByTestId("error-twilioConfig-accountSid")).toContainText("AC followed by 32 hex digits");
  await modal.getByLabel("Account SID").fill(SID);
  await expect(modal.getByTestId("error-twilioConfig-accountSid")).toBeEmpty();
  await modal.getByTestId("save-number").click();
  await expect(modal.getByTestId("error-twilioConfig-authToken")).toContainText("auth token");
  await modal.getByLabel("Auth token").fill(TOKEN);
  await modal.getByLabel("Agent").selectOption({ label: "Twilio desk" });
  await keepScreenshot(page, "number-modal-twilio");
  await modal.getByTestId("save-number").click();
  await expect(modal).toHaveCount(0);

  // The card: one URL to paste (the voice webhook), the token masked.
  const card = page.getByTestId("number-card");
  await expect(card.getByTestId("number-auth-token")).toHaveText("••••face");
  await expect(card.getByTestId("websocket-url")).toHaveCount(0);
  const webhook = (await card.getByTestId("webhook-url").textContent())!;
  expect(webhook).toMatch(/\/api\/telephony\/twilio\/voice\/[a-z0-9]+$/);
  await card.getByTestId("webhook-copy").click();
  await expect(card.getByTestId("webhook-copy")).toHaveText("Copied!");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(webhook);
  expect(await page.content()).not.toContain(TOKEN);
  await keepScreenshot(page, "phone-numbers-card-twilio");

  // Twilio's side, simulated: a signed webhook, TwiML, a μ-law stream in real time.
  const call = spawn(bin, ["call", webhook, "--provider", "twilio", "--say", "Hello, what are your opening hours?"], {
    cwd: repoRoot,
    env: { ...process.env, TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  call.stdout.on("data", (d) => (output += d));
  call.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => call.on("exit", (c) => resolve(c)));
  expect(code, output).toBe(0);
  expect(output).toMatch(/greeting\s+first audio \d+ ms after start/);

  await open(page, "/calls");
  const row = page.getByTestId("call-row");
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("call-caller")).toHaveText("+14155550100");
  await expect(row.getByTestId("call-status")).toHaveText("completed");
  await row.click();
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("detail-provider")).toHaveText("Twilio");
  await expect(detail).toContainText(/CA[0-9a-f]{32}/);
  await expect(detail.getByTestId("conversation")).toContainText("Hello, this is the Twilio desk.");
  await expect(detail.getByTestId("conversation")).toContainText("We are open from nine to five.");
  await keepScreenshot(page, "call-logs-twilio");

  // The Setup Guide explains the Twilio steps.
  await open(page, "/setup");
  await expect(page.getByTestId("guide-twilio")).toContainText("A call comes in");
});
