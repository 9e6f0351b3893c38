import { expect, test } from "./fixtures";

// cargo-leptos names the built assets by their content (hash-files): the server may then let
// browsers keep them for a year.
test("the stylesheet and the app have content-hashed names and are cached for good", async ({ page }) => {
  await page.goto("/login");
  const css = await page.locator('link[rel="stylesheet"]').first().getAttribute("href");
  expect(css).toMatch(/^\/pkg\/single-login\.[A-Za-z0-9_-]{8,}\.css$/);
  const wasm = await page.locator('link[rel="preload"][href$=".wasm"]').getAttribute("href");
  expect(wasm).toMatch(/^\/pkg\/single-login\.[A-Za-z0-9_-]{8,}\.wasm$/);
  for (const href of [css!, wasm!]) {
    const response = await page.request.get(href);
    expect(response.status()).toBe(200);
    expect(response.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(response.headers()["x-content-type-options"]).toBe("nosniff");
  }
  // The page is styled by it.
  await expect(page.locator("main.page")).toHaveCSS("max-width", "416px");
});
