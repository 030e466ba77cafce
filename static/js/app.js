// Journeys' own front-end code. Kept small: htmx does the talking to the server.
"use strict";

// Destructive buttons carry data-confirm; ask before they submit.
document.addEventListener("submit", (event) => {
  const question = event.submitter && event.submitter.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
