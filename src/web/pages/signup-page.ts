// The sign-up page: email, name, password (at least 10 characters). A new account is signed in
// at once and sent on to its filters.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountProblem, SignUpInput } from '../auth/accounts.ts';
import { MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { csrfInput, field, safeNext } from './account-forms.ts';
import { html } from './html.ts';
import { sendPage } from './page-reply.ts';

export function sendSignUpPage(request: FastifyRequest, reply: FastifyReply, input: Partial<SignUpInput> & { next?: string }, problems: readonly AccountProblem[] = [], status = 200): FastifyReply {
  const error = (name: string): string | undefined => problems.find((p) => p.field === name)?.message;
  const next = safeNext(input.next);
  const body = html`<section class="auth-page">
  <h1>Create your account</h1>
  <p class="muted">Write filters over the alert stream, save them as Kafka streams or email digests, and use the API.</p>
  <form method="post" action="/signup" class="card auth-form" novalidate>
    ${csrfInput(request.csrfToken)}
    <input type="hidden" name="next" value="${next}">
    ${field({ name: 'email', label: 'Email', type: 'email', value: input.email ?? '', error: error('email'), autocomplete: 'email', autofocus: true })}
    ${field({ name: 'name', label: 'Name', type: 'text', value: input.name ?? '', error: error('name'), autocomplete: 'name', hint: 'shown with your public filters' })}
    ${field({ name: 'password', label: 'Password', type: 'password', error: error('password'), autocomplete: 'new-password', minlength: MIN_PASSWORD_LENGTH, hint: `at least ${MIN_PASSWORD_LENGTH} characters` })}
    <div class="form-actions"><button type="submit" class="primary">Sign up</button>
      <span class="muted">Have an account? <a href="/login${next === '/filters' ? '' : `?next=${encodeURIComponent(next)}`}">Log in</a></span></div>
  </form>
</section>`;
  return sendPage(request, reply, { title: 'Sign up', body }, status);
}
