import { execFileSync } from "node:child_process";
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { databaseOf, servers, urlOf } from "../playwright.config";
import { browserLocale, catalogue, langs } from "./catalogue";
import { expect, test } from "./fixtures";
import { afterSignOutElsewhere, javaScriptEnabled, logIn, PASSWORD, ready, signUp, uniqueName } from "./helpers";

// The console's own server: `max_sessions = 2`, its database known to the operator's CLI.
const baseURL = urlOf(servers.console.port);
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

/** The operator's command line, on the console server's database. */
function grantAdmin(name: string): void {
  execFileSync("target/debug/single-login", ["user", "grant-admin", name], {
    cwd: "..",
    env: { ...process.env, DATABASE_URL: databaseOf("console"), RUST_LOG: "error" },
  });
}

async function axe(page: Page, what: string): Promise<void> {
  if (!javaScriptEnabled()) return;
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `${what}: accessibility`).toEqual([]);
}

for (const lang of langs) {
  const t = catalogue[lang];

  test(`an admin finds alice, ends one of her sessions, and sees the kick on the chart (${lang})`, async ({ browser }, testInfo) => {
    const alice = uniqueName(`alice${lang}`);
    const root = uniqueName(`root${lang}`);
    const phone = await browser.newContext({ baseURL, userAgent: IPHONE, locale: browserLocale[lang] });
    const laptop = await browser.newContext({ baseURL, locale: browserLocale[lang] });
    const console = await browser.newContext({ baseURL, locale: browserLocale[lang] });
    const a1 = await phone.newPage();
    const a2 = await laptop.newPage();
    const admin = await console.newPage();
    await signUp(a1, alice);
    await logIn(a2, alice);
    await signUp(admin, root);
    grantAdmin(root);
    // A scripted kick: another user signs in from three browsers under a limit of two.
    const bob = uniqueName("bob");
    const bobs = [];
    for (let i = 0; i < 3; i++) bobs.push(await (await browser.newContext({ baseURL })).newPage());
    await signUp(bobs[0], bob);
    await logIn(bobs[1], bob);
    await logIn(bobs[2], bob);

    // The overview: the chart and its table count the kick of this hour.
    await admin.goto("/admin");
    await ready(admin);
    await expect(admin.getByRole("heading", { level: 1, name: t.admin_title })).toBeVisible();
    await expect(admin.getByRole("img", { name: t.admin_chart_title })).toBeVisible();
    const lastHour = admin.locator("figure.chart tbody tr").last();
    const kicks = Number(await lastHour.locator("td").nth(1).textContent());
    expect(kicks).toBeGreaterThanOrEqual(1);
    await axe(admin, "/admin");
    if (javaScriptEnabled()) {
      await admin.setViewportSize({ width: 900, height: 900 });
      await admin.screenshot({ path: testInfo.outputPath(`console-${lang}.png`), fullPage: true });
      if (process.env.SCREENSHOTS_DIR) {
        await admin.screenshot({ path: `${process.env.SCREENSHOTS_DIR}/console-${lang}.png`, fullPage: true });
      }
    }

    // The search, with the keyboard alone.
    await admin.goto("/admin/users");
    await ready(admin);
    const search = admin.getByLabel(t.admin_search_label);
    for (let i = 0; i < 25 && !(await search.evaluate((el) => el === document.activeElement)); i++) {
      await admin.keyboard.press("Tab");
    }
    await expect(search).toBeFocused();
    await admin.keyboard.type(alice);
    await admin.keyboard.press("Enter");
    const link = admin.getByRole("link", { name: alice, exact: true });
    await expect(link).toBeVisible();
    await axe(admin, "/admin/users");
    await link.focus();
    await admin.keyboard.press("Enter");
    await expect(admin).toHaveURL(/\/admin\/user\?id=\d+$/);
    await ready(admin);

    // Confirm, then end the phone's session.
    await admin.getByLabel(t.your_password).fill(PASSWORD);
    await admin.getByRole("button", { name: t.confirm_password_button }).click();
    // The live sessions' list (the history below names "iPhone" too).
    const live = admin.locator("ul.session-rows").first().locator("li.session");
    const phoneRow = live.filter({ has: admin.locator(".session-kind", { hasText: t.kind_phone }) });
    await expect(phoneRow.getByRole("button", { name: t.sign_out })).toBeVisible();
    await axe(admin, "/admin/user");
    await phoneRow.getByRole("button", { name: t.sign_out }).click();
    await expect(phoneRow).toHaveCount(0);
    await expect(live).toHaveCount(1);

    // Alice's open page on the phone goes to /login by itself (or at its next click).
    if (javaScriptEnabled()) {
      await expect(a1).toHaveURL(/\/login$/, { timeout: 2_000 });
    } else {
      await afterSignOutElsewhere(a1);
    }
    await expect(a1.getByRole("status").filter({ hasText: t.revoked_by_operator })).toBeVisible();
    await a2.reload();
    await expect(a2.locator(".signed-in strong")).toHaveText(alice);
    for (const context of [phone, laptop, console, ...bobs.map((page) => page.context())]) await context.close();
  });
}

test("the console is not found by a user who is not an admin", async ({ browser }) => {
  const name = uniqueName("nobody");
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signUp(page, name);
  for (const path of ["/admin", "/admin/users?q=a", "/admin/user?id=1"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
    await ready(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(catalogue.en.not_found_title);
  }
  await context.close();
});
