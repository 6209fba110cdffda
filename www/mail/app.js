/* Pigeon Mail: a webmail that speaks JMAP (RFC 8620/8621) to Pigeon from the browser. The
 * session cookie comes from the site's /login; every POST carries the CSRF token the
 * session resource gives this cookie. No framework, no build step. */
"use strict";

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const MAIL = "urn:ietf:params:jmap:mail";
const USING = ["urn:ietf:params:jmap:core", MAIL, "urn:ietf:params:jmap:submission",
               "urn:ietf:params:jmap:vacationresponse"];

const S = {
  session: null, account: null, csrf: null, me: null, identity: null, identities: [],
  boxes: [], box: null, position: 0, total: 0, ids: [], emails: {}, threads: {}, selected: -1,
  current: null, search: "", state: null, attached: [], compose: null, events: null,
};

/* ---- talking to the server ---- */

class AuthError extends Error {}

async function api(calls) {
  const r = await fetch(S.session.apiUrl, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": S.csrf,
               "X-Requested-With": "pigeon-mail" },
    body: JSON.stringify({ using: USING, methodCalls: calls }),
  });
  if (r.status === 401 || r.status === 403) throw new AuthError();
  const j = await r.json();
  if (!r.ok) throw new Error(j.detail || r.statusText);
  return j.methodResponses;
}

async function call(name, args) {
  const [[rname, res]] = await api([[name, Object.assign({ accountId: S.account }, args), "0"]]);
  if (rname === "error") throw new Error(name + ": " + res.type);
  return res;
}

async function loadSession() {
  const r = await fetch("/.well-known/jmap", { credentials: "same-origin",
                                               headers: { "X-Requested-With": "pigeon-mail" } });
  if (r.status === 401 || r.status === 403) return false;
  S.session = await r.json();
  S.account = S.session.primaryAccounts[MAIL];
  S.csrf = S.session.csrfToken;
  S.me = S.session.username;
  return true;
}

function showLogin(message) {
  stopListening();
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  $("login-user").focus();
}

async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AuthError) showLogin("Your session has ended: please log in again.");
    else alert(e.message);
  }
}

/* ---- mailboxes ---- */

function boxName(b) { return b.role === "inbox" ? "Inbox" : b.name; }

function boxPath(b) {
  const parts = [boxName(b)];
  for (let p = S.boxes.find((x) => x.id === b.parentId); p;
       p = S.boxes.find((x) => x.id === p.parentId))
    parts.unshift(boxName(p));
  return parts.join(" / ");
}

async function loadMailboxes() {
  showMailboxes((await call("Mailbox/get", { ids: null })).list);
}

/* The folder list from Mailbox/get's list; the current folder stays unless it went. */
function showMailboxes(list) {
  S.boxes = list.sort((a, b) => (a.sortOrder - b.sortOrder) ||
                                boxPath(a).localeCompare(boxPath(b)));
  if (!S.box || !S.boxes.find((b) => b.id === S.box))
    S.box = (S.boxes.find((b) => b.role === "inbox") || S.boxes[0]).id;
  const ul = $("mailbox-list");
  ul.replaceChildren();
  for (const b of S.boxes) {
    const li = document.createElement("li");
    li.dataset.id = b.id;
    li.className = (b.id === S.box && !S.search ? "current " : "") + (b.unreadEmails ? "unread" : "");
    const name = document.createElement("span");
    name.textContent = boxPath(b);
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = b.unreadEmails ? String(b.unreadEmails) : "";
    li.append(name, count);
    li.onclick = () => guarded(() => openBox(b.id));
    ul.append(li);
  }
  const move = $("move-to");
  move.replaceChildren(new Option("Move to\u2026", ""));
  for (const b of S.boxes) move.append(new Option(boxPath(b), b.id));
}

async function openBox(id) {
  S.box = id;
  S.search = "";
  $("search").value = "";
  S.position = 0;
  $("app").classList.remove("show-folders");
  await refresh();
}

/* ---- the message list ---- */

function listFilter() {
  return S.search ? { text: S.search } : { inMailbox: S.box };
}

/* One line per conversation in a mailbox: the newest Email of each thread (collapseThreads),
 * with the thread's size from Thread/get, all in one request: one page of PAGE from
 * S.position (Email/query's position and limit), never the whole mailbox. A search lists
 * every message that matches. */
function listCalls() {
  return [
    ["Email/query", { accountId: S.account, filter: listFilter(),
                      sort: [{ property: "receivedAt", isAscending: false }],
                      collapseThreads: !S.search,
                      position: S.position, limit: PAGE, calculateTotal: true }, "q"],
    ["Email/get", { accountId: S.account,
                    "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
                    properties: ["subject", "from", "receivedAt", "keywords", "preview",
                                 "hasAttachment", "mailboxIds", "threadId"] }, "g"],
    ["Thread/get", { accountId: S.account,
                     "#ids": { resultOf: "g", name: "Email/get", path: "/list/*/threadId" } },
     "t"],
  ];
}

/* Draws the answers to listCalls(), found in r from index at. */
function showList(r, at) {
  if (r.some((x) => x[0] === "error")) throw new Error("the list could not be read");
  S.total = r[at][1].total;
  S.ids = r[at][1].ids;
  S.state = r[at + 1][1].state;
  for (const e of r[at + 1][1].list) S.emails[e.id] = e;
  for (const t of r[at + 2][1].list) S.threads[t.id] = t.emailIds;
  renderList();
}

async function loadList() {
  showList(await api(listCalls()), 0);
}

function fmtDate(iso) {
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString()
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString();
}

function fromText(list) {
  if (!list || !list.length) return "(nobody)";
  return list.map((a) => a.name || a.email).join(", ");
}

function renderList() {
  const box = S.boxes.find((b) => b.id === S.box);
  $("list-title").textContent = S.search ? "Search: " + S.search : (box ? boxPath(box) : "");
  $("folder-actions").hidden = S.search !== "" || !box || !!box.role;
  const ul = $("message-list");
  ul.replaceChildren();
  S.ids.forEach((id, i) => {
    const e = S.emails[id];
    const li = document.createElement("li");
    li.dataset.id = id;
    if (!e.keywords.$seen) li.classList.add("unseen");
    if (i === S.selected) li.classList.add("selected");
    const top = document.createElement("div");
    top.className = "from";
    const who = document.createElement("span");
    who.textContent = fromText(e.from);
    const size = (S.threads[e.threadId] || []).length;
    if (size > 1) {
      const n = document.createElement("span");
      n.className = "thread-size";
      n.textContent = String(size);
      n.title = `${size} messages in this conversation`;
      who.append(" ", n);
    }
    const when = document.createElement("span");
    when.textContent = (e.keywords.$flagged ? "\u2691 " : "") + (e.hasAttachment ? "\u{1F4CE} " : "") +
                       fmtDate(e.receivedAt);
    top.append(who, when);
    const subj = document.createElement("div");
    subj.className = "subject";
    subj.textContent = e.subject || "(no subject)";
    const prev = document.createElement("div");
    prev.className = "preview";
    prev.textContent = e.preview || "";
    li.append(top, subj, prev);
    li.onclick = () => { S.selected = i; guarded(() => openEmail(id)); };
    ul.append(li);
  });
  const last = Math.min(S.position + PAGE, S.total);
  $("page-info").textContent = S.total ? `${S.position + 1}\u2013${last} of ${S.total}` : "No messages";
  $("prev-page").disabled = S.position === 0;
  $("next-page").disabled = last >= S.total;
}

/* ---- reading ---- */

async function openEmail(id) {
  const res = await call("Email/get", {
    ids: [id], fetchTextBodyValues: true, fetchHTMLBodyValues: true,
    properties: ["subject", "from", "to", "cc", "replyTo", "receivedAt", "keywords",
                 "mailboxIds", "threadId", "messageId", "inReplyTo", "references", "textBody", "htmlBody",
                 "bodyValues", "attachments"],
  });
  const e = res.list[0];
  if (!e) return;
  S.current = e;
  await showThread(e);
  $("reader").hidden = false;
  $("app").classList.add("reading");
  $("r-subject").textContent = e.subject || "(no subject)";
  const fmt = (l) => (l || []).map((a) => a.name ? `${a.name} <${a.email}>` : a.email).join(", ");
  $("r-meta").textContent = `From ${fmt(e.from)} to ${fmt(e.to)}` +
    (e.cc ? `, cc ${fmt(e.cc)}` : "") + ` \u2014 ${new Date(e.receivedAt).toLocaleString()}`;
  const html = e.htmlBody.find((p) => p.type === "text/html");
  const text = e.textBody.find((p) => p.type === "text/plain");
  $("r-images").hidden = true;
  if (html && e.bodyValues[html.partId]) {
    const source = e.bodyValues[html.partId].value;
    const safe = SANITIZE(source);
    $("r-html").srcdoc = safe.html;
    $("r-html").hidden = false;
    $("r-text").hidden = true;
    $("r-images").hidden = safe.blocked === 0;
    $("r-images-btn").hidden = safe.remote.length === 0;
    $("r-images-btn").onclick = () => guarded(() => showImages(source, safe.remote));
  } else {
    $("r-text").textContent = text && e.bodyValues[text.partId] ? e.bodyValues[text.partId].value : "";
    $("r-text").hidden = false;
    $("r-html").hidden = true;
  }
  const ul = $("r-attachments");
  ul.replaceChildren();
  for (const a of e.attachments) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    const name = a.name || "attachment";
    link.href = S.session.downloadUrl.replace("{accountId}", encodeURIComponent(S.account))
      .replace("{blobId}", encodeURIComponent(a.blobId)).replace("{name}", encodeURIComponent(name))
      .replace("{type}", encodeURIComponent(a.type));
    link.textContent = `${name} (${a.type}, ${a.size} bytes)`;
    link.download = name;
    li.append(link);
    ul.append(li);
  }
  $("flag-btn").textContent = e.keywords.$flagged ? "Unflag" : "Flag";
  $("edit-draft-btn").hidden = !e.keywords.$draft;
  if (!e.keywords.$seen) {
    await call("Email/set", { update: { [id]: { "keywords/$seen": true } } });
    if (S.emails[id]) S.emails[id].keywords.$seen = true;
    await loadMailboxes();
    renderList();
  }
}

/* Remote images on request: each fetched by Pigeon (the sender sees the server, not the
 * reader: no cookie, no referrer), turned into a data: URL and put back into the message. */
async function showImages(source, urls) {
  const images = new Map();
  for (const url of urls.slice(0, 50)) {
    const r = await fetch("/jmap/image?url=" + encodeURIComponent(url), {
      credentials: "same-origin", headers: { "X-CSRF-Token": S.csrf },
    });
    if (!r.ok) continue;
    const blob = await r.blob();
    images.set(url, await new Promise((ok) => {
      const rd = new FileReader();
      rd.onload = () => ok(rd.result);
      rd.readAsDataURL(blob);
    }));
  }
  const safe = SANITIZE(source, images);
  $("r-html").srcdoc = safe.html;
  $("r-images").hidden = safe.blocked === 0;
  $("r-images-btn").hidden = true;
}

/* The other messages of the open message's conversation, oldest first, each one click away. */
async function showThread(e) {
  const ul = $("r-thread");
  ul.replaceChildren();
  ul.hidden = true;
  const t = await call("Thread/get", { ids: [e.threadId] });
  const ids = t.list.length ? t.list[0].emailIds : [];
  if (ids.length < 2) return;
  const got = await call("Email/get", { ids, properties: ["from", "receivedAt", "subject",
                                                           "keywords"] });
  for (const m of got.list) {
    const li = document.createElement("li");
    li.dataset.id = m.id;
    if (m.id === e.id) li.classList.add("current");
    if (!m.keywords.$seen) li.classList.add("unseen");
    li.textContent = `${fromText(m.from)} \u2014 ${fmtDate(m.receivedAt)} \u2014 ` +
                     (m.subject || "(no subject)");
    if (m.id !== e.id) li.onclick = () => guarded(() => openEmail(m.id));
    ul.append(li);
  }
  ul.hidden = false;
}

async function setKeyword(kw, on) {
  const id = S.current.id;
  await call("Email/set", { update: { [id]: { ["keywords/" + kw]: on ? true : null } } });
  S.current.keywords[kw] = on;
  await refresh();
}

async function moveCurrent(target) {
  const res = await call("Email/set", { update: { [S.current.id]: { mailboxIds: { [target]: true } } } });
  if (!res.updated || !(S.current.id in res.updated)) throw new Error("not moved");
  closeReader();
  await refresh();
}

async function deleteCurrent() {
  const trash = S.boxes.find((b) => b.role === "trash");
  if (trash && !S.current.mailboxIds[trash.id]) return moveCurrent(trash.id);
  await call("Email/set", { destroy: [S.current.id] });
  closeReader();
  await refresh();
}

function closeReader() {
  S.current = null;
  $("reader").hidden = true;
  $("app").classList.remove("reading");
}

/* The folders and the current page in one request (the folder known, as after the first
 * load), else one after the other. */
async function refresh() {
  if (!S.box || S.search) {
    await loadMailboxes();
    return loadList();
  }
  const box = S.box;
  const r = await api([["Mailbox/get", { accountId: S.account, ids: null }, "m"], ...listCalls()]);
  if (r[0][0] === "error") throw new Error("the folders could not be read");
  showMailboxes(r[0][1].list);
  if (S.box !== box) return loadList(); /* the folder went meanwhile */
  showList(r, 1);
}

/* ---- composing ---- */

function parseAddrs(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = s.match(/^(.*)<([^>]+)>$/);
    return m ? { name: m[1].trim().replace(/^"|"$/g, "") || null, email: m[2].trim() }
             : { email: s };
  });
}

function fmtAddrs(list) {
  return (list || []).map((a) => a.name ? `${a.name} <${a.email}>` : a.email).join(", ");
}

function fillFrom(selected) {
  const sel = $("c-from");
  sel.replaceChildren();
  for (const i of S.identities)
    sel.append(new Option(i.name ? `${i.name} <${i.email}>` : i.email, i.id, false,
                          i.id === selected));
}

function signature(id) {
  const i = S.identities.find((x) => x.id === id);
  return i && i.textSignature ? "\n\n" + i.textSignature : "";
}

/* A draft opened again: its fields in the form; saving replaces it (RFC 8621 §4.6: a new
 * Email is created and the old one destroyed in the same Email/set). */
function fillDraft(e) {
  $("compose-title").textContent = "Draft";
  $("c-to").value = fmtAddrs(e.to);
  $("c-cc").value = fmtAddrs(e.cc);
  $("c-subject").value = e.subject || "";
  const text = e.textBody.find((p) => p.type === "text/plain");
  $("c-body").value = text && e.bodyValues[text.partId] ? e.bodyValues[text.partId].value : "";
  S.attached = e.attachments.map((a) => ({ blobId: a.blobId, type: a.type, name: a.name }));
  S.compose.replaces = e.id;
  S.compose.inReplyTo = e.inReplyTo;
  S.compose.references = e.references;
  const mine = S.identities.find((i) => e.from && e.from[0] && i.name === e.from[0].name);
  if (mine) $("c-from").value = mine.id;
}

function openCompose(mode) {
  const e = S.current;
  S.attached = [];
  S.compose = { mode, inReplyTo: null, references: null, replaces: null };
  fillFrom(S.identity);
  $("c-to").value = $("c-cc").value = $("c-subject").value = "";
  $("c-body").value = mode === "edit" ? "" : signature(S.identity);
  $("c-status").hidden = true;
  $("compose-title").textContent = "New message";
  if (e && mode === "edit") {
    fillDraft(e);
  } else if (e && mode !== "new") {
    const quote = ($("r-text").textContent || "").split("\n").map((l) => "> " + l).join("\n");
    const subj = e.subject || "";
    if (mode === "forward") {
      $("compose-title").textContent = "Forward";
      $("c-subject").value = /^fwd:/i.test(subj) ? subj : "Fwd: " + subj;
      $("c-body").value = signature(S.identity) + "\n\n---------- Forwarded message ----------\n" +
        `From: ${fmtAddrs(e.from)}\nSubject: ${subj}\n\n` + ($("r-text").textContent || "");
      S.attached = e.attachments.map((a) => ({ blobId: a.blobId, type: a.type, name: a.name }));
    } else {
      $("compose-title").textContent = mode === "all" ? "Reply all" : "Reply";
      $("c-subject").value = /^re:/i.test(subj) ? subj : "Re: " + subj;
      $("c-to").value = fmtAddrs(e.replyTo || e.from);
      if (mode === "all") {
        const others = [...(e.to || []), ...(e.cc || [])].filter((a) => a.email !== S.me);
        $("c-cc").value = fmtAddrs(others);
      }
      $("c-body").value = signature(S.identity) + `\n\nOn ${new Date(e.receivedAt).toLocaleString()}, ` +
        `${fromText(e.from)} wrote:\n${quote}`;
      S.compose.inReplyTo = e.messageId;
      S.compose.references = [...(e.references || []), ...(e.messageId || [])];
    }
  }
  renderAttached();
  $("compose").showModal();
  $(mode === "new" || mode === "forward" ? "c-to" : "c-body").focus();
  $("c-body").setSelectionRange(0, 0);
}

function renderAttached() {
  const ul = $("c-attached");
  ul.replaceChildren();
  for (const a of S.attached) {
    const li = document.createElement("li");
    li.textContent = `${a.name} (${a.type})`;
    ul.append(li);
  }
}

async function uploadFiles(files) {
  for (const f of files) {
    const url = S.session.uploadUrl.replace("{accountId}", encodeURIComponent(S.account));
    const r = await fetch(url, { method: "POST", credentials: "same-origin", body: f,
                                 headers: { "Content-Type": f.type || "application/octet-stream",
                                            "X-CSRF-Token": S.csrf,
                                            "X-Requested-With": "pigeon-mail" } });
    if (r.status === 401 || r.status === 403) throw new AuthError();
    if (!r.ok) throw new Error("upload failed: " + r.status);
    const j = await r.json();
    S.attached.push({ blobId: j.blobId, type: j.type, name: f.name });
  }
  renderAttached();
}

function draftEmail(drafts) {
  const ident = S.identities.find((i) => i.id === $("c-from").value) || { email: S.me };
  const email = {
    mailboxIds: { [drafts.id]: true }, keywords: { $draft: true, $seen: true },
    from: [ident.name ? { name: ident.name, email: ident.email } : { email: ident.email }],
    subject: $("c-subject").value,
    textBody: [{ partId: "body", type: "text/plain" }],
    bodyValues: { body: { value: $("c-body").value } },
    attachments: S.attached,
  };
  const to = parseAddrs($("c-to").value), cc = parseAddrs($("c-cc").value);
  if (to.length) email.to = to;
  if (cc.length) email.cc = cc;
  if (S.compose.inReplyTo) email.inReplyTo = S.compose.inReplyTo;
  if (S.compose.references && S.compose.references.length) email.references = S.compose.references;
  if (ident.replyTo) email.replyTo = ident.replyTo;
  if (ident.bcc) email.bcc = ident.bcc;
  return email;
}

async function sendOrSave(send) {
  const drafts = S.boxes.find((b) => b.role === "drafts");
  const sent = S.boxes.find((b) => b.role === "sent");
  const set = { accountId: S.account, create: { draft: draftEmail(drafts) } };
  if (S.compose.replaces) set.destroy = [S.compose.replaces];
  const calls = [["Email/set", set, "0"]];
  if (send) {
    calls.push(["EmailSubmission/set", {
      accountId: S.account, create: { sub: { identityId: $("c-from").value || S.identity,
                                             emailId: "#draft" } },
      onSuccessUpdateEmail: { "#sub": { ["mailboxIds/" + drafts.id]: null,
                                        ["mailboxIds/" + sent.id]: true,
                                        "keywords/$draft": null } } }, "1"]);
  }
  const r = await api(calls);
  const created = r[0][1].created && r[0][1].created.draft;
  if (!created) throw new Error("not saved: " + JSON.stringify(r[0][1].notCreated || r[0][1]));
  if (send && !(r[1][1].created && r[1][1].created.sub))
    throw new Error("not sent: " + JSON.stringify(r[1][1].notCreated || r[1][1]));
  $("compose").close();
  if (S.compose.replaces && S.current && S.current.id === S.compose.replaces) closeReader();
  await refresh();
}

/* ---- settings: identities (RFC 8621 §6) and the vacation reply (§8) ---- */

async function loadIdentities() {
  const ids = await call("Identity/get", {});
  S.identities = ids.list;
  if (!S.identities.find((i) => i.id === S.identity)) S.identity = S.identities[0] && S.identities[0].id;
}

function renderIdentities(current) {
  const ul = $("identity-list");
  ul.replaceChildren();
  for (const i of S.identities) {
    const li = document.createElement("li");
    li.textContent = (i.name ? `${i.name} <${i.email}>` : i.email) + (i.id === S.identity ? " (default)" : "");
    li.dataset.id = i.id;
    if (i.id === current) li.classList.add("current");
    li.onclick = () => renderIdentities(i.id);
    ul.append(li);
  }
  const cur = S.identities.find((i) => i.id === current) || S.identities[0];
  S.editing = cur ? cur.id : null;
  $("id-name").value = cur ? cur.name : "";
  $("id-signature").value = cur ? cur.textSignature : "";
  $("id-delete").disabled = !cur || !cur.mayDelete;
}

/* datetime-local <-> UTCDate */
const toLocal = (utc) => utc ? new Date(new Date(utc).getTime() -
  new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : "";
const toUTC = (local) => local ? new Date(local).toISOString().replace(/\.\d+Z$/, "Z") : null;

async function openSettings() {
  await loadIdentities();
  renderIdentities(S.identity);
  const v = (await call("VacationResponse/get", { ids: null })).list[0];
  $("vac-enabled").checked = v.isEnabled;
  $("vac-from").value = toLocal(v.fromDate);
  $("vac-to").value = toLocal(v.toDate);
  $("vac-subject").value = v.subject || "";
  $("vac-text").value = v.textBody || "";
  $("settings-status").hidden = true;
  $("settings").showModal();
}

function settingsDone(message) {
  $("settings-status").textContent = message;
  $("settings-status").hidden = false;
}

async function saveIdentity(asNew) {
  const props = { name: $("id-name").value, textSignature: $("id-signature").value };
  const args = asNew ? { create: { n: Object.assign({ email: S.me }, props) } }
                     : { update: { [S.editing]: props } };
  const r = await call("Identity/set", args);
  const bad = asNew ? r.notCreated && r.notCreated.n : r.notUpdated && r.notUpdated[S.editing];
  if (bad) throw new Error("identity not saved: " + bad.type);
  await loadIdentities();
  renderIdentities(asNew ? r.created.n.id : S.editing);
  settingsDone("Identity saved.");
}

async function deleteIdentity() {
  const r = await call("Identity/set", { destroy: [S.editing] });
  if (!r.destroyed || !r.destroyed.length) throw new Error("identity not deleted");
  await loadIdentities();
  renderIdentities(S.identity);
  settingsDone("Identity deleted.");
}

async function saveVacation() {
  const r = await call("VacationResponse/set", { update: { singleton: {
    isEnabled: $("vac-enabled").checked, fromDate: toUTC($("vac-from").value),
    toDate: toUTC($("vac-to").value), subject: $("vac-subject").value || null,
    textBody: $("vac-text").value || null } } });
  if (!r.updated || !("singleton" in r.updated))
    throw new Error("vacation reply not saved: " + JSON.stringify(r.notUpdated || r));
  settingsDone($("vac-enabled").checked ? "Vacation reply on." : "Vacation reply off.");
}

/* ---- live updates: pushed by the event source (RFC 8620 §7.3) ---- */

/* A StateChange for this account: what moved is fetched with Email/changes. The browser
 * reconnects a dropped stream by itself; a slow poll covers a stream that cannot open. */
function listen() {
  if (S.events || !window.EventSource || !S.session.eventSourceUrl) return;
  const url = S.session.eventSourceUrl.replace("{types}", "Email,Mailbox")
    .replace("{closeafter}", "no").replace("{ping}", "0");
  S.events = new EventSource(url, { withCredentials: true });
  S.events.addEventListener("state", (ev) => {
    const change = JSON.parse(ev.data);
    if (change.changed && change.changed[S.account]) guarded(poll);
  });
}

function stopListening() {
  if (S.events) S.events.close();
  S.events = null;
}

async function poll() {
  if (!S.state || $("app").hidden) return;
  const res = await call("Email/changes", { sinceState: S.state }).catch(() => null);
  if (res && (res.created.length || res.updated.length || res.destroyed.length)) await refresh();
  else if (!res) await refresh();
}

/* ---- wiring ---- */

async function start() {
  if (!(await loadSession())) return showLogin();
  $("login").hidden = true;
  $("app").hidden = false;
  $("who").textContent = S.me;
  await Promise.all([loadIdentities(), loadMailboxes()]);
  await loadList();
  listen();
}

function moveSelection(d) {
  if (!S.ids.length) return;
  S.selected = Math.max(0, Math.min(S.ids.length - 1, S.selected + d));
  renderList();
  const li = $("message-list").children[S.selected];
  if (li) li.scrollIntoView({ block: "nearest" });
}

function keys(ev) {
  if (ev.target.matches("input, textarea, select") || $("compose").open) return;
  const k = ev.key;
  const act = {
    j: () => moveSelection(1), k: () => moveSelection(-1),
    Enter: () => S.ids[S.selected] && guarded(() => openEmail(S.ids[S.selected])),
    c: () => openCompose("new"), "/": () => $("search").focus(),
    r: () => S.current && openCompose("reply"), a: () => S.current && openCompose("all"),
    f: () => S.current && openCompose("forward"),
    s: () => S.current && guarded(() => setKeyword("$flagged", !S.current.keywords.$flagged)),
    u: () => S.current && guarded(() => setKeyword("$seen", false)),
    "#": () => S.current && guarded(deleteCurrent),
  }[k];
  if (act) { ev.preventDefault(); act(); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const body = new URLSearchParams({ username: $("login-user").value,
                                       password: $("login-pass").value });
    const r = await fetch("/login", { method: "POST", body, credentials: "same-origin" });
    $("login-pass").value = "";
    if (!r.ok) return showLogin("Wrong user name or password.");
    await guarded(start);
  };
  $("logout-btn").onclick = async () => {
    stopListening();
    await fetch("/logout", { method: "POST", credentials: "same-origin" });
    S.session = null;
    showLogin("You have logged out.");
  };
  $("search-form").onsubmit = (ev) => {
    ev.preventDefault();
    S.search = $("search").value.trim();
    S.position = 0;
    guarded(async () => { await loadMailboxes(); await loadList(); });
  };
  $("prev-page").onclick = () => { S.position = Math.max(0, S.position - PAGE); guarded(loadList); };
  $("next-page").onclick = () => { S.position += PAGE; guarded(loadList); };
  $("compose-btn").onclick = () => openCompose("new");
  $("edit-draft-btn").onclick = () => openCompose("edit");
  $("settings-btn").onclick = () => guarded(openSettings);
  $("id-save").onclick = (ev) => { ev.preventDefault(); guarded(() => saveIdentity(false)); };
  $("id-add").onclick = (ev) => { ev.preventDefault(); guarded(() => saveIdentity(true)); };
  $("id-delete").onclick = (ev) => { ev.preventDefault(); guarded(deleteIdentity); };
  $("vac-save").onclick = (ev) => { ev.preventDefault(); guarded(saveVacation); };
  $("settings-close").onclick = () => $("settings").close();
  $("reply-btn").onclick = () => openCompose("reply");
  $("reply-all-btn").onclick = () => openCompose("all");
  $("forward-btn").onclick = () => openCompose("forward");
  $("flag-btn").onclick = () => guarded(() => setKeyword("$flagged", !S.current.keywords.$flagged));
  $("unread-btn").onclick = () => guarded(() => setKeyword("$seen", false));
  $("delete-btn").onclick = () => guarded(deleteCurrent);
  $("back-btn").onclick = closeReader;
  $("menu-toggle").onclick = () => $("app").classList.toggle("show-folders");
  $("move-to").onchange = (ev) => ev.target.value && guarded(() => moveCurrent(ev.target.value));
  $("c-files").onchange = (ev) => guarded(() => uploadFiles(ev.target.files));
  $("c-send").onclick = (ev) => { ev.preventDefault(); guarded(() => sendOrSave(true)); };
  $("c-draft").onclick = (ev) => { ev.preventDefault(); guarded(() => sendOrSave(false)); };
  $("c-cancel").onclick = () => $("compose").close();
  $("new-folder-form").onsubmit = (ev) => {
    ev.preventDefault();
    const name = $("new-folder").value.trim();
    if (!name) return;
    guarded(async () => {
      const r = await call("Mailbox/set", { create: { f: { name, parentId: null } } });
      if (!r.created || !r.created.f) throw new Error("folder not created");
      $("new-folder").value = "";
      await loadMailboxes();
    });
  };
  $("rename-folder").onclick = () => {
    const name = prompt("New name");
    if (name) guarded(async () => {
      await call("Mailbox/set", { update: { [S.box]: { name } } });
      await loadMailboxes();
      renderList();
    });
  };
  $("delete-folder").onclick = () => {
    if (confirm("Delete this folder and the messages in it?")) guarded(async () => {
      await call("Mailbox/set", { destroy: [S.box], onDestroyRemoveEmails: true });
      S.box = null;
      await refresh();
    });
  };
  document.addEventListener("keydown", keys);
  setInterval(() => guarded(poll), 120000);
  guarded(start);
});
