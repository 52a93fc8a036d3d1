// Reading the add-jobs forms' shared fields the same way for every kind of job.

/** The priority field: a number goes as a number, so the host can judge it; anything else as typed, and the host explains. */
export function priorityOf(form) {
  const text = form.elements.priority.value.trim();
  return text === '' ? 0 : Number.isFinite(Number(text)) ? Number(text) : text;
}
