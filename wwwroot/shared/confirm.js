// A yes/no question in the page's own <dialog id="confirm"> (with #confirm-text and a button whose
// value is "confirm"), answered as a promise: true when the person confirmed.
export function confirmed(question) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = question;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}
