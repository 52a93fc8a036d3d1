// Reads GET /api/events for as long as the page is open (with fetch, which can send the key;
// EventSource cannot), reconnecting with Last-Event-ID after a drop. A refused key is not a drop:
// retrying cannot fix it, so the stream says so and waits until a key is saved (keySaved()).
import { getApiKey } from '/shared/api.js';

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

let keyChanged = () => {};

/** Call when a new key is saved: a stream stopped by a refused key starts again. */
export function keySaved() {
  keyChanged();
}

/**
 * onEvent(type, data) for each event; onState('live' | 'retrying' | 'refused' | 'no-key') as the
 * stream comes and goes.
 */
export async function followEvents(onEvent, onState) {
  let lastId = null;
  let delay = 1000;
  for (;;) {
    const key = getApiKey();
    let refused = !key;
    try {
      if (key) {
        const headers = { 'X-API-Key': key };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const response = await fetch('/api/events', { headers });
        refused = response.status === 401 || response.status === 403;
        if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
        onState('live');
        delay = 1000;
        await read(response.body, id => { lastId = id; }, onEvent);
      }
    } catch {
      // The host went away (or refused the key): see below.
    }
    if (refused) {
      onState(key ? 'refused' : 'no-key');
      await new Promise(resolve => { keyChanged = resolve; });
      continue;
    }
    onState('retrying');
    await sleep(delay);
    delay = Math.min(delay * 2, 10000);
  }
}

async function read(body, remember, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').filter(line => !line.startsWith(':'))
        .map(line => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      if (fields.id) remember(fields.id);
      if (fields.event && fields.data) onEvent(fields.event, fields.data);
    }
  }
}
