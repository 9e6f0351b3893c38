import { type Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { servers, urlOf } from "../playwright.config";
import { KICKED_EN, logIn, signUp, twoBrowsers, uniqueName } from "./helpers";

// JavaScript only: the live channel is the hydrated app's.

/** Waits until the page's live channel listens. */
async function listening(page: Page): Promise<void> {
  await page.locator("body[data-live]").waitFor({ state: "attached" });
}

test("an open page lands on the login page by itself when another browser signs in", async ({ browser }) => {
  const name = uniqueName("live");
  const { a, b, close } = await twoBrowsers(browser);
  await signUp(a, name);
  await listening(a);
  await a.evaluate(() => ((window as any).__sameDocument = true));

  await logIn(b, name);

  // Nobody touches A.
  await expect(a).toHaveURL(/\/login$/);
  const toast = a.getByRole("status").filter({ hasText: KICKED_EN });
  await expect(toast).toBeVisible();
  await expect(toast).toContainText("New login");
  // Moved by the app, not by a page load.
  expect(await a.evaluate(() => (window as any).__sameDocument)).toBe(true);
  // Signed out for real: a reload stays on the login page and does not repeat the message.
  await a.goto("/");
  await expect(a).toHaveURL(/\/login$/);
  await expect(a.getByRole("status").filter({ hasText: KICKED_EN })).toHaveCount(0);
  await close();
});

test("the sessions page shows other sessions come and go without a reload", async ({ browser }) => {
  const name = uniqueName("livelist");
  const { a, b, close } = await twoBrowsers(browser, { baseURL: urlOf(servers.twoSessions.port) });
  await signUp(a, name);
  await a.goto("/sessions");
  await listening(a);
  const live = a.locator("ul.session-rows:not(.history) > li");
  await expect(live).toHaveCount(1);

  await logIn(b, name);
  await expect(live).toHaveCount(2);
  // The user is told, and can look at the new login.
  const alert = a.getByRole("status").filter({ hasText: "Your account just signed in from another browser." });
  await expect(alert).toBeVisible();
  await alert.getByRole("link", { name: "Not you? Review your sessions" }).click();
  await expect(a).toHaveURL(/\/sessions\?review=\d+$/);
  await expect(a.getByText("The new login")).toBeVisible();

  await b.getByRole("button", { name: "Log out" }).click();
  await expect(live).toHaveCount(1);
  await close();
});

/** Tells the page that its tab was hidden or shown, as the browser would. */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((hidden) => {
    Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

test("a hidden tab lets go of its channel and learns of the ending when shown again", async ({ browser }) => {
  const name = uniqueName("hidden");
  const { a, b, close } = await twoBrowsers(browser);
  await signUp(a, name);
  await listening(a);

  await setHidden(a, true);
  await expect(a.locator("body[data-live]")).toHaveCount(0);
  await logIn(b, name);
  // Nothing reaches a hidden tab.
  await a.waitForTimeout(500);
  await expect(a).toHaveURL(/\/$/);

  await setHidden(a, false);
  await expect(a).toHaveURL(/\/login$/);
  await expect(a.getByRole("status").filter({ hasText: KICKED_EN })).toBeVisible();
  await close();
});
