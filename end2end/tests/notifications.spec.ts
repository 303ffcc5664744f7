import { expect, test } from "@playwright/test";
import { createHmac } from "node:crypto";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { keepScreenshot, open, signUp } from "./helpers";

type Received = { headers: http.IncomingHttpHeaders; body: string };

/** A webhook receiver on loopback that answers 200 and keeps every request. */
async function receiver(): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hooks/voxgate`, received, close: () => server.close() };
}

test("Settings: a webhook URL with a field error, a secret shown once, a signed test in the log", async ({ page }) => {
  const hook = await receiver();
  try {
    await signUp(page);
    await open(page, "/settings");
    const urlField = page.getByLabel("Webhook URL", { exact: true });
    await expect(page.getByTestId("signing-secret")).toContainText("none yet");
    await expect(page.getByTestId("no-deliveries")).toBeVisible();
    await expect(page.getByTestId("email-off")).toBeVisible();

    // A malformed URL is refused next to its field, and nothing is saved.
    await urlField.fill("hooks.example.com/voxgate");
    await page.getByTestId("save-notifications").click();
    await expect(page.getByTestId("error-webhookUrl")).toContainText("Enter a URL starting with https://");
    await expect(page.getByTestId("notifications-saved")).toHaveCount(0);
    await page.getByTestId("send-test").click();
    await expect(page.getByTestId("test-result")).toContainText("Save a webhook URL first");

    // A good one is saved, and its signing secret shown this once.
    await urlField.fill(hook.url);
    await page.getByTestId("save-notifications").click();
    await expect(page.getByTestId("notifications-saved")).toBeVisible();
    await expect(page.getByTestId("error-webhookUrl")).toBeEmpty();
    const secret = (await page.getByTestId("new-secret-value").textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    await expect(page.getByTestId("signing-secret")).toHaveText(`••••${secret.slice(-4)}`);

    // Send test: delivered to the receiver, signed with that secret, and logged.
    await page.getByTestId("send-test").click();
    await expect(page.getByTestId("test-result")).toContainText("Delivered");
    await expect(page.getByTestId("delivery-row")).toHaveCount(1);
    await expect(page.getByTestId("delivery-row")).toHaveAttribute("data-state", "delivered");
    await expect(page.getByTestId("delivery-result")).toHaveText("200");
    expect(hook.received).toHaveLength(1);
    const { headers, body } = hook.received[0];
    const signature = String(headers["voxgate-signature"]);
    const [, t, v1] = signature.match(/^t=(\d+),v1=([0-9a-f]{64})$/)!;
    expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(300);
    expect(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")).toBe(v1);
    expect(JSON.parse(body)).toMatchObject({ type: "test", id: headers["voxgate-event-id"], recordingUrl: null });
    await keepScreenshot(page, "settings-notifications");

    // After a reload: the URL and the log are kept, the secret is only masked.
    await page.reload();
    await page.locator("body[data-hydrated]").waitFor();
    await expect(urlField).toHaveValue(hook.url);
    await expect(page.getByTestId("signing-secret")).toHaveText(`••••${secret.slice(-4)}`);
    await expect(page.getByTestId("new-secret")).toHaveCount(0);
    await expect(page.getByTestId("delivery-row")).toHaveCount(1);
    expect(await page.content()).not.toContain(secret);

    // Rotating shows the new secret once; the next test is signed with it.
    page.once("dialog", (d) => d.accept());
    await page.getByTestId("rotate-secret").click();
    const rotated = (await page.getByTestId("new-secret-value").textContent())!.trim();
    expect(rotated).not.toBe(secret);
    await page.getByTestId("send-test").click();
    await expect(page.getByTestId("delivery-row")).toHaveCount(2);
    const second = hook.received[1];
    const [, t2, v2] = String(second.headers["voxgate-signature"]).match(/^t=(\d+),v1=([0-9a-f]{64})$/)!;
    expect(createHmac("sha256", rotated).update(`${t2}.${second.body}`).digest("hex")).toBe(v2);
  } finally {
    hook.close();
  }
});
