import { test, expect } from "@playwright/test";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { open, keepScreenshot, signUp } from "./helpers";

const repoRoot = path.resolve(__dirname, "..", "..");
const bin = process.env.VOXGATE_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target"), "debug", "voxgate");

test("a call placed with `voxgate call` appears live and its conversation grows while it runs", async ({ page, playwright }) => {
  test.setTimeout(150_000);
  await signUp(page);
  const base = test.info().project.use.baseURL!;
  const agentRes = await page.request.post("/api/agents", {
    headers: { origin: base },
    data: {
      name: "Live desk",
      greeting: "Hello, this is the live desk.",
      rules: [
        { keywords: ["opening hours", "open"], reply: "We are open from nine to five." },
        { keywords: ["1"], reply: "Connecting you to our sales team now. Please hold the line while I find someone who can help you today." },
      ],
    },
  });
  expect(agentRes.status()).toBe(201);
  const agent = await agentRes.json();
  const numberRes = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491877", provider: "other", displayName: "Live line", linkedAgentId: agent.id },
  });
  expect(numberRes.status()).toBe(201);
  const number = await numberRes.json();

  await open(page, "/calls");
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await expect(page.getByTestId("live-status")).toHaveText("Live");

  // Exotel's side, simulated: webhook, stream, caller speech in real time, a key press, and
  // the caller's goodbye spoken over the agent's answer to it.
  const call = spawn(bin, ["call", number.webhookUrl, "--say", "Hello, what are your opening hours?", "--dtmf", "1", "--barge-in", "Thank you, goodbye."], {
    cwd: repoRoot,
    env: { ...process.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  call.stdout.on("data", (d) => (output += d));
  call.stderr.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => call.on("exit", (code) => resolve(code)));

  // The call shows up without a reload, and opens on a click.
  const row = page.getByTestId("call-row");
  await expect(row).toHaveCount(1, { timeout: 20_000 });
  await expect(row.getByTestId("call-status")).toHaveText(/ringing|in progress/);
  await row.click();
  const turns = page.getByTestId("conversation").getByTestId("turn");
  await expect(turns.first()).toContainText("Hello, this is the live desk.", { timeout: 20_000 });
  const caller = turns.filter({ hasText: /opening/i });
  await expect(caller).toHaveCount(1, { timeout: 30_000 });
  await expect(caller).toHaveAttribute("data-role", "caller");
  const reply = turns.filter({ hasText: "We are open from nine to five." });
  await expect(reply).toHaveCount(1, { timeout: 30_000 });
  // These turns arrived while the call was still running.
  expect(call.exitCode, output).toBeNull();
  await expect(reply.getByTestId("turn-latency")).toBeVisible();
  await keepScreenshot(page, "call-live-conversation");

  expect(await exited, output).toBe(0);
  await expect(page.getByTestId("detail-status")).toHaveText("completed", { timeout: 15_000 });
  // The key press and the barge-in are events in the conversation, where they happened.
  const conversation = page.getByTestId("conversation");
  await expect(conversation.getByTestId("turn-dtmf")).toHaveText("Pressed 1");
  const salesReply = turns.filter({ hasText: "Connecting you to our sales team" });
  await expect(salesReply.getByTestId("turn-tag")).toHaveText("interrupted by the caller");
  await expect(conversation.getByTestId("turn-barge-in")).toHaveCount(1);
  await expect(conversation.locator("li").filter({ hasText: "Connecting you to our sales team" }).locator("xpath=following-sibling::li[1]")).toHaveAttribute("data-testid", "turn-barge-in");
  await keepScreenshot(page, "call-detail-dtmf-barge-in");
  // The caller's goodbye (Whisper may write "Bye bye") and the agent's, which ended the call.
  await expect(turns.filter({ hasText: /bye/i })).toHaveCount(2);
  await expect(turns.last()).toContainText("Thank you for calling. Goodbye!");
  await expect(row.getByTestId("call-turns")).not.toHaveText("0");

  // A second number takes a call whose stream never opens: it was not answered.
  const spareRes = await page.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491878", provider: "other", displayName: "Spare line" },
  });
  const spare = await spareRes.json();
  const hook = new URL(spare.webhookUrl);
  const exotel = await playwright.request.newContext();
  expect((await exotel.post(`${base}${hook.pathname}${hook.search}`, { form: { CallSid: "CASPARE1", From: "+919800000001" } })).status()).toBe(200);
  await exotel.dispose();

  // Both calls count in the analytics; the streamed one with its voice-to-voice latency.
  await open(page, "/analytics");
  await expect(page.getByTestId("total-calls")).toHaveText("2");
  await expect(page.getByTestId("total-answered")).toHaveText("50 %");
  await expect(page.getByTestId("by-agent").getByTestId("analytics-row")).toContainText("Live desk");
  const liveRow = page.getByTestId("by-number").getByTestId("analytics-row").filter({ hasText: "+918047491877" });
  await expect(liveRow.getByTestId("analytics-p50")).toHaveText(/\d+\.\d\d s/);
  await expect(page.getByTestId("calls-chart").locator("[data-calls='2']")).toHaveCount(1);
  // Totals and charts for one number at a time; the tables keep every number.
  const scope = page.getByTestId("analytics-scope");
  await scope.selectOption(`number:${number.id}`);
  await expect(page.getByTestId("total-answered")).toHaveText("100 %");
  await expect(page.getByTestId("total-calls")).toHaveText("1");
  await expect(page.getByTestId("calls-chart").locator("[data-calls='1']")).toHaveCount(1);
  await expect(page.getByTestId("by-number").getByTestId("analytics-row")).toHaveCount(2);
  await keepScreenshot(page, "analytics");
  await scope.selectOption(`number:${spare.id}`);
  await expect(page.getByTestId("total-answered")).toHaveText("0 %");
  await expect(page.getByTestId("total-latency")).toHaveText("— / —");
  await scope.selectOption("");
  await expect(page.getByTestId("total-calls")).toHaveText("2");
});

test("another user's live events never reach this page", async ({ page, browser, playwright }) => {
  await signUp(page);
  await open(page, "/calls");
  await expect(page.getByTestId("live-status")).toHaveText("Live");
  // A second user places a call through the webhook.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signUp(otherPage);
  const base = test.info().project.use.baseURL!;
  const numberRes = await otherPage.request.post("/api/phone-numbers", {
    headers: { origin: base },
    data: { phoneNumber: "+918047491866", provider: "other" },
  });
  const number = await numberRes.json();
  const webhook = new URL(number.webhookUrl);
  // Exotel's side: no cookies, only the number's key.
  const exotel = await playwright.request.newContext();
  const answer = await exotel.post(`${base}${webhook.pathname}${webhook.search}`, { form: { CallSid: "CAOTHER1", From: "+919800000000" } });
  expect(answer.status()).toBe(200);
  await exotel.dispose();
  await otherPage.goto("/calls");
  await expect(otherPage.getByTestId("call-row")).toHaveCount(1);
  // This user's page stays empty.
  await page.waitForTimeout(1500);
  await expect(page.getByTestId("call-row")).toHaveCount(0);
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await other.close();
});
