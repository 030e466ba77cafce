// The draft saves itself: a moment after each change, at once on Ctrl-S, before publishing.
// The server refuses a save over a draft somebody else changed (409, by the draft's hash);
// a failed save is retried, and leaving the page with unsaved changes asks first.
"use strict";

import {postJSON} from "./http.js";

const DELAY_MS = 800;
const RETRY_MS = 5000;

export class Autosave {
  constructor({url, hash, body, onSaved, onConflict, indicator}) {
    this.url = url;
    this.hash = hash;
    this.body = body;
    this.onSaved = onSaved;
    this.onConflict = onConflict;
    this.indicator = indicator;
    this.revision = 0;
    this.savedRevision = 0;
    this.timer = null;
    this.running = null;
    this.blocked = false;
    this.discard = false;
    window.addEventListener("beforeunload", (event) => {
      if (this.discard || (!this.dirty && !this.running)) return;
      event.preventDefault();
      event.returnValue = "";  // the browser shows its own "leave site?" question
    });
  }

  get dirty() { return this.revision !== this.savedRevision; }

  // Nothing waiting to be sent and nothing on its way (tests wait for this).
  get idle() { return !this.dirty && !this.running && !this.timer; }

  changed() {
    this.revision += 1;
    this.schedule();
  }

  schedule() {
    if (this.blocked) return;
    this.show("unsaved", "Unsaved changes");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), DELAY_MS);
  }

  // Save now; resolves once everything changed so far is stored (or the save failed).
  async flush() {
    clearTimeout(this.timer);
    this.timer = null;
    while (this.running) await this.running;
    if (this.dirty && !this.blocked) await this.save();
    return !this.dirty;
  }

  async save({force = false} = {}) {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.running) { await this.running; return this.dirty ? this.save({force}) : true; }
    if (this.blocked && !force) return false;
    const revision = this.revision;
    this.show("saving", "Saving…");
    this.running = this.send(revision, force);
    try { return await this.running; } finally { this.running = null; }
  }

  async send(revision, force) {
    let answer;
    try {
      answer = await postJSON(this.url, {...this.body(), base: this.hash, force});
    } catch (_) {
      answer = {ok: false, status: 0, data: null};
    }
    if (answer.ok) {
      this.blocked = false;
      this.hash = answer.data.hash;
      this.savedRevision = revision;
      const at = new Date(answer.data.saved_at);
      if (this.dirty) this.schedule();
      else this.show("saved", `Saved ${at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"})}`);
      this.onSaved(answer.data, revision === this.revision);
      return true;
    }
    if (answer.status === 409 && answer.data && answer.data.code === "draft_changed") {
      this.blocked = true;
      this.show("conflict", "Not saved: changed elsewhere");
      this.onConflict(answer.data.detail);
      return false;
    }
    const why = answer.data && answer.data.detail ? answer.data.detail : "the server could not be reached";
    if (answer.status >= 400 && answer.status < 500) {
      // The server read the draft and refused it: trying again would not help; the next edit will.
      this.show("error", `Not saved: ${why}`);
      return false;
    }
    this.show("error", `Not saved: ${why}. Retrying…`);
    this.timer = setTimeout(() => this.save(), RETRY_MS);
    return false;
  }

  show(state, text) {
    this.indicator.dataset.state = state;
    this.indicator.textContent = text;
  }
}
