// MJML elements, their usual attributes and where they may go: the editor's tag hints
// (CodeMirror's xml-hint schema format). Not a validator: the server compiles the MJML.
"use strict";

window.MJML_SCHEMA = (() => {
  const align = ["left", "center", "right"];
  const box = { padding: null, "padding-top": null, "padding-bottom": null, "padding-left": null,
    "padding-right": null, "css-class": null };
  const text = { color: null, "font-family": null, "font-size": null, "font-weight": ["400", "600", "700"],
    "line-height": null, "letter-spacing": null, align, "text-transform": ["uppercase", "lowercase", "none"] };
  const content = ["mj-text", "mj-button", "mj-image", "mj-divider", "mj-spacer", "mj-table", "mj-social",
    "mj-navbar", "mj-accordion", "mj-carousel", "mj-raw"];
  const schema = {
    "!top": ["mjml"],
    "!attrs": { "mj-class": null },
    mjml: { attrs: { lang: null, dir: ["ltr", "rtl"] }, children: ["mj-head", "mj-body"] },
    "mj-head": { children: ["mj-attributes", "mj-breakpoint", "mj-font", "mj-preview", "mj-style", "mj-title", "mj-raw"] },
    "mj-attributes": { children: ["mj-all", "mj-class", "mj-text", "mj-button", "mj-section", "mj-column", "mj-image"] },
    "mj-all": { attrs: { "font-family": null, color: null } },
    "mj-class": { attrs: { name: null, color: null, "font-size": null } },
    "mj-breakpoint": { attrs: { width: ["480px", "320px"] } },
    "mj-font": { attrs: { name: null, href: null } },
    "mj-preview": {}, "mj-title": {},
    "mj-style": { attrs: { inline: ["inline"] } },
    "mj-body": { attrs: { "background-color": null, width: ["600px"], "css-class": null },
      children: ["mj-section", "mj-wrapper", "mj-hero", "mj-raw"] },
    "mj-wrapper": { attrs: { ...box, "background-color": null, "border-radius": null, "full-width": ["full-width"] },
      children: ["mj-section", "mj-hero", "mj-raw"] },
    "mj-section": { attrs: { ...box, "background-color": null, "background-url": null, "border-radius": null,
      direction: ["ltr", "rtl"], "full-width": ["full-width"], "text-align": align },
      children: ["mj-column", "mj-group", "mj-raw"] },
    "mj-group": { attrs: { width: null, "background-color": null }, children: ["mj-column", "mj-raw"] },
    "mj-column": { attrs: { ...box, width: null, "background-color": null, "border-radius": null,
      "vertical-align": ["top", "middle", "bottom"] }, children: content },
    "mj-hero": { attrs: { ...box, mode: ["fixed-height", "fluid-height"], height: null, "background-url": null,
      "background-color": null }, children: content },
    "mj-text": { attrs: { ...box, ...text, height: null, "container-background-color": null } },
    "mj-button": { attrs: { ...box, ...text, href: null, target: ["_blank", "_self"], "background-color": null,
      "border-radius": null, border: null, "inner-padding": null, width: null, rel: null, title: null } },
    "mj-image": { attrs: { ...box, src: null, alt: null, href: null, width: null, height: null, align,
      "border-radius": null, "fluid-on-mobile": ["true"], title: null, target: ["_blank", "_self"] } },
    "mj-divider": { attrs: { ...box, "border-color": null, "border-style": ["solid", "dashed", "dotted"],
      "border-width": null, width: null } },
    "mj-spacer": { attrs: { height: null, "css-class": null } },
    "mj-table": { attrs: { ...box, ...text, width: null, cellpadding: null, cellspacing: null, "table-layout": ["auto", "fixed"] } },
    "mj-social": { attrs: { ...box, mode: ["horizontal", "vertical"], "icon-size": null, align },
      children: ["mj-social-element"] },
    "mj-social-element": { attrs: { name: ["facebook", "instagram", "x", "linkedin", "pinterest", "youtube", "tiktok"],
      href: null, src: null, "background-color": null } },
    "mj-navbar": { attrs: { align, hamburger: ["hamburger"] }, children: ["mj-navbar-link"] },
    "mj-navbar-link": { attrs: { href: null, color: null, padding: null } },
    "mj-accordion": { children: ["mj-accordion-element"] },
    "mj-accordion-element": { children: ["mj-accordion-title", "mj-accordion-text"] },
    "mj-accordion-title": {}, "mj-accordion-text": {},
    "mj-carousel": { children: ["mj-carousel-image"] },
    "mj-carousel-image": { attrs: { src: null, alt: null, href: null } },
    "mj-raw": {},
  };
  return schema;
})();
