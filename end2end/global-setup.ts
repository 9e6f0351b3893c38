import { baseURL } from "./playwright.config";

// `cargo leptos end-to-end` starts the server and the tests at the same moment: wait until
// the server answers.
export default async function globalSetup(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const response = await fetch(`${baseURL}/login`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server at ${baseURL} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
