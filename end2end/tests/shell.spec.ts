import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp } from "./helpers";

const PAGES = [
  { path: "/numbers", heading: "Phone Numbers", shot: "phone-numbers" },
  { path: "/agents", heading: "Agents", shot: "agents" },
  { path: "/calls", heading: "Call Logs", shot: "call-logs" },
  { path: "/setup", heading: "Setup Guide", shot: "setup-guide" },
];

test.beforeEach(async ({ page }) => {
  await signUp(page);
});

test("the root redirects to phone numbers", async ({ page }) => {
  await open(page, "/");
  await expect(page).toHaveURL(/\/numbers$/);
});

for (const p of PAGES) {
  test(`${p.heading} page is server-rendered, styled and hydrated`, async ({ page }) => {
    // Server-rendered: the heading is in the HTML before any script runs.
    const html = await (await page.request.get(p.path)).text();
    expect(html).toContain(`>${p.heading}</h1>`);

    await open(page, p.path);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(p.heading);
    await expect(page).toHaveTitle(`${p.heading} · Voxgate`);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: p.heading })).toHaveAttribute("aria-current", "page");
    // The utility CSS really loaded: the header has a white background and a border.
    const bg = await page.locator("header").evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(bg).toBe("rgb(255, 255, 255)");
    await keepScreenshot(page, p.shot);
  });
}

test("navigation moves between pages without a full reload", async ({ page }) => {
  await open(page, "/numbers");
  await page.evaluate(() => ((window as any).__marker = "still-here"));
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Agents", "Call Logs", "Setup Guide", "Phone Numbers"]) {
    await nav.getByRole("link", { name }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  }
  expect(await page.evaluate(() => (window as any).__marker)).toBe("still-here");
});

test("an unknown page answers 404 with the dashboard frame", async ({ page }) => {
  const response = await open(page, "/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
});

test("the database check button round-trips through a server function", async ({ page }) => {
  await open(page, "/setup");
  await expect(page.getByText("Not checked yet.")).toBeVisible();
  await page.getByTestId("db-check").click();
  const total = page.getByTestId("db-check-total");
  await expect(total).toHaveText(/^\d+$/);
  const first = Number(await total.textContent());
  await page.getByTestId("db-check").click();
  await expect(total).toHaveText(String(first + 1));
  await expect(page.getByTestId("db-check-result")).toContainText("schema v");
  await keepScreenshot(page, "setup-guide-checked");
});

test("healthz reports the database", async ({ request }) => {
  const res = await request.get("/healthz");
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.status).toBe("ok");
  expect(body.database).toBe("ok");
  expect(body.schema_version).toBeGreaterThanOrEqual(1);
});
