import { expect, test, type Browser, type BrowserContextOptions, type Page } from "@playwright/test";
import { messagesOf } from "./catalogue";

export const PASSWORD = "correct horse battery";
export const KICKED_EN = "You were signed out because your account signed in from another browser.";
export const KICKED_KO = "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다.";

/** A username no other test uses: tests that share a user would kick each other. */
export function uniqueName(prefix: string): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}_${Date.now().toString(36)}${random}`.slice(0, 32);
}

/** With JavaScript on, waits until the page is hydrated, so that the app (not a plain form
 *  post) handles what the test does next. */
export async function ready(page: Page): Promise<void> {
  if (javaScriptEnabled()) {
    // The first page of a worker compiles the wasm: on a cold machine that takes a while.
    await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 45_000 });
  }
}

/** The home page says who is signed in (in any language). */
export async function expectSignedIn(page: Page, name: string): Promise<void> {
  await expect(page.locator(".signed-in strong")).toHaveText(name);
}

/** Signs up on the sign-up page, in whatever language the page is in. */
export async function signUp(page: Page, name: string): Promise<void> {
  await page.goto("/signup");
  await ready(page);
  const t = await messagesOf(page);
  await page.getByLabel(t.username).fill(name);
  await page.getByLabel(t.password, { exact: true }).fill(PASSWORD);
  await page.getByLabel(t.confirm_password).fill(PASSWORD);
  await page.getByRole("button", { name: t.create_account }).click();
  await expectSignedIn(page, name);
  await expect(page).toHaveURL("/");
}

/** Fills and sends the login form on the page as it is (which may carry a `next`). */
export async function submitLogin(page: Page, name: string, password = PASSWORD): Promise<void> {
  await ready(page);
  const t = await messagesOf(page);
  await page.getByLabel(t.username).fill(name);
  await page.getByLabel(t.password).fill(password);
  await page.getByRole("button", { name: t.login_title }).click();
}

/** Logs in from the login page and expects the home page. */
export async function logIn(page: Page, name: string): Promise<void> {
  await page.goto("/login");
  await submitLogin(page, name);
  await expectSignedIn(page, name);
  await expect(page).toHaveURL(/\/$/);
}

/** What a browser whose session ended elsewhere does next. With JavaScript its live channel
 *  brings it to the login page by itself; without, its next click (here: Log out) does. */
export async function afterSignOutElsewhere(page: Page): Promise<void> {
  if (javaScriptEnabled()) {
    await expect(page).toHaveURL(/\/login$/, { timeout: 10_000 });
  } else {
    await page.getByRole("button", { name: (await messagesOf(page)).log_out }).click();
  }
}

/** Closes the page's live channel for good, so that only its next click can learn of a kick. */
export async function withoutLiveChannel(page: Page): Promise<void> {
  await page.route("**/api/session/events", (route) => route.abort());
}

export function javaScriptEnabled(): boolean {
  return test.info().project.use.javaScriptEnabled !== false;
}

export async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: (await messagesOf(page)).log_out }).click();
  await expect(page).toHaveURL("/login");
}

/** Two browsers (contexts with their own cookies), each with its own options. */
export async function twoBrowsers(browser: Browser, first: BrowserContextOptions = {}, second: BrowserContextOptions = first) {
  const contexts = [await browser.newContext(first), await browser.newContext(second)];
  return {
    a: await contexts[0].newPage(),
    b: await contexts[1].newPage(),
    close: async () => {
      for (const context of contexts) await context.close();
    },
  };
}
