import { test, expect } from "@playwright/test";
import { copyUrl, expectOneCall, hoursAgent, keepScreenshot, open, signUp, voxgateCall } from "./helpers";

const AUTH_ID = "MA0123456789ABCDEFGH";
const AUTH_TOKEN = "PlivoE2eToken000000000000000000000000cafe";

test("a Plivo number: import it, copy its URLs, take a simulated Plivo call, see it in Call Logs", async ({ page, context }) => {
  test.setTimeout(150_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page);
  await hoursAgent(page, "Plivo desk", "Hello, this is the Plivo desk.");

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
  const answer = await copyUrl(page, card, "webhook");
  expect(answer).toMatch(/\/api\/telephony\/plivo\/answer\/[a-z0-9]+$/);
  await expect(card.getByTestId("event-url")).toHaveText(answer.replace("/answer/", "/hangup/"));
  expect(await page.content()).not.toContain(AUTH_TOKEN);
  await keepScreenshot(page, "phone-numbers-card-plivo");

  // Plivo's side, simulated: a V3-signed answer webhook, Plivo XML, 16-bit audio at 16 kHz.
  const output = await voxgateCall([answer, "--provider", "plivo", "--rate", "16000", "--say", "Hello, what are your opening hours?"], { PLIVO_AUTH_ID: AUTH_ID, PLIVO_AUTH_TOKEN: AUTH_TOKEN });
  expect(output).toMatch(/\(16000 Hz\)/);

  await expectOneCall(page, "+14155550100", "Plivo", "Hello, this is the Plivo desk.", "call-logs-plivo");

  await open(page, "/setup");
  await expect(page.getByTestId("guide-plivo")).toContainText("X-Plivo-Signature-V3");
});
