// Reading the add-jobs forms' shared fields the same way for every kind of job.

/** The priority field: a number goes as a number, so the host can judge it; anything else as typed, and the host explains. */
export function priorityOf(form) {
  const text = form.elements.priority.value.trim();
  return text === '' ? 0 : numberOrText(text);
}

/** A number field's text as a number when it is one, else as typed (the host names what is wrong with it). */
export function numberOrText(text) {
  return text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}
