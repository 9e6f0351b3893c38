import { expect, test as base, type BrowserContext } from "@playwright/test";

/** What a page must never do: break its Content-Security-Policy, throw, or log an error that
 *  is not one of the app's own HTTP answers. */
async function watch(context: BrowserContext, problems: string[]): Promise<void> {
  await context.exposeBinding("__reportCspViolation", (_source, text: string) => {
    problems.push(`CSP violation: ${text}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { __reportCspViolation: (text: string) => void }).__reportCspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`);
    });
  });
  const watchPage = (page: import("@playwright/test").Page) => {
    page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      const text = message.text();
      // The app answers with 4xx by design (401 after a kick, 409 under deny_new, 422 for a
      // field), and a test may cut the live channel: the browser logs those loads.
      if (/^Failed to load resource: (the server responded with a status of 4\d\d|net::ERR_FAILED)/.test(text)) return;
      problems.push(`console error on ${page.url()}: ${text}`);
    });
  };
  context.pages().forEach(watchPage);
  context.on("page", watchPage);
}

/** Playwright's `test`, with every browser context a test opens watched for CSP violations,
 *  uncaught errors and console errors: any one fails the test. */
export const test = base.extend<{ pageProblems: string[]; pageGuard: void }>({
  // What the guard has seen so far: a test that provokes a violation on purpose reads and
  // empties it.
  pageProblems: async ({}, use) => {
    await use([]);
  },
  pageGuard: [
    async ({ browser, context, pageProblems: problems }, use) => {
      await watch(context, problems);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const created = await newContext(options);
        await watch(created, problems);
        return created;
      };
      await use();
      browser.newContext = newContext;
      expect(problems, "CSP violations, uncaught errors or console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
