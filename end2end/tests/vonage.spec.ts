import { test, expect } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyUrl, expectOneCall, hoursAgent, keepScreenshot, open, signUp, voxgateCall } from "./helpers";

const repoRoot = path.resolve(__dirname, "..", "..");
const API_KEY = "a1b2c3d4";
const API_SECRET = "VonageSecret1234";
const APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";
const SIGNATURE_SECRET = "e2e-signature-secret-0000beef";
// A throwaway RSA key made for the benchmarks and tests (server/src/bench/throwaway-rsa.pem).
const PRIVATE_KEY = fs.readFileSync(path.join(repoRoot, "server", "src", "bench", "throwaway-rsa.pem"), "utf8");

test("a Vonage number: import it, copy its URLs, take a simulated Vonage call, see it in Call Logs", async ({ page, context }) => {
  test.setTimeout(150_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page);
  await hoursAgent(page, "Vonage desk", "Hello, this is the Vonage desk.");

  // Import: Vonage's own section, validated live next to each field.
  await open(page, "/numbers");
  await page.getByTestId("import-number").click();
  const modal = page.getByRole("dialog", { name: "Import phone number" });
  await modal.getByLabel("Provider").selectOption("vonage");
  await expect(modal.getByTestId("vonage-section")).toBeVisible();
  await expect(modal.getByTestId("twilio-section")).toHaveCount(0);
  await modal.getByLabel("Phone number (E.164)").fill("+44 20 7946 0958");
  await modal.getByLabel("API key").fill(API_KEY);
  await modal.getByLabel("Application id").fill("not-a-uuid");
  await expect(modal.getByTestId("error-vonageConfig-applicationId")).toContainText("UUID");
  await modal.getByLabel("Application id").fill(APP_ID);
  await expect(modal.getByTestId("error-vonageConfig-applicationId")).toBeEmpty();
  await modal.getByTestId("save-number").click();
  await expect(modal.getByTestId("error-vonageConfig-privateKey")).toContainText("private key");
  await modal.getByLabel("API secret").fill(API_SECRET);
  await modal.getByLabel("Signature secret").fill(SIGNATURE_SECRET);
  await modal.getByLabel("Private key (private.key)").fill("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----");
  await modal.getByLabel("Agent").selectOption({ label: "Vonage desk" });
  // The shape passes in the browser; the server parses the key and says it is not one.
  await modal.getByTestId("save-number").click();
  await expect(modal.getByTestId("error-vonageConfig-privateKey")).toContainText("not an RSA private key");
  await modal.getByLabel("Private key (private.key)").fill(PRIVATE_KEY);
  await keepScreenshot(page, "number-modal-vonage");
  await modal.getByTestId("save-number").click();
  await expect(modal).toHaveCount(0);

  // The card: the answer and event URLs to paste, every secret masked.
  const card = page.getByTestId("number-card");
  await expect(card.getByTestId("number-signature-secret")).toHaveText("••••beef");
  const answer = await copyUrl(page, card, "webhook");
  expect(answer).toMatch(/\/api\/telephony\/vonage\/answer\/[a-z0-9]+$/);
  await expect(card.getByTestId("event-url")).toHaveText(answer.replace("/answer/", "/event/"));
  const html = await page.content();
  for (const secret of [API_SECRET, SIGNATURE_SECRET, "PRIVATE KEY"]) expect(html).not.toContain(secret);
  await keepScreenshot(page, "phone-numbers-card-vonage");

  // Vonage's side, simulated: a JWT-signed answer webhook, an NCCO, binary 16-bit audio at 16 kHz.
  const output = await voxgateCall([answer, "--provider", "vonage", "--say", "Hello, what are your opening hours?"], { VONAGE_API_KEY: API_KEY, VONAGE_SIGNATURE_SECRET: SIGNATURE_SECRET, VONAGE_APPLICATION_ID: APP_ID });
  expect(output).toMatch(/\(16000 Hz\)/);
  expect(output).toMatch(/\(0 off-size/);

  await expectOneCall(page, "+447700900100", "Vonage", "Hello, this is the Vonage desk.", "call-logs-vonage");

  await open(page, "/setup");
  await expect(page.getByTestId("guide-vonage")).toContainText("signed webhooks");
});
