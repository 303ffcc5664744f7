import { test, expect } from "@playwright/test";
import { copyUrl, expectOneCall, hoursAgent, keepScreenshot, open, signUp, voxgateCall } from "./helpers";

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "f00dfacef00dfacef00dfacef00dface";

test("a Twilio number: import it, copy its URL, take a simulated Twilio call, see it in Call Logs", async ({ page, context }) => {
  test.setTimeout(150_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page);
  await hoursAgent(page, "Twilio desk", "Hello, this is the Twilio desk.");

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
  const webhook = await copyUrl(page, card, "webhook");
  expect(webhook).toMatch(/\/api\/telephony\/twilio\/voice\/[a-z0-9]+$/);
  expect(await page.content()).not.toContain(TOKEN);
  await keepScreenshot(page, "phone-numbers-card-twilio");

  // Twilio's side, simulated: a signed webhook, TwiML, a μ-law stream in real time.
  await voxgateCall([webhook, "--provider", "twilio", "--say", "Hello, what are your opening hours?"], {
    TWILIO_ACCOUNT_SID: SID,
    TWILIO_AUTH_TOKEN: TOKEN,
  });
  const detail = await expectOneCall(page, "+14155550100", "Twilio", "Hello, this is the Twilio desk.", "call-logs-twilio");
  await expect(detail).toContainText(/CA[0-9a-f]{32}/);

  // The Setup Guide explains the Twilio steps.
  await open(page, "/setup");
  await expect(page.getByTestId("guide-twilio")).toContainText("A call comes in");
});
