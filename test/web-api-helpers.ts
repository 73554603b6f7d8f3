// Helpers for the web app's tests: a cookie-keeping client over Fastify's inject (as a browser
// would: cookies set by answers are sent back, cleared ones dropped), reading the CSRF token off
// a page, and signing up through the real form.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { parse } from '../src/util/json.ts';

export type Json = Record<string, unknown>;

export interface Answer {
  status: number;
  headers: LightMyRequestResponse['headers'];
  body: string;
  json: () => Json;
  cookies: LightMyRequestResponse['cookies'];
}

export class Browser {
  readonly cookies = new Map<string, string>();
  private readonly app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, options: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string>; payload?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined = options.payload;
    if (options.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(options.form).toString();
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(options.json);
    }
    const response = await this.app.inject({ method, url, headers, cookies: Object.fromEntries(this.cookies), ...(payload === undefined ? {} : { payload }) });
    for (const cookie of response.cookies) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now());
      if (expired || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return { status: response.statusCode, headers: response.headers, body: response.body, json: () => parse(response.body) as Json, cookies: response.cookies };
  }

  /** The CSRF token of a page (its meta tag). */
  static csrf(page: string): string {
    const match = /<meta name="csrf-token" content="([^"]*)">/.exec(page);
    if (match?.[1] === undefined) throw new Error(`no csrf-token meta tag in the page: ${page.slice(0, 300)}`);
    return match[1];
  }

  /** Opens a page and returns its CSRF token. */
  async csrfOf(url: string): Promise<string> {
    let page = await this.request('GET', url);
    // A signed-in user is sent on from the login and sign-up pages: read the token where they land.
    for (let hops = 0; hops < 3 && page.status === 303 && typeof page.headers.location === 'string'; hops++) page = await this.request('GET', page.headers.location);
    return Browser.csrf(page.body);
  }

  async signUp(email: string, password: string, name = 'Test User'): Promise<Answer> {
    const csrf = await this.csrfOf('/signup');
    return this.request('POST', '/signup', { form: { email, name, password, _csrf: csrf } });
  }

  async logIn(email: string, password: string): Promise<Answer> {
    const csrf = await this.csrfOf('/login');
    return this.request('POST', '/login', { form: { email, password, _csrf: csrf } });
  }

  /** A JSON API call with the session cookie and the CSRF token of the account page. */
  async api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, json?: unknown): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (method !== 'GET') headers['x-csrf-token'] = await this.csrfOf('/account');
    return this.request(method, url, { headers, ...(json === undefined ? {} : { json }) });
  }
}

/** A JSON API call with an API token. */
export async function withToken(app: FastifyInstance, token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, json?: unknown): Promise<Answer> {
  const response = await app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) }, ...(json === undefined ? {} : { payload: JSON.stringify(json) }) });
  return { status: response.statusCode, headers: response.headers, body: response.body, json: () => parse(response.body) as Json, cookies: response.cookies };
}
