// The template editor: CodeMirror on the MJML field, problems marked on their lines,
// a debounced preview on every change (htmx posts the form on "jr:changed"), save with
// Ctrl+S, a warning before leaving unsaved work, and the variables panel.
"use strict";

(() => {
  const form = document.getElementById("template-form");
  if (!form || !window.CodeMirror) return;
  const readonly = form.dataset.readonly === "1";
  const area = document.getElementById("mjml");

  // Jinja inside MJML: {{ … }}, {% … %} and {# … #} get their own colour over the XML mode.
  const jinja = {
    startState: () => ({ close: null }),
    copyState: (state) => ({ close: state.close }),
    token(stream, state) {
      if (!state.close) {
        if (stream.match("{{")) state.close = "}}";
        else if (stream.match("{%")) state.close = "%}";
        else if (stream.match("{#")) state.close = "#}";
        else {
          while (stream.next() != null && !stream.match(/^\{[{%#]/, false)) { /* skip to the next construct */ }
          return null;
        }
      }
      const style = state.close === "#}" ? "jinja-comment" : "jinja";
      while (!stream.eol()) {
        if (stream.match(state.close)) { state.close = null; break; }
        stream.next();
      }
      return style;
    },
  };
  CodeMirror.defineMode("mjml-jinja", (config) => CodeMirror.overlayMode(CodeMirror.getMode(config, "xml"), jinja));

  const complete = (cm) => cm.showHint({ schemaInfo: window.MJML_SCHEMA || {}, completeSingle: false });
  const editor = CodeMirror.fromTextArea(area, {
    mode: "mjml-jinja", lineNumbers: true, lineWrapping: true, readOnly: readonly, tabSize: 2, indentUnit: 2,
    gutters: ["jr-problems", "CodeMirror-linenumbers"], autoCloseTags: !readonly, matchTags: { bothTags: true },
    styleActiveLine: true, viewportMargin: 50,
    extraKeys: {
      "Ctrl-Space": complete, "Ctrl-S": () => save(), "Cmd-S": () => save(),
      "'<'": (cm) => { cm.replaceSelection("<"); if (!readonly) setTimeout(() => complete(cm), 0); },
    },
  });
  editor.getWrapperElement().setAttribute("aria-label", "MJML source");
  window.templateEditor = editor; // tests and the browser console read it

  // Changes: keep the textarea in step (htmx sends it), mark unsaved, ask for a preview.
  const dirtyBadge = document.getElementById("dirty-state");
  let dirty = false;
  const setDirty = (value) => { dirty = value; if (dirtyBadge) dirtyBadge.hidden = !value; };
  // Fields that are saved mark the page unsaved; the sample and the contact only re-render.
  const changed = (saved) => {
    editor.save();
    if (saved) setDirty(true);
    form.dispatchEvent(new CustomEvent("jr:changed", { bubbles: true }));
  };
  editor.on("changes", () => changed(true));
  form.addEventListener("input", (event) => {
    if (event.target.matches("[data-preview-input]")) changed(event.target.name !== "sample");
    else if (event.target.closest(".template-details")) setDirty(true);
  });
  form.addEventListener("change", (event) => {
    if (event.target.matches("select[data-preview-input]")) changed(true);
    else if (event.target.closest(".template-details")) setDirty(true);
  });
  window.addEventListener("beforeunload", (event) => { if (dirty) { event.preventDefault(); event.returnValue = ""; } });

  function save() {
    if (readonly) return;
    editor.save();
    const button = document.getElementById("save-button");
    if (button) htmx.trigger(button, "click");
  }
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "s") return;
    event.preventDefault(); // the browser's "save page" either way
    if (!event.target.closest(".CodeMirror")) save(); // inside the editor its own key map saves
  });
  document.body.addEventListener("jr:saved", () => setDirty(false));
  // htmx reads the textarea: make sure it holds the editor's text before any request.
  document.body.addEventListener("htmx:configRequest", () => editor.save());

  // Problems from the server: a marker in the gutter and a highlighted line for MJML ones,
  // aria-invalid on the subject or preheader for theirs.
  let marked = [];
  const showProblems = () => {
    const holder = document.getElementById("preview-problems");
    if (!holder) return;
    let problems = [];
    try { problems = JSON.parse(holder.dataset.problems || "[]"); } catch (_) { problems = []; }
    editor.operation(() => {
      marked.forEach((line) => { editor.removeLineClass(line, "background", "cm-problem-line"); editor.removeLineClass(line, "background", "cm-warning-line"); });
      editor.clearGutter("jr-problems");
      marked = [];
      problems.filter((p) => p.part === "mjml" && p.line).forEach((p) => {
        const line = Math.min(p.line, editor.lineCount()) - 1;
        const marker = document.createElement("span");
        marker.className = `cm-problem-marker cm-problem-${p.severity}`;
        marker.textContent = p.severity === "error" ? "✕" : "⚠";
        marker.title = p.message;
        editor.setGutterMarker(line, "jr-problems", marker);
        editor.addLineClass(line, "background", p.severity === "error" ? "cm-problem-line" : "cm-warning-line");
        marked.push(line);
      });
    });
    ["subject", "preheader"].forEach((name) => {
      const field = document.getElementById(name);
      if (problems.some((p) => p.part === name && p.severity === "error")) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    });
    const shown = document.getElementById("preview-email");
    if (shown) shown.classList.toggle("stale", problems.some((p) => p.severity === "error"));
  };
  document.body.addEventListener("htmx:afterSettle", showProblems);
  showProblems();

  // "line 12" in a problem jumps there.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-goto-line]");
    if (!link) return;
    if (link.dataset.part === "mjml") {
      const line = Number(link.dataset.gotoLine) - 1;
      editor.focus();
      editor.setCursor({ line, ch: 0 });
      editor.scrollIntoView({ line, ch: 0 }, 80);
    } else {
      document.getElementById(link.dataset.part)?.focus();
    }
  });

  // Right pane tabs: preview, variables, sample data.
  document.addEventListener("click", (event) => {
    const tab = event.target.closest("[data-pane]");
    if (!tab) return;
    document.querySelectorAll("[data-pane]").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
    document.querySelectorAll("[data-pane-body]").forEach((body) => { body.hidden = body.dataset.paneBody !== tab.dataset.pane; });
  });

  // Variables: insert the example at the cursor.
  document.addEventListener("click", (event) => {
    const item = event.target.closest("[data-insert]");
    if (!item || readonly) return;
    editor.replaceSelection(item.dataset.insert);
    editor.focus();
  });
})();
