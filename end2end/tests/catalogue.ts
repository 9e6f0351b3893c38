import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "@playwright/test";

/** The app's message catalogue (app/locales), the same files the Rust build compiles in. */
export type Lang = "en" | "ko";
export const langs: Lang[] = ["en", "ko"];
export type Messages = Record<string, string>;

function load(code: Lang): Messages {
  return JSON.parse(readFileSync(join(__dirname, "..", "..", "app", "locales", `${code}.json`), "utf8"));
}

export const catalogue: Record<Lang, Messages> = { en: load("en"), ko: load("ko") };

/** The browser locale that makes the server choose `lang` by Accept-Language. */
export const browserLocale: Record<Lang, string> = { en: "en-US", ko: "ko-KR" };

/** The messages of the language the page is in (its `<html lang>`). */
export async function messagesOf(page: Page): Promise<Messages> {
  const lang = await page.locator("html").getAttribute("lang");
  return catalogue[lang === "ko" ? "ko" : "en"];
}

/** The literal pieces of a message, between its placeholders and tags: what a page shows of
 *  it whatever the values. Pieces shorter than three characters say little and are left out. */
export function pieces(message: string): string[] {
  return message
    .split(/\{\{[^}]*\}\}|<\/?[a-z]+\/?>/)
    .map((piece) => piece.trim())
    .filter((piece) => piece.length >= 3);
}

/** The pieces of `other`'s messages that cannot be part of a page in `lang`: those that are
 *  not also in one of `lang`'s messages (the product's name, "UTC"). */
export function foreignPieces(lang: Lang, other: Lang): string[] {
  const own = Object.values(catalogue[lang]);
  const found = new Set<string>();
  for (const message of Object.values(catalogue[other])) {
    for (const piece of pieces(message)) {
      if (!own.some((text) => text.includes(piece))) found.add(piece);
    }
  }
  return [...found];
}
