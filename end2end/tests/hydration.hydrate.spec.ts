import { expect, test } from "./fixtures";
import { expectSignedIn, ready, signUp, uniqueName } from "./helpers";

// Runs with JavaScript only: proves the page is hydrated, i.e. that a form is handled by the
// app in place, without a page load.
test("the login form is handled in place by the hydrated app", async ({ page }) => {
  await page.goto("/login");
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByLabel("Username").fill(uniqueName("nobody"));
  await page.getByLabel("Password").fill("not a password at all");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Invalid username or password" })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await expect(page).toHaveURL("/login");
});

// The home page gets who is signed in from the server's render (not a resource); drawn by a
// client-side navigation, it has no such value and must ask the server itself.
test("the home page reached by a client-side link still says who is signed in", async ({ page }) => {
  const name = uniqueName("nav");
  await signUp(page, name);
  await page.goto("/sessions");
  await ready(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByRole("link", { name: "← Home" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expectSignedIn(page, name);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});
