// Undo and redo over whole snapshots of the model: simple, and exact whatever changed.
"use strict";

const LIMIT = 200;

export class History {
  constructor(initial) {
    this.current = initial;
    this.past = [];
    this.future = [];
  }

  // Called after every change; returns false when nothing really changed.
  record(snapshot) {
    if (snapshot === this.current) return false;
    this.past.push(this.current);
    if (this.past.length > LIMIT) this.past.shift();
    this.current = snapshot;
    this.future = [];
    return true;
  }

  undo() {
    if (!this.past.length) return null;
    this.future.push(this.current);
    this.current = this.past.pop();
    return this.current;
  }

  redo() {
    if (!this.future.length) return null;
    this.past.push(this.current);
    this.current = this.future.pop();
    return this.current;
  }

  get canUndo() { return this.past.length > 0; }
  get canRedo() { return this.future.length > 0; }
}
