// The frame every page shares: document head, header with navigation and the account menu,
// main content and footer. Pages give a title and a body; this file writes the rest.
import type { StoredUser } from '../../store/store.ts';
import { html, raw, type SafeHtml } from './html.ts';

export interface PageContext {
  user: StoredUser | null;
  csrfToken: string;
  /** The request's path, to mark the current section in the navigation. */
  path: string;
}

export interface Page {
  title: string;
  body: SafeHtml;
  /** Module scripts, URLs under /static. */
  scripts?: string[];
}

const SECTIONS: readonly { href: string; label: string }[] = [
  { href: '/filters', label: 'Filters' },
  { href: '/gallery', label: 'Gallery' },
  { href: '/objects', label: 'Objects' },
  { href: '/status', label: 'Streams status' },
];

function isCurrent(path: string, href: string): boolean {
  return path === href || path.startsWith(href + '/');
}

function navigation(ctx: PageContext): SafeHtml {
  const links = SECTIONS.map(
    (s) => html`<li><a href="${s.href}"${isCurrent(ctx.path, s.href) ? raw(' aria-current="page"') : ''}>${s.label}</a></li>`,
  );
  return html`<nav class="site-nav" aria-label="Main"><ul>${links}</ul></nav>`;
}

function accountMenu(ctx: PageContext): SafeHtml {
  if (ctx.user === null) {
    const next = ctx.path === '/' || ctx.path.startsWith('/login') || ctx.path.startsWith('/signup') ? '' : `?next=${encodeURIComponent(ctx.path)}`;
    return html`<div class="account">
      <a href="/login${next}">Log in</a>
      <a class="button small" href="/signup">Sign up</a>
    </div>`;
  }
  return html`<div class="account">
      <a href="/account" class="user-name" title="${ctx.user.email}">${ctx.user.name || ctx.user.email}</a>
      <a href="/account"${isCurrent(ctx.path, '/account') ? raw(' aria-current="page"') : ''}>Account</a>
      <form method="post" action="/logout" class="inline">
        <input type="hidden" name="_csrf" value="${ctx.csrfToken}">
        <button type="submit" class="link">Log out</button>
      </form>
    </div>`;
}

/** The whole HTML document for a page. */
export function renderPage(ctx: PageContext, page: Page): string {
  const scripts = (page.scripts ?? []).map((src) => html`<script type="module" src="${src}"></script>`);
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${ctx.csrfToken}">
<title>${page.title} · Nightjar</title>
<link rel="stylesheet" href="/static/nightjar.css">
<link rel="icon" href="/static/nightjar.svg" type="image/svg+xml">
${scripts}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site-header">
  <div class="wrap header-row">
    <a class="brand" href="/"><img src="/static/nightjar.svg" alt="" width="26" height="26"><span>Nightjar</span></a>
    ${navigation(ctx)}
    ${accountMenu(ctx)}
  </div>
</header>
<main id="main" class="wrap">
${page.body}
</main>
<footer class="site-footer">
  <div class="wrap">Nightjar — an open-source alert broker for time-domain astronomy.
    <a href="/api/openapi.json">API</a> · <a href="/status">Streams status</a></div>
</footer>
</body>
</html>
`;
  return doc.text;
}
