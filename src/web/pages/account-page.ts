// The account page: who you are, your password, your API tokens (create: the token is shown
// once, on this answer only; revoke), how to call the API, and your Kafka credentials when the
// broker's Kafka asks for them (SASL/SCRAM with ACLs: private streams readable by their owner).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientSnippets } from '../../kafka/access-snippets.ts';
import type { KafkaCredentials } from '../../kafka/access.ts';
import type { StoredApiToken, StoredUser } from '../../store/store.ts';
import { MAX_TOKEN_NAME_LENGTH } from '../auth/api-tokens.ts';
import { MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { csrfInput, field } from './account-forms.ts';
import { html, type SafeHtml } from './html.ts';
import { sendPage } from './page-reply.ts';

/** What the Kafka card shows: open streams, the account's credentials, or why they cannot be shown. */
export type KafkaCard =
  | { kind: 'open' }
  | { kind: 'credentials'; credentials: KafkaCredentials; snippets: ClientSnippets; topics: readonly string[] }
  | { kind: 'unavailable'; message: string };

export interface PasswordForm {
  errors?: { current?: string; password?: string };
}

export interface AccountView {
  user: StoredUser;
  tokens: readonly StoredApiToken[];
  /** A token just created: its secret, shown this once. */
  created?: { token: string; name: string };
  notice?: { kind: 'ok' | 'warn' | 'bad'; text: string };
  /** Where the API is (for the curl example). */
  baseUrl: string;
  kafka: KafkaCard;
  password: PasswordForm;
}

function day(iso: string | null): string {
  return iso === null ? '—' : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function tokenRows(view: AccountView, csrf: string): SafeHtml {
  if (view.tokens.length === 0) return html`<p class="muted">No API tokens yet.</p>`;
  const rows = view.tokens.map((t) => html`<tr>
    <td>${t.name}</td><td class="mono">${t.prefix}…</td><td class="nowrap">${day(t.createdAt)}</td><td class="nowrap">${day(t.lastUsedAt)}</td>
    <td>${t.revokedAt === null
      ? html`<form method="post" action="/account/tokens/${t.id}/revoke" class="inline">${csrfInput(csrf)}<button type="submit" class="small danger" aria-label="Revoke token ${t.name}">Revoke</button></form>`
      : html`<span class="muted">revoked ${day(t.revokedAt)}</span>`}</td>
  </tr>`);
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="hidden">Action</span></th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

function kafkaSection(card: KafkaCard, csrf: string): SafeHtml {
  const head = html`<h2 id="kafka-heading">Kafka credentials</h2>`;
  if (card.kind === 'open') {
    return html`<section class="card" aria-labelledby="kafka-heading" id="kafka-card">${head}
  <p>This broker's Kafka streams are open: any Kafka client reads them without a username or password (see each filter's page for ready-to-paste code).
  A broker whose Kafka asks for credentials (SASL/SCRAM, private streams readable only by their owner) shows yours here.</p>
</section>`;
  }
  if (card.kind === 'unavailable') {
    return html`<section class="card" aria-labelledby="kafka-heading" id="kafka-card">${head}
  <div class="notice bad" role="status">Your Kafka credentials cannot be shown now: ${card.message}. Reload the page in a moment.</div>
</section>`;
  }
  const c = card.credentials;
  return html`<section class="card" aria-labelledby="kafka-heading" id="kafka-card">${head}
  <p class="muted small">This broker's Kafka asks for a username and password. Your private filters' streams are readable with these credentials only; public ones by every account.</p>
  <dl class="settings">
    <dt>Username</dt><dd><code id="kafka-username">${c.username}</code></dd>
    <dt>Password</dt><dd><details class="secret"><summary>Show password</summary><code id="kafka-password">${c.password}</code></details>
      <span class="muted small">set ${day(c.updatedAt)}</span></dd>
    <dt>Mechanism</dt><dd><code id="kafka-mechanism">${c.mechanism}</code> <span class="muted small">(${c.mechanisms.join(' or ')} work)</span></dd>
    <dt>Security protocol</dt><dd><code id="kafka-protocol">${c.securityProtocol}</code></dd>
    <dt>Bootstrap servers</dt><dd><code id="kafka-bootstrap">${c.bootstrap}</code></dd>
    <dt>Consumer groups</dt><dd>Group ids must start with <code id="kafka-group-prefix">${c.groupPrefix}</code>, e.g. <code>${c.groupPrefix}laptop</code>; a new group id reads a stream from the start of what is kept, the same one resumes where it left off.</dd>
  </dl>
  <details class="secret"><summary>Client settings (they contain your password)</summary>
    <p class="small">Nightjar's consumer (and fink-client) profile${card.topics.length === 0 ? '' : ', for your streams'}:</p>
    <pre class="mono" id="kafka-register">${card.snippets.nightjarRegister}</pre>
    <p class="small">Python, confluent_kafka:</p>
    <pre class="mono" id="kafka-python">${card.snippets.confluentKafka}</pre>
  </details>
  <form method="post" action="/account/kafka/rotate" class="row">
    ${csrfInput(csrf)}
    <button type="submit" class="danger" id="kafka-rotate">Change Kafka password</button>
    <span class="muted small">The current password stops working at once: clients using it must be given the new one.</span>
  </form>
</section>`;
}

function passwordSection(form: PasswordForm, csrf: string): SafeHtml {
  return html`<section class="card" aria-labelledby="password-heading">
  <h2 id="password-heading">Password</h2>
  <form method="post" action="/account/password" class="auth-form" novalidate>
    ${csrfInput(csrf)}
    ${field({ name: 'current', label: 'Current password', type: 'password', autocomplete: 'current-password', error: form.errors?.current })}
    ${field({ name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', minlength: MIN_PASSWORD_LENGTH, hint: `at least ${MIN_PASSWORD_LENGTH} characters; you stay signed in here, every other session ends`, error: form.errors?.password })}
    <div class="form-actions"><button type="submit" class="primary">Change password</button></div>
  </form>
</section>`;
}

export function sendAccountPage(request: FastifyRequest, reply: FastifyReply, view: AccountView, status = 200): FastifyReply {
  const csrf = request.csrfToken;
  const example = view.created?.token ?? '<your token>';
  const body = html`<div class="page-head"><div><h1>Your account</h1><p class="muted">${view.user.name} · ${view.user.email} · member since ${view.user.createdAt.slice(0, 10)}</p></div></div>
${view.notice === undefined ? '' : html`<div class="notice ${view.notice.kind}" role="status">${view.notice.text}</div>`}
${view.created === undefined ? '' : html`<div class="notice ok" role="status">
  <p>New API token <strong>${view.created.name}</strong>. Copy it now: it is not shown again.</p>
  <p><code class="mono new-token" id="new-token">${view.created.token}</code></p>
</div>`}
<section class="card" aria-labelledby="tokens-heading">
  <div class="card-head"><h2 id="tokens-heading">API tokens</h2><a href="/api/openapi.json" class="small">OpenAPI document</a></div>
  <p class="muted small">Scripts use a token instead of your password: send it as <code>Authorization: Bearer &lt;token&gt;</code>. Revoke a token you no longer use.</p>
  ${tokenRows(view, csrf)}
  <form method="post" action="/account/tokens" class="row spaced">
    ${csrfInput(csrf)}
    <div class="field"><label for="token-name">Name of a new token</label><input id="token-name" name="name" type="text" maxlength="${MAX_TOKEN_NAME_LENGTH}" required placeholder="e.g. laptop, analysis notebook"></div>
    <div class="field fixed"><button type="submit" class="primary">Create token</button></div>
  </form>
  <p class="small">Example:</p>
  <pre class="mono">curl -H 'Authorization: Bearer ${example}' ${view.baseUrl}/api/v1/filters</pre>
</section>
${kafkaSection(view.kafka, csrf)}
${passwordSection(view.password, csrf)}`;
  return sendPage(request, reply, { title: 'Account', body }, status);
}
