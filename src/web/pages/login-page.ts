// The login page. A failed login says only that the email or password is wrong (not which).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfInput, field, safeNext } from './account-forms.ts';
import { html } from './html.ts';
import { sendPage } from './page-reply.ts';

export interface LoginForm {
  email?: string;
  next?: string;
  error?: string;
}

export function sendLoginPage(request: FastifyRequest, reply: FastifyReply, form: LoginForm, status = 200): FastifyReply {
  const next = safeNext(form.next);
  const body = html`<section class="auth-page">
  <h1>Log in</h1>
  ${form.error === undefined ? '' : html`<div class="notice bad" role="alert">${form.error}</div>`}
  <form method="post" action="/login" class="card auth-form">
    ${csrfInput(request.csrfToken)}
    <input type="hidden" name="next" value="${next}">
    ${field({ name: 'email', label: 'Email', type: 'email', value: form.email ?? '', autocomplete: 'username', autofocus: form.email === undefined || form.email === '' })}
    ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', autofocus: form.email !== undefined && form.email !== '' })}
    <div class="form-actions"><button type="submit" class="primary">Log in</button>
      <span class="muted">New here? <a href="/signup${next === '/filters' ? '' : `?next=${encodeURIComponent(next)}`}">Create an account</a></span></div>
  </form>
</section>`;
  return sendPage(request, reply, { title: 'Log in', body }, status);
}
