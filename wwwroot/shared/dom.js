// Builds DOM nodes from data. Text always goes in through textContent, never innerHTML, so a file
// name like <img src=x onerror=alert(1)> is shown as the characters it is and runs nothing.

/** el('td', { class: 'file' }, 'text', childNode, [more, children], …) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Unix seconds as the browser's local date and time; an empty string for null. */
export function localTime(seconds) {
  return seconds === null || seconds === undefined ? '' : new Date(seconds * 1000).toLocaleString();
}

/** Shows a message — text, or an array of texts and nodes; '' clears it. kind is 'error' or 'success'. */
export function say(target, content, kind = 'error') {
  target.replaceChildren(...[content ?? ''].flat());
  target.classList.toggle('error', kind === 'error');
  target.classList.toggle('success', kind === 'success');
}
