/**
 * The little of the DOM that the tests' in-page callbacks use (puppeteer serializes them into Chromium). The node
 * side's tsconfig has no DOM library, and adding it would hide node/DOM mix-ups elsewhere, so each test file
 * declares `document` with these types for its own module only.
 */
export interface PageElement {
  readonly textContent: string | null;
  readonly hidden?: boolean;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
}

export interface PageDocument {
  readonly activeElement: PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  getElementById(id: string): PageElement | null;
}
