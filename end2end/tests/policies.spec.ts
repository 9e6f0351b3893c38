import { type Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { servers, urlOf } from "../playwright.config";
import {
  afterSignOutElsewhere,
  KICKED_EN,
  logIn,
  signUp,
  submitLogin as send,
  twoBrowsers,
  uniqueName,
} from "./helpers";

async function submitLogin(page: Page, name: string) {
  await page.goto("/login");
  await send(page, name);
}

test.describe("deny_new", () => {
  test("a second login is refused and told where the first one is", async ({ browser }) => {
    const name = uniqueName("deny");
    const { a, b, close } = await twoBrowsers(browser, { baseURL: urlOf(servers.denyNew.port) });
    await signUp(a, name);
    await submitLogin(b, name);
    const alert = b.getByRole("alert").filter({ hasText: "already signed in elsewhere" });
    await expect(alert).toBeVisible();
    await expect(alert).toContainText("127.0.0.1");
    await expect(alert).toContainText("last active just now");
    // The first browser keeps its session.
    await a.reload();
    await expect(a.getByText(`Signed in as ${name}`)).toBeVisible();
    await close();
  });
});

test.describe("ask", () => {
  test("the user chooses which session to end and continues without the password", async ({ browser }) => {
    const name = uniqueName("ask");
    const { a, b, close } = await twoBrowsers(browser, { baseURL: urlOf(servers.ask.port) });
    await signUp(a, name);
    await submitLogin(b, name);
    await expect(b.getByRole("heading", { name: "Signed in elsewhere" })).toBeVisible();
    const choices = b.getByRole("checkbox");
    await expect(choices).toHaveCount(1);
    await choices.first().check();
    await b.getByRole("button", { name: "Sign out selected and continue" }).click();
    await expect(b.getByText(`Signed in as ${name}`)).toBeVisible();

    await afterSignOutElsewhere(a);
    await expect(a).toHaveURL(/\/login$/);
    await expect(a.getByRole("status").filter({ hasText: KICKED_EN })).toBeVisible();
    await close();
  });

  test("the user can cancel instead", async ({ browser }) => {
    const name = uniqueName("askno");
    const { a, b, close } = await twoBrowsers(browser, { baseURL: urlOf(servers.ask.port) });
    await signUp(a, name);
    await submitLogin(b, name);
    await expect(b.getByRole("heading", { name: "Signed in elsewhere" })).toBeVisible();
    await b.getByRole("button", { name: "Cancel" }).click();
    await expect(b.getByRole("heading", { name: "Log in" })).toBeVisible();
    await a.reload();
    await expect(a.getByText(`Signed in as ${name}`)).toBeVisible();
    await close();
  });
});

test.describe("same_ip_shares_seat", () => {
  test("browsers behind one address share the seat; another address takes it", async ({ browser }) => {
    const name = uniqueName("sameip");
    const base = urlOf(servers.sameIp.port);
    const office = { "X-Forwarded-For": "203.0.113.10" };
    const { a, b, close } = await twoBrowsers(browser, { baseURL: base, extraHTTPHeaders: office });
    await signUp(a, name);
    await logIn(b, name);
    await a.reload();
    await expect(a.getByText(`Signed in as ${name}`)).toBeVisible();

    const home = await browser.newContext({ baseURL: base, extraHTTPHeaders: { "X-Forwarded-For": "198.51.100.20" } });
    const c = await home.newPage();
    await logIn(c, name);
    await afterSignOutElsewhere(a);
    await expect(a.getByRole("status").filter({ hasText: KICKED_EN })).toBeVisible();
    // Where the new login came from, only as a network: the kicked browser may be a thief's.
    const kicked = a.getByRole("status").filter({ hasText: KICKED_EN });
    await expect(kicked).toContainText("198.51.100.x");
    await expect(kicked).not.toContainText("198.51.100.20");
    await close();
    await home.close();
  });
});
