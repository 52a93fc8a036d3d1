// A job's file as view-jobs shows it, in the jobs table and the workers panel alike. In a media library
// the part of a path that tells jobs apart is its end ("library/Some Show/Season 01/show-9981 1080p.mkv"),
// so the file's own name comes first, whole while the line has room; after it, quieter, what else the
// line says and then the folder, which gives up its room first and is cut from its start (the folders
// nearest the file say the most). On a phone that second part takes a line of its own (style.css).
// The whole path stays in the tooltip and the job's detail, and the search looks through all of it.
import { el } from '/shared/dom.js';

/** "a/b/c.mkv" as its folder "a/b" and its own name "c.mkv"; a file at the top has the folder "". */
export function splitPath(path) {
  const slash = path.lastIndexOf('/');
  return { folder: slash < 0 ? '' : path.slice(0, slash), name: path.slice(slash + 1) };
}

/** The line: lead (a button before the name, or null), the name, then the meta nodes, the folder and tail (or null). */
export function pathLine(path, { lead = null, meta = [], tail = null } = {}) {
  const { folder, name } = splitPath(path);
  // The folder is laid out right to left so that it loses its start; the bdi keeps the path itself left to right.
  return el('div', { class: 'path-line' }, lead, el('span', { class: 'file-name' }, name), ' ',
    el('span', { class: 'path-more' }, meta.flatMap(node => [node, ' ']),
      folder ? el('span', { class: 'folder' }, el('bdi', { dir: 'ltr' }, folder)) : null, tail ? [' ', tail] : null));
}
