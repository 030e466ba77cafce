// Keyboard shortcuts of the editor (listed in the ? dialog and docs/editor.md). Keys typed
// into a field belong to the field, except Ctrl-S, which always saves.
"use strict";

const NUDGE = 10;

function typing(target) {
  return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]");
}

export function setupKeys(actions, {editable}) {
  document.addEventListener("keydown", (event) => {
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key;
    if (mod && key.toLowerCase() === "s") {
      event.preventDefault();
      if (editable) actions.save();
      return;
    }
    if (document.querySelector("dialog[open]")) {
      if (key === "Escape") actions.closeDialogs();
      return;
    }
    if (typing(event.target)) return;
    if (mod && !event.shiftKey && key.toLowerCase() === "z") {
      event.preventDefault();
      if (editable) actions.undo();
    } else if (mod && (key.toLowerCase() === "y" || (event.shiftKey && key.toLowerCase() === "z"))) {
      event.preventDefault();
      if (editable) actions.redo();
    } else if (mod) {
      return;
    } else if ((key === "Delete" || key === "Backspace") && editable) {
      if (actions.deleteSelection()) event.preventDefault();
    } else if (key === "Escape") {
      actions.deselect();
    } else if (key === "f" || key === "F") {
      actions.fit();
    } else if ((key === "l" || key === "L") && editable) {
      actions.layout();
    } else if (key === "+" || key === "=") {
      actions.zoom(1.2);
    } else if (key === "-" || key === "_") {
      actions.zoom(1 / 1.2);
    } else if (key === "0") {
      actions.zoomReset();
    } else if (key === "?") {
      actions.shortcuts();
    } else if (key.startsWith("Arrow") && editable) {
      const step = event.shiftKey ? NUDGE * 5 : NUDGE;
      const delta = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]}[key];
      if (delta && actions.nudge(...delta)) event.preventDefault();
    }
  });
}
