// The pages' only way to the host: same-origin fetch with the saved X-API-Key.

// The original service's pages kept the key under this name; keeping it carries a saved key over.
const KEY_STORAGE = 'videoEncodeApiKey';

export const getApiKey = () => localStorage.getItem(KEY_STORAGE) ?? '';

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

/** A refused or failed request: status 0 for "never reached the host", body as the host sent it. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    super(body?.error ?? fallback);
    this.status = status;
    this.body = body ?? {};
  }
  get isKeyProblem() { return this.status === 401 || this.status === -1; }
}

/** Calls the API (with any extra headers, such as Idempotency-Key); resolves to the parsed JSON, or throws ApiError. */
export async function api(method, path, body, extraHeaders = {}) {
  const key = getApiKey();
  if (!key) throw new ApiError(-1, null, 'Enter the API key first.');
  const headers = { ...extraHeaders, 'X-API-Key': key };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null, 'Cannot reach the VideoEncode host. Is it running?');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data, `The host answered ${response.status}.`);
  }
  return data;
}
