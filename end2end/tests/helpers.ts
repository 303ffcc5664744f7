import { Page, expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

/** Where screenshots of each page are kept as test artifacts. */
export const ARTIFACTS = path.join(__dirname, "..", "artifacts");

/** Opens a path and waits until the WASM has hydrated the page. */
export async function open(page: Page, urlPath: string) {
  const response = await page.goto(urlPath);
  await page.locator("body[data-hydrated]").waitFor();
  return response;
}

/** Saves a full-page screenshot under end2end/artifacts/<name>.png. */
export async function keepScreenshot(page: Page, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(fs.statSync(file).size).toBeGreaterThan(1000);
}

let counter = 0;

/** A fresh e-mail address for this run. */
export function freshEmail(tag = "user") {
  counter += 1;
  return `${tag}-${Date.now()}-${counter}@example.com`;
}

export const PASSWORD = "correct horse battery";

/** Signs a new user up through the sign-up server function; the page's context keeps the cookie. */
export async function signUp(page: Page, email = freshEmail()) {
  const base = test.info().project.use.baseURL!;
  const res = await page.request.post("/api/auth/signup", {
    form: { email, password: PASSWORD },
    headers: { origin: base, accept: "text/html" },
    maxRedirects: 0,
  });
  expect(res.status()).toBe(302);
  return email;
}
