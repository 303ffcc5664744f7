import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp } from "./helpers";

test("a number's routing is edited on its card, checked by its fields, saved, drawn, and read back over REST", async ({ page }) => {
  await signUp(page);
  const base = test.info().project.use.baseURL!;
  const ids: Record<string, string> = {};
  for (const [name, greeting] of [["Sales", "Sales here."], ["Support", "Support here."], ["Night", "Night line."]]) {
    const res = await page.request.post("/api/agents", { headers: { origin: base }, data: { name, greeting } });
    expect(res.status()).toBe(201);
    ids[name] = (await res.json()).id;
  }
  const created = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491899", provider: "other", linkedAgentId: ids.Sales },
  });
  expect(created.status()).toBe(201);
  const number = await created.json();

  await open(page, "/numbers");
  const card = page.getByTestId("number-card");
  await expect(card.getByTestId("routing-diagram")).toHaveCount(0);
  await card.getByTestId("routing-open").click();
  const form = page.getByRole("dialog", { name: "Routing for +918047491899" });

  // Wrong fields: each error beside its field, and nothing is saved.
  await form.getByLabel("Time zone").fill("");
  await form.getByTestId("routing-input-routing-hours-0-to").fill("5pm");
  await form.getByTestId("routing-input-routing-open-type").selectOption("menu");
  await form.getByTestId("routing-save").click();
  await expect(form.getByTestId("error-routing-timezone")).toContainText("time zone");
  await expect(form.getByTestId("error-routing-hours-0-to")).toContainText("HH:MM");
  await expect(form.getByTestId("error-routing-open-type")).toContainText("Set up the menu first");
  // The time zone database is the server's: a made-up zone comes back from it, by its field.
  await form.getByLabel("Time zone").fill("Mars/Olympus");
  await form.getByTestId("routing-input-routing-hours-0-to").fill("17:30");
  await form.getByTestId("routing-input-routing-open-type").selectOption("agent");
  await form.getByTestId("routing-input-routing-open-agentId").selectOption(ids.Sales);
  await form.getByTestId("routing-save").click();
  await expect(form.getByTestId("error-routing-timezone")).toContainText("IANA");
  expect((await (await page.request.get(`/api/phone-numbers/${number.id}/routing`)).json()).routing).toBeNull();

  // The menu inside hours (1 sales, 2 support), the night agent outside, Christmas closed.
  await form.getByLabel("Time zone").fill("Asia/Kolkata");
  await expect(form.getByTestId("error-routing-timezone")).toHaveText("");
  await form.getByTestId("routing-input-routing-holidays").fill("2026-12-25 Christmas\n2026-02-30 Nonsense");
  await form.getByTestId("routing-menu-on").check();
  await form.getByLabel("What the menu says").fill("Press 1 for sales, 2 for support.");
  await form.getByTestId("routing-input-routing-menu-options-0-target-agentId").selectOption(ids.Sales);
  await form.getByTestId("routing-add-option").click();
  await form.getByTestId("routing-input-routing-menu-options-1-digit").fill("1");
  await form.getByTestId("routing-input-routing-menu-options-1-target-agentId").selectOption(ids.Support);
  await form.getByTestId("routing-input-routing-open-type").selectOption("menu");
  await form.getByTestId("routing-input-routing-closed-agentId").selectOption(ids.Night);
  await form.getByTestId("routing-save").click();
  await expect(form.getByTestId("error-routing-menu-options-1-digit")).toContainText("Each key leads to one option");
  await expect(form.getByTestId("error-routing-holidays")).toContainText("Holiday 2 (2026-02-30)");
  await form.getByTestId("routing-input-routing-menu-options-1-digit").fill("2");
  await form.getByTestId("routing-input-routing-holidays").fill("2026-12-25 Christmas");
  // Fixed fields lose their errors at once.
  await expect(form.getByTestId("error-routing-menu-options-1-digit")).toHaveText("");
  await expect(form.getByTestId("error-routing-holidays")).toHaveText("");
  await form.getByTestId("routing-input-routing-menu-defaultDigit").selectOption("1");
  // The preview follows the form.
  await expect(form.getByTestId("diagram-option-2")).toContainText("Agent Support");
  await keepScreenshot(page, "routing-form");
  await form.getByTestId("routing-save").click();
  await expect(form).toHaveCount(0);

  // The card draws it.
  const diagram = card.getByTestId("routing-diagram");
  await expect(diagram.getByTestId("diagram-hours")).toHaveText("Mon–Fri 09:00–17:30 (Asia/Kolkata)");
  await expect(diagram.getByTestId("diagram-open-target")).toHaveText("→ Menu");
  await expect(diagram.getByTestId("diagram-option-1")).toContainText("Agent Sales");
  await expect(diagram.getByTestId("diagram-option-2")).toContainText("Agent Support");
  await expect(diagram.getByTestId("diagram-no-key")).toHaveText("No key after 3 tries → 1");
  await expect(diagram.getByTestId("diagram-closed")).toContainText("1 holiday");
  await expect(diagram.getByTestId("diagram-closed-target")).toHaveText("→ Agent Night");
  await keepScreenshot(page, "routing-card");

  // REST reads back what was saved.
  const routing = (await (await page.request.get(`/api/phone-numbers/${number.id}/routing`)).json()).routing;
  expect(routing).toEqual({
    timezone: "Asia/Kolkata",
    hours: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:30" }],
    holidays: [{ date: "2026-12-25", name: "Christmas" }],
    open: { type: "menu" },
    closed: { type: "agent", agentId: ids.Night },
    menu: {
      prompt: "Press 1 for sales, 2 for support.",
      options: [
        { digit: "1", target: { type: "agent", agentId: ids.Sales } },
        { digit: "2", target: { type: "agent", agentId: ids.Support } },
      ],
      timeoutSecs: 5,
      repeats: 2,
      defaultDigit: "1",
    },
  });

  // Edited again: outside hours become a message; then the routing is removed.
  await card.getByTestId("routing-open").click();
  await form.getByTestId("routing-input-routing-closed-type").selectOption("message");
  await form.getByTestId("routing-input-routing-closed-text").fill("We are closed. Goodbye.");
  await form.getByTestId("routing-save").click();
  await expect(form).toHaveCount(0);
  await expect(card.getByTestId("diagram-closed-target")).toHaveText("→ Say “We are closed. Goodbye.”, hang up");
  // Or to a person: a transfer to their number, checked like any field.
  await card.getByTestId("routing-open").click();
  await form.getByTestId("routing-input-routing-closed-type").selectOption("person");
  await form.getByTestId("routing-input-routing-closed-number").fill("12");
  await form.getByTestId("routing-save").click();
  await expect(form.getByTestId("error-routing-closed-number")).toContainText("international format");
  await form.getByTestId("routing-input-routing-closed-number").fill("+14155550100");
  await form.getByTestId("routing-save").click();
  await expect(form).toHaveCount(0);
  await expect(card.getByTestId("diagram-closed-target")).toHaveText("→ Transfer to +14155550100");
  await card.getByTestId("routing-open").click();
  await form.getByTestId("routing-remove").click();
  await expect(form).toHaveCount(0);
  await expect(card.getByTestId("routing-diagram")).toHaveCount(0);
  expect((await (await page.request.get(`/api/phone-numbers/${number.id}/routing`)).json()).routing).toBeNull();
});
