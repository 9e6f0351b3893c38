import { expect, test } from "./fixtures";
import { servers, urlOf } from "../playwright.config";
import { afterSignOutElsewhere, KICKED_EN, KICKED_KO, logIn, signUp, uniqueName } from "./helpers";

// `max_sessions = 2`, `seat_limits = { phone = 1, computer = 1 }`.
const baseURL = urlOf(servers.phoneAndComputer.port);
const WINDOWS_CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IPHONE_SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

test("one phone and one computer: /sessions shows each kind and the usage per kind, in both languages", async ({ browser }) => {
  const name = uniqueName("kinds");
  const computer = await browser.newContext({ baseURL, userAgent: WINDOWS_CHROME, locale: "en-US" });
  const phone = await browser.newContext({ baseURL, userAgent: IPHONE_SAFARI, locale: "ko-KR" });
  const pc = await computer.newPage();
  const mobile = await phone.newPage();
  await signUp(pc, name);
  await logIn(mobile, name);

  await pc.goto("/sessions");
  await expect(pc.locator(".usage")).toContainText("Computer 1/1 · Phone 1/1 · All 2/2");
  await expect(pc.locator(".session-rows").first().locator(".session-kind")).toHaveText(["Phone", "Computer"]);
  await mobile.goto("/sessions");
  await expect(mobile.locator(".usage")).toContainText("컴퓨터 1/1 · 휴대폰 1/1 · 전체 2/2");
  await expect(mobile.locator(".session-rows").first().locator(".session-kind")).toHaveText(["휴대폰", "컴퓨터"]);
  // Both still signed in: a phone does not replace a computer.
  await pc.goto("/");
  await expect(pc.locator(".signed-in strong")).toHaveText(name);
  await computer.close();
  await phone.close();
});

test("the kicked toast names the kind of the login that replaced it", async ({ browser }) => {
  const name = uniqueName("kindkick");
  const first = await browser.newContext({ baseURL, userAgent: WINDOWS_CHROME, locale: "en-US" });
  const phone = await browser.newContext({ baseURL, userAgent: IPHONE_SAFARI, locale: "ko-KR" });
  const second = await browser.newContext({ baseURL, userAgent: LINUX_FIREFOX, locale: "en-US" });
  const secondPhone = await browser.newContext({ baseURL, userAgent: IPHONE_SAFARI, locale: "en-US" });
  const a = await first.newPage();
  const b = await phone.newPage();
  await signUp(a, name);
  await logIn(b, name);

  // Another computer: the first computer goes, the phone stays.
  await logIn(await second.newPage(), name);
  await afterSignOutElsewhere(a);
  await expect(a).toHaveURL(/\/login$/);
  const kicked = a.getByRole("status").filter({ hasText: KICKED_EN });
  await expect(kicked).toContainText("A login from another computer replaced this one.");
  await b.reload();
  await expect(b.locator(".signed-in strong")).toHaveText(name);

  // Another phone: the phone goes, told in Korean.
  await logIn(await secondPhone.newPage(), name);
  await afterSignOutElsewhere(b);
  await expect(b).toHaveURL(/\/login$/);
  const kickedKo = b.getByRole("status").filter({ hasText: KICKED_KO });
  await expect(kickedKo).toContainText("다른 휴대폰에서의 로그인이 이 세션을 대신했습니다.");
  for (const context of [first, phone, second, secondPhone]) await context.close();
});
