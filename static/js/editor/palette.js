// The palette: drag a step type onto the canvas (pointer events, so mouse, pen and touch
// work the same), or click it (or press Enter on it) to add it in the middle of the view.
"use strict";

const THRESHOLD = 4;

export function setupPalette(root, canvas, palette) {
  const types = new Map(palette.map((item) => [item.type, item]));
  const add = (type, x, y) => {
    const item = types.get(type);
    canvas.addNode(type, item.config, {label: item.label, summary: "", ports: item.ports}, x, y);
  };

  root.querySelectorAll(".palette-item").forEach((button) => {
    let start = null;
    let ghost = null;

    button.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      start = {x: event.clientX, y: event.clientY};
      button.setPointerCapture(event.pointerId);
    });

    button.addEventListener("pointermove", (event) => {
      if (!start) return;
      if (!ghost && Math.hypot(event.clientX - start.x, event.clientY - start.y) < THRESHOLD) return;
      if (!ghost) ghost = makeGhost(button);
      ghost.style.left = `${event.clientX + 6}px`;
      ghost.style.top = `${event.clientY + 6}px`;
      canvas.container.classList.toggle("drop-target", over(canvas.container, event));
    });

    let suppressClick = false;
    const finish = (event, cancelled) => {
      if (!start) return;
      const dragged = !!ghost;
      if (ghost) ghost.remove();
      ghost = null;
      start = null;
      canvas.container.classList.remove("drop-target");
      if (!dragged) return;
      // The click the browser fires after this pointerup must not add a second step.
      suppressClick = true;
      setTimeout(() => { suppressClick = false; }, 0);
      if (cancelled || !over(canvas.container, event)) return;
      const [x, y] = canvas.viewport.toCanvas(event.clientX, event.clientY);
      add(button.dataset.type, x - 110, y - 30);
    };
    button.addEventListener("pointerup", (event) => finish(event, false));
    button.addEventListener("pointercancel", (event) => finish(event, true));

    // A click that was not a drag, or Enter / Space on the focused button.
    button.addEventListener("click", () => {
      if (suppressClick) return;
      const [x, y] = canvas.viewport.centre();
      add(button.dataset.type, x - 110, y + canvas.model.graph.nodes.length * 12);
    });
  });
}

function over(el, event) {
  const rect = el.getBoundingClientRect();
  return event.clientX >= rect.left && event.clientX <= rect.right && event.clientY >= rect.top && event.clientY <= rect.bottom;
}

function makeGhost(button) {
  const ghost = document.createElement("div");
  ghost.className = "palette-ghost";
  ghost.textContent = button.querySelector(".palette-label").textContent;
  document.body.appendChild(ghost);
  return ghost;
}
