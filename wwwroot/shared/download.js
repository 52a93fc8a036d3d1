// Files the API serves (a job's result, its thumbnails), fetched with the key, and a result saved to the
// person's computer. A plain link cannot send the X-API-Key header, and the key never goes in a URL, so
// the page fetches the file with the key and hands the browser a blob: URL of it. The whole file passes through the tab's memory on the way.
import { ApiError, getApiKey } from './api.js';
import { el } from './dom.js';

/** Fetches a file the API serves with the key in its header; resolves to the Response, or throws ApiError. */
export async function fetchWithKey(path) {
  const key = getApiKey();
  if (!key) throw new ApiError(-1, null, 'Enter the API key first.');
  let response;
  try {
    response = await fetch(path, { headers: { 'X-API-Key': key } });
  } catch {
    throw new ApiError(0, null, 'Cannot reach the VideoEncode host. Is it running?');
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null), `The host answered ${response.status}.`);
  return response;
}

/** Fetches path with the key and saves it under the name the host gives (Content-Disposition), or fallbackName; under name when given. */
export async function downloadWithKey(path, fallbackName, name = null) {
  const response = await fetchWithKey(path);
  const url = URL.createObjectURL(await response.blob());
  const link = el('a', { href: url, download: name ?? fileNameOf(response.headers.get('Content-Disposition')) ?? fallbackName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the blob after click() returns; free it once the download has surely begun.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The file name of a Content-Disposition header: RFC 6266's filename* (UTF-8) when present, else filename. */
function fileNameOf(header) {
  if (!header) return null;
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (encoded) {
    try {
      return decodeURIComponent(encoded[1].trim());
    } catch {
      // a malformed filename* falls back to the plain filename
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header);
  return plain ? (plain[2] ?? plain[1]).trim() : null;
}
