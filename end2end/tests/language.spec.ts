import AxeBuilder from "@axe-core/playwright";
import type { Browser, Page } from "@playwright/test";
import { servers, urlOf } from "../playwright.config";
import { browserLocale, catalogue, foreignPieces, langs, type Lang } from "./catalogue";
import { expect, test } from "./fixtures";
import {
  afterSignOutElsewhere,
  javaScriptEnabled,
  logIn,
  PASSWORD,
  ready,
  signUp,
  submitLogin,
  uniqueName,
} from "./helpers";

/** A message with any values in its placeholders. */
function messagePattern(message: string): RegExp {
  const literal = message.split(/\{\{[^}]*\}\}/).map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${literal.join(".+")}$`);
}

const HANGUL = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/;

/** What a person meets on the page: its title, the text of every shown element, and the
 *  labels read out in place of text. Elements marked with another language (the language
 *  switch names each language in itself) are left out. */
async function shownText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const lang = document.documentElement.lang;
    const texts = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node as HTMLElement;
      if (["SCRIPT", "STYLE", "TEMPLATE"].includes(element.tagName)) continue;
      if (element.closest("[lang]")?.getAttribute("lang") !== lang && element.closest("[lang]") !== null) continue;
      if (!element.checkVisibility()) continue;
      for (const child of element.childNodes) {
        if (child.nodeType === Node.TEXT_NODE && child.textContent?.trim()) texts.push(child.textContent.trim());
      }
      for (const attribute of ["aria-label", "title", "placeholder"]) {
        const value = element.getAttribute(attribute);
        if (value) texts.push(value);
      }
    }
    return texts;
  });
}

/** The page is wholly in `lang`: `<html lang>`, no piece of another language's catalogue
 *  (and no Hangul at all on a page in another language than Korean), and no serious or
 *  critical WCAG 2.2 AA finding. */
async function checkPage(page: Page, lang: Lang, what: string): Promise<void> {
  await expect(page.locator("html"), what).toHaveAttribute("lang", lang);
  const text = (await shownText(page)).join("\n");
  for (const other of langs.filter((l) => l !== lang)) {
    const foreign = foreignPieces(lang, other).filter((piece) => text.includes(piece));
    expect(foreign, `${what}: ${other} text on a ${lang} page:\n${text}`).toEqual([]);
  }
  if (lang === "ko") expect(text, what).toMatch(HANGUL);
  else expect(text, `${what}: Hangul on a page in ${lang}`).not.toMatch(HANGUL);

  // axe runs in the page, so it needs JavaScript; the markup is the same without.
  if (!javaScriptEnabled()) return;
  // Past the toasts' fade-in, whose first frames would read as low contrast.
  await page.waitForTimeout(300);
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `${what}: accessibility`).toEqual([]);
}

async function browserIn(browser: Browser, lang: Lang, baseURL?: string) {
  const context = await browser.newContext({ locale: browserLocale[lang], ...(baseURL ? { baseURL } : {}) });
  return { context, page: await context.newPage() };
}

for (const lang of langs) {
  const t = catalogue[lang];

  test(`every page speaks ${lang} only, and passes axe (${lang})`, async ({ browser }) => {
    test.setTimeout(120_000);
    const name = uniqueName(`lang_${lang}`);
    const base = urlOf(servers.twoSessions.port);
    const a = await browserIn(browser, lang, base);
    const b = await browserIn(browser, lang, base);

    for (const path of ["/login", "/signup", "/nowhere"]) {
      await a.page.goto(path);
      await ready(a.page);
      await checkPage(a.page, lang, `${path}, signed out`);
    }

    // A field message after a failed form.
    await a.page.goto("/signup");
    await ready(a.page);
    await a.page.getByLabel(t.username).fill("ab");
    await a.page.getByLabel(t.password, { exact: true }).fill(PASSWORD);
    await a.page.getByLabel(t.confirm_password).fill(PASSWORD);
    await a.page.getByRole("button", { name: t.create_account }).click();
    await expect(a.page.getByText(t.username_too_short.replace("{{ min }}", "3"))).toBeVisible();
    await checkPage(a.page, lang, "/signup with a field message");

    await signUp(a.page, name);
    await checkPage(a.page, lang, "/, signed in");

    // A second login: /sessions lists both, with the password confirmation.
    await logIn(b.page, name);
    await a.page.goto("/sessions");
    await ready(a.page);
    await expect(a.page.getByRole("heading", { name: t.signed_in_now })).toBeVisible();
    await checkPage(a.page, lang, "/sessions with two sessions");

    // A wrong password, then the right one, then ending the other session: a toast.
    await a.page.getByLabel(t.your_password, { exact: true }).fill("not the password");
    await a.page.getByRole("button", { name: t.confirm_password_button }).click();
    await expect(a.page.getByText(t.password_wrong)).toBeVisible();
    await checkPage(a.page, lang, "/sessions with a wrong password");
    await a.page.getByLabel(t.your_password, { exact: true }).fill(PASSWORD);
    await a.page.getByRole("button", { name: t.confirm_password_button }).click();
    await a.page.getByRole("button", { name: messagePattern(t.sign_out_session) }).click();
    await expect(a.page.getByRole("status").filter({ hasText: t.sessions_ended_1 })).toBeVisible();
    await expect(a.page.getByText(t.history_revoked_by_user)).toBeVisible();

    // The other browser learns why, on the login page (before its toast fades).
    await afterSignOutElsewhere(b.page);
    await expect(b.page).toHaveURL(/\/login$/);
    await expect(b.page.getByRole("status").filter({ hasText: t.revoked_by_user })).toBeVisible();
    await checkPage(b.page, lang, "/login with the ended session's toast");
    await checkPage(a.page, lang, "/sessions with a toast and history");

    await a.context.close();
    await b.context.close();
  });

  test(`the kicked browser's login page speaks ${lang} (${lang})`, async ({ browser }, testInfo) => {
    const name = uniqueName(`kicked_${lang}`);
    const a = await browserIn(browser, lang);
    const b = await browserIn(browser, lang);
    await signUp(a.page, name);
    await logIn(b.page, name);
    await afterSignOutElsewhere(a.page);
    await expect(a.page).toHaveURL(/\/login$/);
    const toast = a.page.getByRole("status").filter({ hasText: t.kicked });
    await expect(toast).toBeVisible();
    // The toast is announced (a polite live region), and does not take the focus.
    await expect(toast).toHaveAttribute("aria-live", "polite");
    expect(await a.page.evaluate(() => document.activeElement?.closest(".toasts") ?? null)).toBeNull();
    await checkPage(a.page, lang, "/login after a kick");

    // The README's picture of it (scripts/screenshots copies it there).
    if (javaScriptEnabled()) {
      await a.page.setViewportSize({ width: 900, height: 640 });
      await a.page.screenshot({ path: testInfo.outputPath(`kicked-${lang}.png`) });
      if (process.env.SCREENSHOTS_DIR) {
        await a.page.screenshot({ path: `${process.env.SCREENSHOTS_DIR}/kicked-${lang}.png` });
      }
    }
    await a.context.close();
    await b.context.close();
  });
}

test("the language switch changes the page, keeps its address, and is remembered", async ({ browser }) => {
  const { context, page } = await browserIn(browser, "en");
  await page.goto("/login?next=%2Fsessions");
  await ready(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("button", { name: "English" })).toHaveAttribute("aria-current", "true");

  await page.getByRole("button", { name: "한국어" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await expect(page.getByRole("heading", { name: catalogue.ko.login_title })).toBeVisible();
  await expect(page).toHaveURL(/\/login\?next=%2Fsessions$/);
  await expect(page.getByRole("button", { name: "한국어" })).toHaveAttribute("aria-current", "true");

  // Remembered: another page, a reload, a new tab, all in Korean over the browser's English.
  await page.goto("/signup");
  await expect(page.getByRole("heading", { name: catalogue.ko.signup_title })).toBeVisible();
  const tab = await context.newPage();
  await tab.goto("/login");
  await expect(tab.locator("html")).toHaveAttribute("lang", "ko");
  await tab.close();

  await page.getByRole("button", { name: "English" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { name: catalogue.en.signup_title })).toBeVisible();
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await context.close();
});

test("a Korean browser gets Korean by default, and English when it chooses", async ({ browser }) => {
  const name = uniqueName("ko_default");
  const { context, page } = await browserIn(browser, "ko");
  await page.goto("/login");
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await signUp(page, name);
  await page.getByRole("button", { name: "English" }).click();
  // Still signed in, now in English.
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { name: catalogue.en.welcome })).toBeVisible();
  await context.close();
});

/** Presses Tab until the focused element is named `name`; fails after 40 presses. */
async function tabTo(page: Page, name: string | RegExp): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element) return "";
      const input = element as HTMLInputElement;
      return (element.getAttribute("aria-label") ?? input.labels?.[0]?.textContent ?? element.textContent ?? "").trim();
    });
    if (typeof name === "string" ? focused === name : name.test(focused)) return;
  }
  throw new Error(`no element named ${name} within 40 tabs`);
}

test("the whole flow works with the keyboard alone", async ({ browser }) => {
  const name = uniqueName("keys");
  const base = urlOf(servers.twoSessions.port);
  const { context, page } = await browserIn(browser, "en", base);
  const t = catalogue.en;
  const keys = page.keyboard;

  await page.goto("/signup");
  await ready(page);
  await tabTo(page, t.username);
  await keys.type(name);
  await tabTo(page, t.password);
  await keys.type(PASSWORD);
  await tabTo(page, t.confirm_password);
  await keys.type(PASSWORD);
  await keys.press("Enter");
  await expect(page.locator(".signed-in strong")).toHaveText(name);

  await tabTo(page, t.log_out);
  await keys.press("Enter");
  await expect(page).toHaveURL(/\/login$/);
  await ready(page);
  await tabTo(page, t.username);
  await keys.type(name);
  await tabTo(page, t.password);
  await keys.type(PASSWORD);
  await keys.press("Enter");
  await expect(page.locator(".signed-in strong")).toHaveText(name);

  // Another browser of the same account (the limit here is two).
  const other = await browserIn(browser, "en", base);
  await logIn(other.page, name);

  await ready(page);
  await tabTo(page, t.your_sessions);
  await keys.press("Enter");
  await expect(page).toHaveURL(/\/sessions$/);
  await ready(page);
  await tabTo(page, t.your_password);
  await keys.type(PASSWORD);
  await keys.press("Enter");
  const signOut = page.getByRole("button", { name: messagePattern(t.sign_out_session) });
  await expect(signOut).toBeVisible();
  await ready(page);
  await tabTo(page, messagePattern(t.sign_out_session));
  await keys.press("Enter");
  await expect(page.getByRole("status").filter({ hasText: t.sessions_ended_1 })).toBeVisible();
  // The toast did not take the focus.
  expect(await page.evaluate(() => document.activeElement?.closest(".toasts") ?? null)).toBeNull();
  await expect(page.locator(".session-rows:not(.history) > li")).toHaveCount(1);

  await tabTo(page, t.log_out);
  await keys.press("Enter");
  await expect(page).toHaveURL(/\/login$/);
  await context.close();
  await other.context.close();
});

test("after a failed form the focus is on the first error", async ({ page }) => {
  const t = catalogue.en;
  await page.goto("/signup");
  await ready(page);
  await page.getByLabel(t.username).fill("ab");
  await page.getByLabel(t.password, { exact: true }).fill(PASSWORD);
  await page.getByLabel(t.confirm_password).fill("something else");
  await page.getByRole("button", { name: t.create_account }).click();
  const username = page.getByLabel(t.username);
  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(username).toBeFocused();
  // The message is tied to the field for assistive technology.
  await expect(username).toHaveAccessibleDescription(/3 to 32|at least 3/);

  if (javaScriptEnabled()) {
    // A form-wide message (no field to blame) takes the focus itself.
    await page.goto("/login");
    await submitLogin(page, uniqueName("nobody"), "wrong password!");
    await expect(page.locator(".form-error")).toBeFocused();
    await expect(page.locator(".form-error")).toContainText(t.invalid_credentials);
  }
});
