// Requests from the editor: same origin, the session's CSRF token in a header, JSON answers.
"use strict";

export function csrfToken() {
  const headers = document.body.getAttribute("hx-headers");
  try { return JSON.parse(headers)["X-CSRFToken"]; } catch (_) { return ""; }
}

export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  return {ok: response.ok, status: response.status, data};
}

export async function getJSON(url) {
  const response = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

// A form posted without htmx (used when the panel must be read before it goes away).
export async function postForm(url, form) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin", body: new FormData(form),
    headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true"},
  });
  return response.text();
}

export function escapeHTML(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => (
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
