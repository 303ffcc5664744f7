import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp } from "./helpers";

test("a call placed through the webhook shows in Call Logs with its provider parameters", async ({ page, playwright }) => {
  await signUp(page);
  const base = test.info().project.use.baseURL!;
  const created = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491899", provider: "other", displayName: "Logs line" },
  });
  expect(created.status()).toBe(201);
  const number = await created.json();

  // Exotel's side: an unauthenticated request to the number's webhook URL (with its key).
  const exotel = await playwright.request.newContext();
  const webhook = new URL(number.webhookUrl);
  const answer = await exotel.post(`${base}${webhook.pathname}${webhook.search}`, {
    form: { CallSid: "CAE2E1", From: "+919876543210", To: "+918047491899", Direction: "incoming", CircleName: "Maharashtra" },
  });
  expect(answer.status()).toBe(200);
  expect(await answer.text()).toContain("<Connect><Stream");
  await exotel.dispose();

  // The number's card shows its last call, and its link opens that call.
  await open(page, "/numbers");
  const last = page.getByTestId("number-last-call-link");
  await expect(last).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} · \+919876543210 · ringing$/);
  await last.click();
  await expect(page).toHaveURL(/\/calls\?phoneId=.+&call=/);
  await expect(page.getByTestId("call-detail")).toContainText("CAE2E1");

  await open(page, "/numbers");
  await page.getByTestId("number-calls").click();
  await expect(page).toHaveURL(/\/calls\?phoneId=/);
  const row = page.getByTestId("call-row");
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("call-caller")).toHaveText("+919876543210");
  await expect(row.getByTestId("call-status")).toHaveText("ringing");
  await row.click();
  const detail = page.getByTestId("call-detail");
  await expect(detail).toContainText("CAE2E1");
  await expect(detail.getByTestId("call-param").filter({ hasText: "Maharashtra" })).toHaveCount(1);
  await keepScreenshot(page, "call-logs-detail");

  // A date range of today alone includes today's call (the "to" day counts in full).
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel("From date").fill(today);
  await page.getByLabel("To date").fill(today);
  await expect(row).toHaveCount(1);
  await page.getByLabel("To date").fill("2020-01-01");
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await page.getByLabel("To date").fill(today);
  await expect(row).toHaveCount(1);

  await page.getByLabel("Filter by status").selectOption("completed");
  await expect(page.getByTestId("empty-state")).toBeVisible();
});
