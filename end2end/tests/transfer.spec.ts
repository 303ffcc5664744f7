import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp, voxgateCall } from "./helpers";

test("an agent's transfer settings: checked by their fields, saved, and a caller pressing its key is handed over", async ({ page }) => {
  await signUp(page);
  const base = test.info().project.use.baseURL!;
  await open(page, "/agents");
  await page.getByTestId("new-agent").click();
  const form = page.getByRole("dialog", { name: "New agent" });
  await form.getByLabel("Name").fill("Front desk");
  await form.getByLabel("Transfer to").fill("12");
  await form.getByLabel("Key that asks for a person").fill("10");
  await form.getByTestId("save-agent").click();
  await expect(form.getByTestId("error-transferTo")).toContainText("international format");
  await expect(form.getByTestId("error-transferDigit")).toContainText("one key");
  await form.getByLabel("Transfer to").fill("+1 415 555 0100");
  await form.getByLabel("Key that asks for a person").fill("0");
  await form.getByLabel("Words that ask for a person").fill("a person, manager");
  await form.getByTestId("warm-transfer").check();
  await keepScreenshot(page, "agent-transfer");
  await form.getByTestId("save-agent").click();
  await expect(form).toHaveCount(0);
  const agents = await (await page.request.get("/api/agents")).json();
  const agent = agents.find((a: { name: string }) => a.name === "Front desk");
  expect([agent.transferTo, agent.transferKeywords, agent.transferDigit, agent.warmTransfer]).toEqual(["+14155550100", ["a person", "manager"], "0", true]);

  // A caller on its number presses 0: the agent says its line and hands the call over.
  const created = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491899", provider: "other", linkedAgentId: agent.id },
  });
  expect(created.status()).toBe(201);
  const number = await created.json();
  await voxgateCall([number.webhookUrl, "--dtmf", "0"], {});
  await open(page, "/calls");
  await page.getByTestId("call-row").click();
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("conversation")).toContainText("Connecting you to a person now. Please hold.");
  await expect(detail.getByTestId("turn-tag").filter({ hasText: "handed to a person" })).toHaveCount(1);
  await expect(detail).toContainText("transferred to a person");
  await keepScreenshot(page, "call-transferred");
});
