import { expect, test } from "./fixtures";
import { logIn, logOut, PASSWORD, signUp, uniqueName } from "./helpers";

test("sign up, see the home page, log out and log in again", async ({ page }) => {
  const name = uniqueName("acct");
  await signUp(page, name);
  await logOut(page);
  await expect(page.getByRole("status").filter({ hasText: "You have been signed out." })).toBeVisible();
  await logIn(page, name);
});

test("the home page sends an anonymous visitor to the login page", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL("/login");
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
});

test("a taken username gets a message under the field", async ({ page }) => {
  const name = uniqueName("taken");
  await signUp(page, name);
  await logOut(page);
  await page.goto("/signup");
  await page.getByLabel("Username").fill(name.toUpperCase());
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  // Under the field, tied to it (read out with it), and the field has the focus.
  const field = page.getByLabel("Username");
  await expect(field).toHaveAccessibleDescription(/That username is taken/);
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toBeFocused();
});

test("a wrong password gets the generic message", async ({ page }) => {
  const name = uniqueName("wrong");
  await signUp(page, name);
  await logOut(page);
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Invalid username or password" })).toBeVisible();
});
