import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp } from "./helpers";

test("agent and phone number journey: create, import, copy, edit, refuse bad input, delete", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page);

  // Create an agent.
  await open(page, "/agents");
  await page.getByTestId("new-agent").click();
  const agentForm = page.getByRole("dialog", { name: "New agent" });
  await agentForm.getByLabel("Name").fill("Front desk");
  await agentForm.getByLabel("Greeting").fill("Welcome to Acme. How can I help?");
  await agentForm.getByLabel("Scripted replies").fill("hours, open => We are open nine to five.");
  await keepScreenshot(page, "agent-form");
  await agentForm.getByTestId("save-agent").click();
  await expect(agentForm).toHaveCount(0);
  await expect(page.getByTestId("agent-name")).toHaveText("Front desk");
  await keepScreenshot(page, "agents-list");

  // Import a number linked to it.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Phone Numbers" }).click();
  await page.getByTestId("import-number").click();
  const modal = page.getByRole("dialog", { name: "Import phone number" });
  await expect(modal.getByTestId("exotel-section")).toBeVisible();
  await modal.getByLabel("Phone number (E.164)").fill("+91 98765 43210");
  await modal.getByLabel("Display name").fill("Support line");
  await modal.getByLabel("Agent").selectOption({ label: "Front desk" });
  await modal.getByLabel("API key").fill("KEY-abcdef1234");
  await modal.getByLabel("API token").fill("TOKEN-secret-9876");
  await modal.getByLabel("Account SID").fill("acme1");
  // Live region/domain rule: Singapore switches the domain.
  await modal.getByLabel("Region").selectOption("sg");
  await expect(modal.getByLabel("API domain")).toHaveValue("api.exotel.com");
  await modal.getByLabel("Region").selectOption("in");
  await expect(modal.getByLabel("API domain")).toHaveValue("api.in.exotel.com");
  await keepScreenshot(page, "number-modal");
  await modal.getByTestId("save-number").click();
  await expect(modal).toHaveCount(0);

  const card = page.getByTestId("number-card");
  await expect(card).toHaveCount(1);
  await expect(card.getByTestId("number-value")).toHaveText("+919876543210");
  await expect(page.getByTestId("numbers-total")).toHaveText("1 number");
  await expect(card.getByTestId("number-last-call")).toHaveText("never");
  await expect(page.getByTestId("next-page")).toBeDisabled();
  await expect(card.getByTestId("number-status")).toHaveText("active");
  await expect(card.getByTestId("number-api-key")).toHaveText("••••1234");
  await expect(card.getByTestId("number-agent").getByRole("link")).toHaveText("Front desk");
  expect(await page.content()).not.toContain("KEY-abcdef1234");

  // Copy the webhook URL: visible feedback and the real clipboard content.
  const webhook = (await card.getByTestId("webhook-url").textContent())!;
  expect(webhook).toMatch(/\/api\/telephony\/webhook\/[a-z0-9]+\?key=[A-Za-z0-9]{32}$/);
  await card.getByTestId("webhook-copy").click();
  await expect(card.getByTestId("webhook-copy")).toHaveText("Copied!");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(webhook);
  await card.getByTestId("websocket-copy").click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/^ws:\/\/.*\/api\/telephony\/ws\/.*sample-rate=8000$/);
  await keepScreenshot(page, "phone-numbers-card");

  // Edit: the number is locked, credentials are kept when left empty.
  await card.getByTestId("edit-number").click();
  const edit = page.getByRole("dialog", { name: "Edit phone number" });
  await expect(edit.getByLabel("Phone number (E.164)")).toBeDisabled();
  await edit.getByLabel("Display name").fill("Sales line");
  await edit.getByTestId("save-number").click();
  await expect(edit).toHaveCount(0);
  await expect(card.getByTestId("number-name")).toHaveText("Sales line");
  await expect(card.getByTestId("number-api-key")).toHaveText("••••1234");

  // A bad number: the error shows next to the field and nothing is saved.
  await page.getByTestId("import-number").click();
  const bad = page.getByRole("dialog", { name: "Import phone number" });
  await bad.getByLabel("Phone number (E.164)").fill("12345");
  await expect(bad.getByTestId("error-phoneNumber")).toContainText("international format");
  await bad.getByTestId("save-number").click();
  await expect(bad.getByTestId("error-exotelConfig-apiKey")).toContainText("API key");
  await keepScreenshot(page, "number-modal-errors");
  await bad.getByRole("button", { name: "Cancel" }).click();
  await page.getByTestId("refresh-numbers").click();
  await expect(page.getByTestId("number-card")).toHaveCount(1);

  // Delete with confirmation.
  page.once("dialog", (d) => d.accept());
  await card.getByTestId("delete-number").click();
  await expect(page.getByTestId("number-card")).toHaveCount(0);
  await expect(page.getByTestId("empty-state")).toContainText("No phone numbers yet");
});

test("deleting an agent that numbers use asks first and unlinks them", async ({ page }) => {
  await signUp(page);
  await open(page, "/agents");
  await page.getByTestId("new-agent").click();
  const form = page.getByRole("dialog", { name: "New agent" });
  await form.getByLabel("Name").fill("Temp agent");
  await form.getByTestId("save-agent").click();
  await expect(page.getByTestId("agent-name")).toHaveText("Temp agent");

  await open(page, "/numbers");
  await page.getByTestId("import-number").click();
  const modal = page.getByRole("dialog", { name: "Import phone number" });
  await modal.getByLabel("Provider").selectOption("other");
  await expect(modal.getByTestId("exotel-section")).toHaveCount(0);
  await modal.getByLabel("Phone number (E.164)").fill("+14155552671");
  await modal.getByLabel("Agent").selectOption({ label: "Temp agent" });
  await modal.getByTestId("save-number").click();
  await expect(page.getByTestId("number-agent")).toHaveText("Temp agent");

  await open(page, "/agents");
  let message = "";
  page.once("dialog", (d) => { message = d.message(); d.accept(); });
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByTestId("agent-card")).toHaveCount(0);
  expect(message).toContain("1 phone number(s) use it");
  await open(page, "/numbers");
  await expect(page.getByTestId("number-agent")).toContainText("None");
});
