import { test, expect } from "@playwright/test";
import { keepScreenshot, open, signUp } from "./helpers";

// The provider accounts these journeys use live in end2end/cloud.json (the local provider cloud).
const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "f00dfacef00dfacef00dfacef00dface";

test("importing asks the provider: a number not in the account and a wrong token are refused next to their fields; the card shows when it was verified", async ({ page }) => {
  await signUp(page);
  await open(page, "/numbers");
  await page.getByTestId("import-number").click();
  const modal = page.getByRole("dialog", { name: "Import phone number" });
  await modal.getByLabel("Provider").selectOption("twilio");
  await modal.getByLabel("Phone number (E.164)").fill("+1 415 555 0199");
  await modal.getByLabel("Account SID").fill(SID);
  await modal.getByLabel("Auth token").fill(TOKEN);
  await modal.getByTestId("save-number").click();
  await expect(modal.getByTestId("error-phoneNumber")).toContainText("does not have +14155550199");

  await modal.getByLabel("Phone number (E.164)").fill("+1 415 555 0123");
  await modal.getByLabel("Auth token").fill("0".repeat(32));
  await modal.getByTestId("save-number").click();
  await expect(modal.getByTestId("error-twilioConfig-authToken")).toContainText("Twilio refused these credentials");
  await expect(modal.getByTestId("error-phoneNumber")).toBeEmpty();

  await modal.getByLabel("Auth token").fill(TOKEN);
  await modal.getByTestId("save-number").click();
  await expect(modal).toHaveCount(0);
  const card = page.getByTestId("number-card");
  await expect(card.getByTestId("verification-status")).toHaveText("Verified");
  await expect(card.getByTestId("last-verified")).toContainText("verified 20");
  await card.getByTestId("verify-number").click();
  await expect(card.getByTestId("verification-status")).toHaveText("Verified");
  await keepScreenshot(page, "phone-numbers-verified");
});

test("a CSV of numbers: preview, import with progress, per-row errors, and the same file twice changes nothing", async ({ page }) => {
  await signUp(page);
  await open(page, "/numbers");
  await page.getByTestId("bulk-import").click();
  const dialog = page.getByRole("dialog", { name: "Import numbers from CSV" });
  const csv = [
    "phoneNumber,displayName,provider",
    "+14155550124,Front desk,twilio",
    "+14155550125,Sales,twilio",
    "+14155550177,Not ours,twilio",
    "12345,Broken,other",
    "+918047491800,Spare,other",
  ].join("\n");
  await dialog.getByTestId("csv-file").setInputFiles({ name: "numbers.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  // The Twilio credentials once, for every row.
  await dialog.getByLabel("Provider for every row").selectOption("twilio");
  await dialog.getByLabel("Account (SID, auth id or API key)").fill(SID);
  await dialog.getByLabel("Secret for every row").fill(TOKEN);
  await dialog.getByTestId("preview-import").click();
  await expect(dialog.getByTestId("preview-row")).toHaveCount(5);
  await expect(dialog.getByTestId("preview-summary")).toContainText("5 rows");
  await expect(dialog.getByTestId("import-failure")).toContainText(["Line 5: phoneNumber"]);
  await expect(page.getByTestId("number-card")).toHaveCount(0);
  await keepScreenshot(page, "bulk-import-preview");

  await dialog.getByTestId("start-import").click();
  await expect(dialog.getByTestId("import-summary")).toContainText("5 rows: 3 imported, 0 updated, 0 unchanged, 2 failed");
  await expect(dialog.getByTestId("import-progress").getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
  await expect(dialog.getByTestId("import-failure")).toContainText(["Line 4: phoneNumber — Twilio account", "Line 5: phoneNumber"]);
  await keepScreenshot(page, "bulk-import-done");

  await dialog.getByTestId("start-import").click();
  await expect(dialog.getByTestId("import-summary")).toContainText("0 imported, 0 updated, 3 unchanged, 2 failed");
  await dialog.getByTestId("close-import").click();
  await expect(page.getByTestId("number-card")).toHaveCount(3);
  await expect(page.getByTestId("verification-status").filter({ hasText: "Verified" })).toHaveCount(2);
});

test("the provider check lists what would stop a call, with the fix and the guide's section for each", async ({ page }) => {
  await signUp(page);
  const created = await page.request.post("/api/phone-numbers", {
    headers: { origin: test.info().project.use.baseURL! },
    data: { phoneNumber: "+918047491855", provider: "other", status: "inactive" },
  });
  expect(created.status()).toBe(201);
  await open(page, "/numbers");
  const card = page.getByTestId("number-card");
  await card.getByTestId("check-number").click();
  await expect(card.getByTestId("doctor-verdict")).toHaveText("Not ready: fix the items marked ✗");
  const check = (id: string) => card.locator(`[data-check="${id}"]`);
  await expect(check("public_url")).toHaveAttribute("data-status", "fail");
  await expect(check("public_url")).toContainText("no provider can reach");
  await expect(check("number_status")).toHaveAttribute("data-status", "fail");
  await expect(check("agent")).toHaveAttribute("data-status", "fail");
  await expect(check("ownership")).toHaveAttribute("data-status", "skip");
  await keepScreenshot(page, "doctor-checklist");

  await page.getByTestId("check-all").click();
  await expect(page.getByTestId("doctor-all-summary")).toHaveText("0 of 1 numbers ready for calls");

  await check("public_url").getByTestId("doctor-guide").click();
  await expect(page).toHaveURL(/\/setup#public-url$/);
  const guide = page.getByTestId("setup-guide");
  await expect(guide.locator("h4#public-url")).toBeVisible();
  await expect(guide.locator("h3#exotel")).toHaveCount(1);
  await expect(guide).toContainText(new URL(page.url()).origin);
  await expect(guide).not.toContainText("voxgate.example.com");
  await expect(page.getByTestId("your-url-row")).toContainText(["+918047491855"]);
  await keepScreenshot(page, "setup-guide");
});
