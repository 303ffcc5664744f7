import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp, voxgateCall, HOURS } from "./helpers";

test("a recording agent's call plays back on the call's page, seeks by ranges, and goes with the call", async ({ page }) => {
  await signUp(page);
  const base = test.info().project.use.baseURL!;

  // The agent form: recording on, with a notice and a retention the field checks.
  await open(page, "/agents");
  await page.getByTestId("new-agent").click();
  const form = page.getByRole("dialog", { name: "New agent" });
  await form.getByLabel("Name").fill("Recorded desk");
  await form.getByLabel("Greeting").fill("Welcome to Acme.");
  await form.getByLabel("Scripted replies").fill(`hours, open => ${HOURS}`);
  await expect(form.getByLabel("Recording notice")).toHaveCount(0);
  await form.getByTestId("record-calls").check();
  await form.getByLabel("Recording notice").fill("This call is recorded for training.");
  await form.getByLabel("Keep recordings (days)").fill("5000");
  await form.getByTestId("save-agent").click();
  await expect(form.getByTestId("error-recordingRetentionDays")).toContainText("at most 3650 days");
  await expect(form).toHaveCount(1);
  await form.getByLabel("Keep recordings (days)").fill("30");
  await keepScreenshot(page, "agent-recording");
  await form.getByTestId("save-agent").click();
  await expect(form).toHaveCount(0);
  const agents = await (await page.request.get("/api/agents")).json();
  const agent = agents.find((a: { name: string }) => a.name === "Recorded desk");
  expect([agent.recordCalls, agent.recordingNotice, agent.recordingRetentionDays]).toEqual([true, "This call is recorded for training.", 30]);

  // A call to its number.
  const created = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491899", provider: "other", linkedAgentId: agent.id },
  });
  expect(created.status()).toBe(201);
  const number = await created.json();
  await voxgateCall([number.webhookUrl, "--say", "Hello, what are your opening hours?"], {});

  await open(page, "/calls");
  await page.getByTestId("call-row").click();
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("conversation")).toContainText("This call is recorded for training. Welcome to Acme.");
  const recording = detail.getByTestId("call-recording");
  await expect(recording).toContainText("Caller left, agent right");
  // The player loads the WAV and knows its length (the browser reads it by ranges).
  const player = detail.getByTestId("recording-player");
  await expect.poll(() => player.evaluate((a: HTMLAudioElement) => a.duration), { timeout: 15_000 }).toBeGreaterThan(3);
  const src = await player.getAttribute("src");
  const ranged = await page.request.get(src!, { headers: { range: "bytes=0-3" } });
  expect(ranged.status()).toBe(206);
  expect((await ranged.body()).toString()).toBe("RIFF");
  await keepScreenshot(page, "call-recording");

  // Deleting the call takes its recording.
  page.once("dialog", (d) => d.accept());
  await detail.getByTestId("delete-call").click();
  await expect(detail).toHaveCount(0);
  await expect(page.getByTestId("empty-state")).toBeVisible();
  expect((await page.request.get(src!)).status()).toBe(404);
});
