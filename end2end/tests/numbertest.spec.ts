import { test, expect } from "@playwright/test";
import { hoursAgent, keepScreenshot, open, signUp } from "./helpers";

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "f00dfacef00dfacef00dfacef00dface";
const GREETING = "Hello, this is the test desk.";

test("a number's Test places a simulated call through its answer URL and stream and shows each step", async ({ page }) => {
  test.setTimeout(150_000);
  await signUp(page);
  await hoursAgent(page, "Test desk", GREETING);
  const base = test.info().project.use.baseURL!;
  const twilio = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+14155550140", provider: "twilio", displayName: "Twilio line", twilioConfig: { accountSid: SID, authToken: TOKEN } },
  });
  expect(twilio.status()).toBe(201);
  const idle = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491866", provider: "other", displayName: "Idle line", status: "inactive" },
  });
  expect(idle.status()).toBe(201);

  await open(page, "/numbers");
  const card = page.getByTestId("number-card").filter({ hasText: "Twilio line" });
  await card.getByTestId("test-number").click();
  const panel = page.getByRole("dialog", { name: "Test call" });
  await expect(panel.getByTestId("test-running")).toBeVisible();
  await expect(panel.getByTestId("test-verdict")).toHaveText("The test call went through", { timeout: 60_000 });
  const steps = panel.getByTestId("test-step");
  await expect(steps).toHaveCount(9);
  await expect(panel.locator('[data-testid="test-step"][data-status="pass"]')).toHaveCount(9);
  await expect(panel.locator('[data-step="answer"]')).toContainText("XML: stream ws://");
  await expect(panel.locator('[data-step="greeting"]')).toContainText(GREETING);
  await expect(panel.locator('[data-step="caller"] [data-testid="test-step-detail"]')).toContainText(/heard “.*order.*”/i);
  // Credentials are used on the server, never sent to the page.
  expect(await page.content()).not.toContain(TOKEN);
  await keepScreenshot(page, "number-test-steps");

  // The recorded call opens in Call Logs with its conversation.
  await panel.getByTestId("test-call-link").click();
  await expect(page).toHaveURL(/\/calls\?phoneId=.*&call=/);
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("detail-status")).toHaveText("completed");
  await expect(detail.getByTestId("detail-provider")).toHaveText("Twilio (test call)");
  await expect(detail.getByTestId("conversation")).toContainText(GREETING);

  // An inactive number: its answer hangs up, so the test stops there and says why.
  await open(page, "/numbers");
  const idleCard = page.getByTestId("number-card").filter({ hasText: "Idle line" });
  await idleCard.getByTestId("test-number").click();
  const failed = page.getByRole("dialog", { name: "Test call" });
  await expect(failed.getByTestId("test-verdict")).toContainText("failed", { timeout: 30_000 });
  await expect(failed.locator('[data-step="webhook"]')).toHaveAttribute("data-status", "pass");
  await expect(failed.locator('[data-step="answer"]')).toHaveAttribute("data-status", "fail");
  await expect(failed.locator('[data-step="answer"]')).toContainText("inactive");
  await expect(failed.locator('[data-step="stream"]')).toHaveAttribute("data-status", "skip");
  await failed.getByTestId("test-close").click();
  await expect(failed).toHaveCount(0);
});
