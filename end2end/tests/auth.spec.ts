import { test, expect } from "@playwright/test";
import { open, keepScreenshot, freshEmail, PASSWORD } from "./helpers";

test("sign up, log out, log in, and see the empty dashboard", async ({ page }) => {
  const email = freshEmail("journey");
  await open(page, "/signup");
  await keepScreenshot(page, "signup");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/numbers$/);
  await expect(page.getByTestId("me-email")).toHaveText(email);
  await expect(page.getByTestId("empty-state")).toContainText("No phone numbers yet");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  // The session really ended: dashboard pages send us back to login.
  await page.goto("/agents");
  await expect(page).toHaveURL(/\/login\?next=\/agents$/);
  await page.locator("body[data-hydrated]").waitFor();
  await keepScreenshot(page, "login");

  await page.getByLabel("E-mail").fill(email.toUpperCase());
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/agents$/);
  await expect(page.getByTestId("empty-state")).toContainText("No agents yet");
  await keepScreenshot(page, "dashboard-after-login");

  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "vg_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");
});

test("a wrong password shows an error and does not sign in", async ({ page }) => {
  const email = freshEmail("wrongpw");
  await open(page, "/signup");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/numbers$/);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.locator("body[data-hydrated]").waitFor();

  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("error-form")).toHaveText("Incorrect e-mail or password.");
  await expect(page).toHaveURL(/\/login/);
  expect((await page.context().cookies()).find((c) => c.name === "vg_session")).toBeUndefined();
  await keepScreenshot(page, "login-error");
});

test("sign-up errors appear next to their fields and nothing is created", async ({ page }) => {
  await open(page, "/signup");
  await page.getByLabel("E-mail").fill("not-an-email");
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("error-email")).toContainText("valid e-mail");
  await expect(page.getByLabel("E-mail")).toHaveAttribute("aria-invalid", "true");

  const email = freshEmail("short");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel(/^Password/).fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("error-password")).toContainText("at least 10 characters");
  await keepScreenshot(page, "signup-errors");

  // Nothing was created: logging in with that e-mail fails.
  await page.goto("/login");
  await page.locator("body[data-hydrated]").waitFor();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("error-form")).toHaveText("Incorrect e-mail or password.");
});

test("API tokens are shown once, work as Bearer tokens and can be revoked", async ({ page, playwright }) => {
  const email = freshEmail("tokens");
  await open(page, "/signup");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/numbers$/);

  await page.getByTestId("me-email").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
  await expect(page.getByTestId("no-tokens")).toBeVisible();
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("error-name")).toContainText("Give the token a name");
  await page.getByLabel("Name").fill("CRM sync");
  await page.getByTestId("create-token").click();
  const token = (await page.getByTestId("new-token-value").textContent())!.trim();
  expect(token).toMatch(/^vg_[A-Za-z0-9]{40}$/);
  await expect(page.getByTestId("token-row")).toHaveCount(1);
  await expect(page.getByTestId("token-row")).toContainText("CRM sync");
  await keepScreenshot(page, "settings-tokens");

  const api = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  const me = await api.get("/api/me", { headers: { authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).email).toBe(email);

  // Shown once: after a reload only the prefix is on the page.
  await page.reload();
  await page.locator("body[data-hydrated]").waitFor();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  expect(await page.content()).not.toContain(token);

  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("no-tokens")).toBeVisible();
  expect((await api.get("/api/me", { headers: { authorization: `Bearer ${token}` } })).status()).toBe(401);
  await api.dispose();
});
