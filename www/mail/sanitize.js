/* Pigeon Mail: HTML of a message made safe to show. An allowlist of elements and attributes
 * over an inert document (DOMParser runs no script and loads nothing); everything else is
 * dropped. Remote images and CSS url() are removed (the sender learns nothing), only data:
 * images stay — until the reader asks: then the page fetches each http(s) image through
 * Pigeon's proxy (/jmap/image) and passes them back here as data: URLs (images, a Map). The result is shown in an iframe with an empty sandbox (no scripts, no
 * forms, no same-origin) and its own Content-Security-Policy, under the page's own CSP. */
"use strict";

const SANITIZE = (() => {
  const KEEP = new Set(("a abbr address article b big blockquote br caption center cite code " +
    "col colgroup dd del div dl dt em font footer h1 h2 h3 h4 h5 h6 header hr i img ins kbd li " +
    "ol p pre q s section small span strike strong sub sup table tbody td tfoot th thead tr tt " +
    "u ul").split(" "));
  const DROP = new Set(("script style iframe frame frameset object embed applet link meta base " +
    "form input button textarea select option svg math audio video source track noscript " +
    "template canvas portal").split(" "));
  const ATTRS = new Set(("alt title width height align valign colspan rowspan color bgcolor " +
    "border cellpadding cellspacing dir lang face size start type").split(" "));

  function safeStyle(css) {
    const lower = css.toLowerCase().replace(/\\/g, "");
    if (/url\s*\(|expression|@import|javascript:|behavior|-moz-binding|image-set/.test(lower))
      return null;
    return css;
  }

  function clean(node, report) {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === Node.COMMENT_NODE) { child.remove(); continue; }
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = child.localName;
      if (DROP.has(tag)) { child.remove(); continue; }
      if (!KEEP.has(tag)) {              // unknown element: keep its text, not the element
        clean(child, report);
        child.replaceWith(...child.childNodes);
        continue;
      }
      for (const a of Array.from(child.attributes)) {
        const name = a.name.toLowerCase();
        const value = a.value.trim();
        if (name === "href" && tag === "a" && /^(https?:|mailto:)/i.test(value)) continue;
        if (name === "src" && tag === "img") {
          if (/^data:image\/(png|gif|jpeg|webp);/i.test(value)) continue;
          if (/^https?:\/\//i.test(value)) {
            if (!report.remote.includes(value)) report.remote.push(value);
            const got = report.images && report.images.get(value);
            if (got) { child.setAttribute("src", got); continue; }
          }
          report.blocked++;
          child.removeAttribute(a.name);
          continue;
        }
        if (name === "style") {
          const s = safeStyle(value);
          if (s === null) { report.blocked++; child.removeAttribute(a.name); }
          continue;
        }
        if (name === "background") report.blocked++;
        if (!ATTRS.has(name)) child.removeAttribute(a.name);
      }
      if (tag === "a") {
        child.setAttribute("rel", "noopener noreferrer");
        child.setAttribute("target", "_blank");
      }
      clean(child, report);
    }
  }

  /* Returns {html, blocked, remote}: a complete document for iframe.srcdoc, how much was
   * taken out, and the http(s) image URLs found (images: URL -> data: URL, shown instead). */
  return function sanitize(html, images) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const report = { blocked: 0, remote: [], images: images || null };
    clean(doc.body, report);
    const csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
    const out = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" +
      "<meta http-equiv=\"Content-Security-Policy\" content=\"" + csp + "\">" +
      "<style>body{font:15px/1.4 system-ui,sans-serif;margin:.5em}</style></head><body>" +
      doc.body.innerHTML + "</body></html>";
    return { html: out, blocked: report.blocked, remote: report.remote };
  };
})();
