import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp } from "./helpers";

test("an agent lists the words callers will say; too long a list is refused next to the field", async ({ page }) => {
  await signUp(page);
  await open(page, "/agents");
  await page.getByTestId("new-agent").click();
  const form = page.getByRole("dialog", { name: "New agent" });
  await form.getByLabel("Name").fill("Dental desk");
  await form.getByLabel("Words callers will say").fill("Okonkwo ".repeat(60));
  await form.getByTestId("save-agent").click();
  await expect(form.getByTestId("error-vocabulary")).toContainText("400");
  await expect(form).toHaveCount(1);

  await form.getByLabel("Words callers will say").fill(" Brightsmile Dental, Dr. Okonkwo ");
  await keepScreenshot(page, "agent-vocabulary");
  await form.getByTestId("save-agent").click();
  await expect(form).toHaveCount(0);
  const agents = await (await page.request.get("/api/agents")).json();
  const agent = agents.find((a: { name: string }) => a.name === "Dental desk");
  expect(agent.vocabulary).toBe("Brightsmile Dental, Dr. Okonkwo");

  // Reopened, the form shows the stored words.
  await page.getByTestId("agent-card").filter({ hasText: "Dental desk" }).getByRole("button", { name: "Edit" }).click();
  await expect(page.getByRole("dialog", { name: "Edit agent" }).getByLabel("Words callers will say")).toHaveValue("Brightsmile Dental, Dr. Okonkwo");
});
