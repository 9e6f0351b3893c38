import { expect, test } from "./fixtures";
import { logOut, ready, signUp, uniqueName } from "./helpers";

// Leptos reads a server function's result from the page's address (`__path` names the
// function, `__err` is its error as base64url JSON). A link anyone can write once made real
// pages show an attacker's toast, with a `javascript:` link, and move the browser to /login.
// Here a signed-in user opens such links, for every error the app has, on every page.

const session = {
  id: 1,
  device: "FORGED device",
  ip: "203.0.113.66",
  signed_in: "FORGED",
  last_active: "FORGED",
  current: false,
};
const toast = (href: string) => ({
  kind: "warning",
  title: "FORGED title: you were signed out",
  detail: "FORGED detail",
  link: { label: "FORGED link: secure your account", href },
});
const errors: unknown[] = [
  { Invalid: { field: "username", message: "FORGED field message" } },
  "InvalidCredentials",
  "NotSignedIn",
  { SessionEnded: toast("javascript:alert(document.domain)") },
  { SessionEnded: toast("https://evil.example/phish") },
  { SessionEnded: toast("//evil.example/phish") },
  { LoginDenied: [session] },
  { ChooseSessions: [session] },
  "LoginExpired",
  { TooManyAttempts: 99 },
  "PasswordRequired",
  { BadRequest: "FORGED request" },
  "Internal",
];
// The server functions whose actions each page holds: a forged result names one of them.
const actions: Record<string, string[]> = {
  "/": ["/api/logout"],
  "/sessions": ["/api/sessions/end", "/api/sessions/end-others", "/api/sessions/confirm", "/api/account/password", "/api/logout"],
  "/login": ["/api/login", "/api/login/continue", "/api/login/cancel"],
  "/signup": ["/api/signup"],
};

/** base64 with the URL-safe alphabet and padding, as server_fn writes it. */
function encode(error: unknown): string {
  return Buffer.from(JSON.stringify(error)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

test("crafted addresses with forged results show nothing, move nowhere and sign no one out", async ({ page }) => {
  test.setTimeout(120_000);
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  const name = uniqueName("forged");
  await signUp(page, name);

  for (const [path, functions] of Object.entries(actions)) {
    for (const [i, error] of errors.entries()) {
      const fn = functions[i % functions.length];
      await page.goto(`${path}?__path=${encodeURIComponent(fn)}&__err=${encodeURIComponent(encode(error))}`);
      await ready(page);
      // Give a hydrated page the moment in which it once acted on the forged result.
      await page.waitForTimeout(javaScript() ? 150 : 0);
      const here = new URL(page.url());
      // Signed in, a signed-in user's /login and /signup stay where they are too.
      expect(here.pathname, `${path} with ${JSON.stringify(error)}`).toBe(path);
      expect(here.search).toBe("");
      await expect(page.locator("body")).not.toContainText("FORGED");
      await expect(page.locator(".toast")).toHaveCount(0);
      await expect(page.locator('a[href^="javascript:"], a[href*="evil.example"]')).toHaveCount(0);
    }
  }
  expect(dialogs).toEqual([]);
  // Still signed in.
  await page.goto("/");
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();
});

test("a real form error still shows its message", async ({ page }) => {
  const name = uniqueName("realerr");
  await signUp(page, name);
  await logOut(page);
  await ready(page);
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Invalid username or password" })).toBeVisible();
  // The address the browser shows carries no result that a link could copy.
  expect(new URL(page.url()).search).not.toContain("__err");
});

test("the sessions page has its own Log out", async ({ page }) => {
  const name = uniqueName("logout_s");
  await signUp(page, name);
  await page.goto("/sessions");
  await ready(page);
  await logOut(page);
  await expect(page.getByRole("status").filter({ hasText: "You have been signed out." })).toBeVisible();
  await page.goto("/sessions");
  await expect(page).toHaveURL("/login");
});

// Markup that slipped into a page (an inline handler, as in `<img onerror>`) and a
// `javascript:` link do not run; 'strict-dynamic' trusts only what nonced scripts load.
test("the policy stops injected handlers and javascript: links, and the guard sees it", async ({ page, pageProblems }) => {
  test.skip(!javaScript(), "needs JavaScript");
  await page.goto("/login");
  await ready(page);
  await page.evaluate(() => {
    const injected = document.createElement("div");
    injected.innerHTML = '<img src="data:," onerror="window.__injected = true">';
    document.body.append(injected);
    const link = document.createElement("a");
    link.href = "javascript:window.__clicked = true";
    link.textContent = "click me";
    link.id = "injected-link";
    document.body.append(link);
  });
  await page.locator("#injected-link").click();
  await expect.poll(() => pageProblems.length).toBeGreaterThanOrEqual(2);
  expect(await page.evaluate(() => (window as unknown as Record<string, unknown>).__injected)).toBeUndefined();
  expect(await page.evaluate(() => (window as unknown as Record<string, unknown>).__clicked)).toBeUndefined();
  expect(pageProblems.every((problem) => problem.includes("script-src") || problem.includes("Content Security Policy"))).toBe(true);
  // Seen, and expected here: nothing else may have gone wrong.
  pageProblems.length = 0;
});

function javaScript(): boolean {
  return test.info().project.use.javaScriptEnabled !== false;
}
