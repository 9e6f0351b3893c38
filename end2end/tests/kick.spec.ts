import { expect, test } from "./fixtures";
import {
  afterSignOutElsewhere,
  KICKED_EN,
  KICKED_KO,
  logIn,
  signUp,
  twoBrowsers,
  uniqueName,
  withoutLiveChannel,
} from "./helpers";

// Two browser contexts are two browsers with their own cookies.
test("a login in a second browser signs the first one out, and its next click is told why", async ({ browser }) => {
  const name = uniqueName("kick");
  const { a, b, close } = await twoBrowsers(browser);
  // The live channel would move A first (live.hydrate.spec.ts); this is the click's path.
  await withoutLiveChannel(a);

  await signUp(a, name);
  await logIn(b, name);

  // A's next click.
  await a.getByRole("button", { name: "Log out" }).click();
  await expect(a).toHaveURL("/login");
  const toast = a.getByRole("status").filter({ hasText: KICKED_EN });
  await expect(toast).toBeVisible();
  await expect(toast).toContainText("New login");

  // B is still signed in.
  await b.reload();
  await expect(b.getByText(`Signed in as ${name}`)).toBeVisible();
  await close();
});

test("a Korean browser gets the Korean message", async ({ browser }) => {
  const name = uniqueName("kick_ko");
  const { a, b, close } = await twoBrowsers(browser, { locale: "ko-KR" }, {});

  await signUp(a, name);
  await logIn(b, name);
  await afterSignOutElsewhere(a);
  await expect(a).toHaveURL("/login");
  await expect(a.getByRole("status").filter({ hasText: KICKED_KO })).toBeVisible();
  await close();
});

test("a toast can be dismissed", async ({ browser }) => {
  const name = uniqueName("dismiss");
  const { a, b, close } = await twoBrowsers(browser);
  await signUp(a, name);
  await logIn(b, name);
  await afterSignOutElsewhere(a);
  const toast = a.getByRole("status").filter({ hasText: KICKED_EN });
  await expect(toast).toBeVisible();
  await toast.getByRole("button", { name: "Dismiss" }).click();
  await expect(toast).toBeHidden();
  await close();
});
