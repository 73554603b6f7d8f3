// The home page (/): what Nightjar does, where to start, and a glance at the store.
import type { FastifyInstance } from 'fastify';
import { formatCount } from './format.ts';
import { html } from './html.ts';
import type { PageServices } from './page-services.ts';
import { sendPage } from './page-reply.ts';

export async function homeRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  app.get('/', async (request, reply) => {
    const counts = await services.options.store.counts();
    const signedIn = request.user !== null;
    const body = html`<section class="hero">
      <h1>Find the alerts that matter to you</h1>
      <p>Nightjar takes in a survey's alert stream, keeps every object with its lightcurve and features, and runs your SQL filters on every alert as it arrives. Matches go to your Kafka stream, your inbox, or this site.</p>
      <div class="form-actions">
        <a class="button primary" href="/filters/new">Write a filter</a>
        <a class="button" href="/gallery">Browse public filters</a>
        ${signedIn ? html`<a class="button" href="/filters">My filters</a>` : html`<a class="button" href="/signup">Create an account</a>`}
      </div>
    </section>
    <div class="stats">
      <div class="stat"><div class="value">${formatCount(counts.objects)}</div><div class="label">Objects</div></div>
      <div class="stat"><div class="value">${formatCount(counts.alerts)}</div><div class="label">Alerts stored</div></div>
      <div class="stat"><div class="value">${formatCount(counts.points)}</div><div class="label">Lightcurve points</div></div>
      <div class="stat"><div class="value">${formatCount(counts.filters)}</div><div class="label">Filters</div></div>
    </div>
    <div class="grid two">
      <section class="card"><h2>1. Write a filter</h2><p>SELECT the columns you want and say WHERE: magnitudes, colours, rise rates, positions. The reference lists every column with its unit and meaning; <strong>Run</strong> tries it on the stored objects.</p></section>
      <section class="card"><h2>2. Stream the matches</h2><p>Save it as a Kafka stream (JSON as Lasair sends, or Avro for fink-client) or a daily email. Consume it with the Python or TypeScript code on the filter's page.</p></section>
    </div>`;
    return sendPage(request, reply, { title: 'Alert broker', body });
  });
}
