import { expect, test } from "./fixtures";
import { servers, urlOf } from "../playwright.config";
import {
  afterSignOutElsewhere,
  KICKED_EN,
  logIn,
  PASSWORD,
  ready,
  signUp,
  submitLogin,
  twoBrowsers,
  uniqueName,
} from "./helpers";

const REVOKED_EN = "You were signed out: this session was ended from another session of your account.";

test("a session ended from /sessions is told so", async ({ browser }) => {
  const name = uniqueName("revoke");
  const { a, b, close } = await twoBrowsers(browser, { baseURL: urlOf(servers.twoSessions.port) });
  await signUp(a, name);

  await logIn(b, name);

  await b.getByRole("link", { name: "Your sessions" }).click();
  await expect(b.getByRole("heading", { name: "Your sessions" })).toBeVisible();
  await ready(b);
  await b.getByLabel("Your password").fill(PASSWORD);
  await b.getByRole("button", { name: "Confirm password" }).click();
  await b.getByRole("button", { name: /^Sign out session/ }).click();
  await expect(b.getByRole("button", { name: /^Sign out session/ })).toHaveCount(0);

  await afterSignOutElsewhere(a);
  await expect(a).toHaveURL(/\/login$/);
  await expect(a.getByRole("status").filter({ hasText: REVOKED_EN })).toBeVisible();
  await close();
});

test("Not you? leads from the kicked browser to a changed password", async ({ browser }) => {
  const name = uniqueName("notyou");
  const { a, b, close } = await twoBrowsers(browser);
  await signUp(a, name);

  await logIn(b, name);

  await afterSignOutElsewhere(a);
  const toast = a.getByRole("status").filter({ hasText: KICKED_EN });
  await expect(toast).toBeVisible();
  await toast.getByRole("link", { name: "Not you? Secure your account" }).click();
  await expect(a).toHaveURL(/\/login\?next=/);
  await submitLogin(a, name);

  await expect(a).toHaveURL(/\/sessions\?highlight=\d+$/);
  await expect(a.getByText("The login that signed you out")).toBeVisible();
  await expect(a.getByRole("heading", { name: "Not you? Secure your account" })).toBeVisible();
  await ready(a);
  const newPassword = "an entirely new passphrase";
  await a.getByLabel("Current password").fill(PASSWORD);
  await a.getByLabel("New password", { exact: true }).fill(newPassword);
  await a.getByLabel("Confirm new password").fill(newPassword);
  await a.getByRole("button", { name: "Change password and sign out everywhere else" }).click();
  await expect(a.getByRole("status").filter({ hasText: "Your password was changed." })).toBeVisible();

  // The old password no longer opens the account.
  const third = await browser.newContext();
  const c = await third.newPage();
  await c.goto("/login");
  await submitLogin(c, name);
  await expect(c.getByRole("alert").filter({ hasText: "Invalid username or password" })).toBeVisible();
  await close();
  await third.close();
});
