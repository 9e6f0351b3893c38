import { chromium } from "@playwright/test";
import config, { baseURL } from "./playwright.config";

// `cargo leptos end-to-end` starts the server and the tests at the same moment: wait until
// the server answers. Then load one page in the browser until it hydrates: on a cold machine
// the first compilation of the (debug) wasm takes far longer than any test should wait for,
// and it is cached for the tests that follow.
export default async function globalSetup(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const response = await fetch(`${baseURL}/login`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server at ${baseURL} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const launch = config.use?.launchOptions ?? {};
  const browser = await chromium.launch(launch);
  try {
    const page = await browser.newPage();
    await page.goto(`${baseURL}/login`);
    await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 180_000 });
  } finally {
    await browser.close();
  }
}
