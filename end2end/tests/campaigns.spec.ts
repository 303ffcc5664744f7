import { Page, test, expect } from "@playwright/test";
import { keepScreenshot, open, signUp } from "./helpers";

// The Twilio account of end2end/cloud.json: the local provider cloud places our calls and plays
// each callee (a person who answers, hears the agent's greeting and hangs up).
const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "f00dfacef00dfacef00dfacef00dface";
const OUR_NUMBER = "+14155550130";
const GREETING = "Hello {{name}}, this is a reminder from Acme.";

function base() {
  return test.info().project.use.baseURL!;
}

/** Creates an agent whose greeting uses the `name` variable; its id. */
async function reminderAgent(page: Page, name = "Reminder desk"): Promise<string> {
  const res = await page.request.post("/api/agents", { headers: { origin: base() }, data: { name, greeting: GREETING } });
  expect(res.status()).toBe(201);
  return (await res.json()).id;
}

/** Imports one of the cloud's Twilio numbers kept for these journeys (one per test: a number
 * verified by one account cannot be imported by another), linked to `agentId`; its id. */
async function twilioNumber(page: Page, agentId: string, number: string): Promise<string> {
  const res = await page.request.post("/api/phone-numbers", {
    headers: { origin: base() },
    data: {
      phoneNumber: number,
      provider: "twilio",
      displayName: "Outbound line",
      twilioConfig: { accountSid: SID, authToken: TOKEN },
      linkedAgentId: agentId,
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id;
}

test("a number's card calls someone: a bad number is refused next to its field, then the call rings and completes in Call Logs", async ({ page }) => {
  test.setTimeout(60_000);
  await signUp(page);
  const agentId = await reminderAgent(page);
  await twilioNumber(page, agentId, "+14155550130");

  await open(page, "/numbers");
  const card = page.getByTestId("number-card");
  await card.getByTestId("dial-open").click();
  const dialog = page.getByRole("dialog", { name: `Call from ${OUR_NUMBER}` });
  // The number's own agent is chosen.
  await expect(dialog.getByTestId("dial-agent")).toHaveValue(agentId);

  await dialog.getByTestId("dial-to").fill("12345");
  await dialog.getByTestId("dial-variables").fill("name=Asha");
  await dialog.getByTestId("dial-submit").click();
  await expect(dialog.getByTestId("error-to")).toContainText("international format");
  await expect(dialog.getByTestId("dial-result")).toHaveCount(0);

  await dialog.getByTestId("dial-to").fill("+1 415 555 0199");
  await dialog.getByTestId("dial-submit").click();
  await expect(dialog.getByTestId("dial-result")).toContainText(/Calling \+14155550199: (ringing|in progress)/);
  await expect(dialog.getByTestId("error-to")).toBeEmpty();
  await expect(dialog.getByTestId("dial-error")).toBeEmpty();
  await keepScreenshot(page, "number-dial");
  const href = (await dialog.getByTestId("dial-call-link").getAttribute("href"))!;
  const callId = new URL(href, base()).searchParams.get("call")!;
  expect(callId).toBeTruthy();

  // The callee answers, hears the greeting and hangs up.
  await expect
    .poll(async () => (await (await page.request.get(`/api/calls/${callId}`)).json()).status, { timeout: 20_000 })
    .toBe("completed");
  const call = await (await page.request.get(`/api/calls/${callId}`)).json();
  expect(call.direction).toBe("outbound");
  expect(call.callee).toBe("+14155550199");
  expect(call.outcome).toBe("answered");

  await dialog.getByTestId("dial-call-link").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Call Logs");
  const row = page.locator(`[data-testid="call-row"][data-call="${callId}"]`);
  await expect(row.getByTestId("call-status")).toHaveText("completed");
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByTestId("detail-provider")).toHaveText("Twilio");
  await expect(detail.getByTestId("conversation")).toContainText("Hello Asha, this is a reminder from Acme.");
  await keepScreenshot(page, "call-logs-outbound");
});

test("a campaign: a CSV with a bad row, the rejected row by line, live progress to 100%, the results export", async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page);
  await reminderAgent(page);
  const agentId = await reminderAgent(page, "Campaign desk");
  await twilioNumber(page, agentId, "+14155550131");

  await open(page, "/campaigns");
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await page.getByTestId("new-campaign").click();
  const dialog = page.getByRole("dialog", { name: "New campaign" });
  await dialog.getByLabel("Name", { exact: true }).fill("December reminders");
  await dialog.getByLabel("Agent", { exact: true }).selectOption({ label: "Campaign desk" });
  await dialog.getByTestId("campaign-phone").check();
  const csv = ["phone,name", "+14155550191,Asha", "+14155550192,Ben", "12345,Broken", "+14155550193,Chen"].join("\n");
  // The file is read in the browser into the box.
  await dialog.getByTestId("contacts-file").setInputFiles({ name: "contacts.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await expect(dialog.getByLabel("Contacts (CSV)")).toHaveValue(csv);
  await dialog.getByLabel("Calls per second").fill("5");
  await keepScreenshot(page, "campaign-form");
  await dialog.getByTestId("create-campaign").click();

  await expect(dialog.getByTestId("contacts-added")).toContainText("3 contacts added");
  const rejected = dialog.getByTestId("rejected-row");
  await expect(rejected).toHaveCount(1);
  await expect(rejected).toContainText("line 4: phone: ");
  await dialog.getByTestId("open-campaign").click();
  await expect(page).toHaveURL(/\/campaigns\/[^/?]+$/);

  // The figures update by themselves until every contact is reached.
  await expect(page.getByTestId("campaign-progress")).toHaveAttribute("aria-valuenow", "100", { timeout: 45_000 });
  const counts = page.getByTestId("campaign-counts");
  await expect(counts.getByTestId("count-answered")).toHaveText("3");
  await expect(counts.getByTestId("count-remaining")).toHaveText("0");
  await expect(counts.getByTestId("count-failed")).toHaveText("0");
  await expect(page.getByTestId("campaign-status")).toHaveText("Completed", { timeout: 10_000 });
  await expect(page.getByTestId("campaign-pause")).toHaveCount(0);
  await expect(page.getByTestId("campaign-cancel")).toHaveCount(0);
  const contacts = page.getByTestId("contact-row");
  await expect(contacts).toHaveCount(3);
  await expect(contacts.getByTestId("contact-outcome")).toHaveText(["Answered", "Answered", "Answered"]);
  await expect(contacts.getByTestId("contact-call")).toHaveCount(3);

  const exportHref = (await page.getByTestId("campaign-export").getAttribute("href"))!;
  expect(exportHref).toMatch(/^\/api\/campaigns\/[^/]+\/results\.csv$/);
  const res = await page.request.get(exportHref);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("text/csv");
  const lines = (await res.text()).trim().split(/\r?\n/);
  expect(lines[0]).toBe("line,phone,state,outcome,attempts,call_id,reason");
  const rows = lines.slice(1).map((l) => l.split(","));
  expect(rows).toHaveLength(3);
  expect(rows.filter((r) => r[2] === "done" && r[3] === "answered")).toHaveLength(3);
  expect(rows.map((r) => r[1]).sort()).toEqual(["+14155550191", "+14155550192", "+14155550193"]);
  // One page of contacts: the pager's buttons are buttons, both disabled.
  await expect(page.getByTestId("contacts-next")).toHaveText("Next");
  await expect(page.getByTestId("contacts-next")).toBeDisabled();
  await expect(page.getByTestId("contacts-previous")).toBeDisabled();
  await keepScreenshot(page, "campaign-detail");

  // The list shows it finished.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  const row = page.getByTestId("campaign-row");
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("campaign-status")).toHaveText("Completed");
  await expect(row.getByTestId("campaign-progress")).toHaveAttribute("aria-valuenow", "100");
  await expect(row.getByTestId("count-answered")).toHaveText("3");
  await keepScreenshot(page, "campaigns-list");
});

test("the campaign form: no number chosen, then a bad time zone, each refused next to its field", async ({ page }) => {
  await signUp(page);
  const agentId = await reminderAgent(page);
  await twilioNumber(page, agentId, "+14155550132");

  await open(page, "/campaigns");
  await page.getByTestId("new-campaign").click();
  const dialog = page.getByRole("dialog", { name: "New campaign" });
  await dialog.getByLabel("Name", { exact: true }).fill("No numbers");
  await dialog.getByLabel("Agent", { exact: true }).selectOption({ label: "Reminder desk" });
  await dialog.getByLabel("Contacts (CSV)").fill("phone\n+14155550191");
  await dialog.getByTestId("create-campaign").click();
  await expect(dialog.getByTestId("error-phoneIds")).toContainText("Choose at least one number");
  await expect(dialog.getByTestId("error-name")).toBeEmpty();
  await keepScreenshot(page, "campaign-form-errors");

  // The time zone is checked by the server; its error shows next to the field too.
  await dialog.getByTestId("campaign-phone").check();
  await expect(dialog.getByTestId("error-phoneIds")).toBeEmpty();
  await dialog.getByLabel("Time zone").fill("Mars/Olympus");
  await dialog.getByTestId("create-campaign").click();
  await expect(dialog.getByTestId("error-timezone")).toContainText("is not a time zone");
  await expect(dialog.getByTestId("contacts-added")).toHaveCount(0);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("empty-state")).toBeVisible();
});

test("a scheduled campaign can be paused and canceled from its page", async ({ page }) => {
  await signUp(page);
  const agentId = await reminderAgent(page);
  const phoneId = await twilioNumber(page, agentId, "+14155550133");
  const created = await page.request.post("/api/campaigns", {
    headers: { origin: base() },
    data: { name: "Next year", agentId, phoneIds: [phoneId], contactsCsv: "phone\n+14155550191\n+14155550192", startAt: "2099-01-01T09:00:00Z" },
  });
  expect(created.status(), await created.text()).toBe(201);
  const { campaign } = await created.json();

  await open(page, `/campaigns/${campaign.id}`);
  await expect(page.getByTestId("campaign-status")).toHaveText("Scheduled");
  await expect(page.getByTestId("count-remaining")).toHaveText("2");
  await expect(page.getByTestId("campaign-progress")).toHaveAttribute("aria-valuenow", "0");
  await expect(page.getByTestId("contact-row")).toHaveCount(2);
  await expect(page.getByTestId("campaign-resume")).toHaveCount(0);

  await page.getByTestId("campaign-pause").click();
  await expect(page.getByTestId("campaign-status")).toHaveText("Paused");
  await expect(page.getByTestId("campaign-resume")).toBeVisible();
  await expect(page.getByTestId("campaign-pause")).toHaveCount(0);

  page.once("dialog", (d) => d.accept());
  await page.getByTestId("campaign-cancel").click();
  await expect(page.getByTestId("campaign-status")).toHaveText("Canceled");
  await expect(page.getByTestId("campaign-cancel")).toHaveCount(0);
  await expect(page.getByTestId("campaign-resume")).toHaveCount(0);
  await expect(page.getByTestId("contact-state")).toHaveText(["Canceled", "Canceled"]);
});

test("an agent's answering-machine setting: leave a message after the beep, saved and read back", async ({ page }) => {
  await signUp(page);
  await open(page, "/agents");
  await page.getByTestId("new-agent").click();
  const form = page.getByRole("dialog", { name: "New agent" });
  await form.getByLabel("Name").fill("Voicemail desk");
  await form.getByLabel("Outbound calls a machine answers").selectOption({ label: "Leave a message after the beep" });
  await form.getByLabel("Voicemail message").fill("Sorry we missed you, {{name}}.");
  await form.getByTestId("save-agent").click();
  await expect(form).toHaveCount(0);
  const agents = await (await page.request.get("/api/agents")).json();
  const saved = agents.find((a: { name: string }) => a.name === "Voicemail desk");
  expect(saved.onMachine).toBe("leave_message");
  expect(saved.voicemailMessage).toBe("Sorry we missed you, {{name}}.");
});
