/*! Leadpulse tracker. Docs: docs/tracker.md. Wire format: docs/tracking-api.md */
(() => {
  'use strict';
  const w = window, d = document, nav = navigator, html = d.documentElement;
  if (w.leadpulse && w.leadpulse.loaded) return; // included twice

  // Every entry point runs through safe(): the tracker must never break the page.
  const safe = (fn) => function () {
    try { return fn.apply(this, arguments); } catch (e) { /* swallowed */ }
  };
  const now = () => Date.now();
  const on = (target, type, fn, opts) => target.addEventListener(type, safe(fn), opts || true);
  const unhide = () => html.classList.remove('lp-loading'); // anti-flicker, see docs

  const script = d.currentScript || d.querySelector('script[data-key]');
  const ds = (script && script.dataset) || {};
  const KEY = ds.key;
  const HOST = (ds.host || (script && script.src ? new URL(script.src, location.href).origin : ''))
    .replace(/\/+$/, '');
  const ms = (v, dflt) => (+v > 0 ? +v : dflt);
  const FLUSH = ms(ds.flush, 5000), PING = ms(ds.ping, 15000), IDLE = ms(ds.idle, 30000);
  const SESSION_MS = 30 * 60 * 1000, MAX_BATCH = 100, MAX_QUEUE = 1000;
  // Batched; any other event is sent at once, as its answer may bring new decisions.
  const BATCHED = new Set(['page_ping', 'scroll', 'mouse_activity', 'click', 'form_start', 'form_abandon', 'personalization_view']);
  const DNT = nav.doNotTrack === '1' || w.doNotTrack === '1' || nav.globalPrivacyControl === true;

  // Storage falls back to memory (private mode, blocked storage).
  // Probed only once tracking may start (consent given, no Do-Not-Track).
  let ls = null;
  const probe = () => { try { ls = w.localStorage; ls.setItem('_lp_t', '1'); ls.removeItem('_lp_t'); } catch (e) { ls = null; } };
  const mem = {};
  const get = (k) => { try { return ls ? ls.getItem(k) : mem[k] || null; } catch (e) { return null; } };
  const set = (k, v) => { try { if (ls) ls.setItem(k, v); else mem[k] = v; } catch (e) { /* full */ } };
  const del = (k) => { try { if (ls) ls.removeItem(k); else delete mem[k]; } catch (e) { /* blocked */ } };
  const parse = (s) => { try { return JSON.parse(s); } catch (e) { return null; } };

  // randomUUID needs a secure context; else a v4 UUID from random bytes.
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : '10000000-1000-4000-8000-100000000000'
    .replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));

  // The anonymous id is kept in a cookie and in localStorage; each restores the other.
  const COOKIE = '_lp_id';
  const readCookie = () => { const m = d.cookie.match(/(?:^|;\s*)_lp_id=([^;]+)/); return m ? decodeURIComponent(m[1]) : null; };
  const writeCookie = (v, age) => {
    try {
      d.cookie = `${COOKIE}=${encodeURIComponent(v)}; max-age=${age}; path=/; SameSite=Lax` +
        (location.protocol === 'https:' ? '; Secure' : '');
    } catch (e) { /* cookies blocked */ }
  };
  let anon = null;
  const loadIds = () => {
    probe();
    anon = readCookie() || get(COOKIE) || uuid();
    writeCookie(anon, 31536000);
    set(COOKIE, anon);
  };
  const forgetIds = () => { writeCookie('', 0); del(COOKIE); del('_lp_s'); anon = null; };
  const session = () => {
    const t = now();
    let s = parse(get('_lp_s'));
    if (!s || !s.id || t - s.t > SESSION_MS) s = { id: uuid() };
    s.t = t; // last activity
    set('_lp_s', JSON.stringify(s));
    return s.id;
  };

  // Unsent events and identify calls, persisted under this page's own key (two tabs never
  // send each other's). A page that leaves marks its key closed; the next page adopts closed
  // keys, and keys untouched for 10 minutes (a crashed tab).
  const PREFIX = '_lp_q_', QKEY = PREFIX + uuid();
  let events = [], idents = [];
  const persist = (closed) => {
    if (!enabled) return;
    if (!events.length && !idents.length) return del(QKEY);
    set(QKEY, JSON.stringify({ t: now(), c: closed ? 1 : 0, e: events, i: idents }));
  };
  const adopt = () => {
    if (!ls) return;
    const keys = [];
    for (let i = 0; i < ls.length; i++) { const k = ls.key(i); if (k && k.startsWith(PREFIX) && k !== QKEY) keys.push(k); }
    for (const k of keys) {
      const q = parse(get(k));
      if (q && !q.c && now() - q.t < 600000) continue; // another live tab
      del(k);
      if (q) { events = events.concat(q.e || []); idents = idents.concat(q.i || []); }
    }
  };

  const context = () => {
    const c = { language: nav.language, screen: `${screen.width}x${screen.height}` };
    try { c.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old */ }
    return c;
  };

  let enabled = false, pageSeen = false;
  let urgent = false, busy = null, retryTimer = 0, attempts = 0;
  let lastPath = '', lastHref = '', pageUrl = '', pageStart = 0, maxDepth = 0, depthMark = 0, exited = false;
  let shown = {}, personalised = {}, offers = [], popup = null;
  const forms = new Map(); // form element -> 'started' | 'sent'

  const record = (type, fields, props) => {
    if (!enabled) return;
    const e = Object.assign({
      id: uuid(), type, anonymous_id: anon, session_id: session(),
      ts: new Date().toISOString(), url: here().slice(0, 4096),
    }, fields, { properties: props || {} });
    events.push(e);
    if (events.length > MAX_QUEUE) events.splice(0, events.length - MAX_QUEUE);
    persist();
    if (!BATCHED.has(type)) { urgent = true; flush(); }
  };

  // A string body goes as text/plain: no CORS preflight, and the collector reads it as JSON.
  const body = (extra) => Object.assign({ write_key: KEY, context: context() }, extra);
  const post = (path, extra) => {
    const text = JSON.stringify(body(extra));
    return fetch(HOST + path, {
      method: 'POST', body: text, mode: 'cors', credentials: 'omit',
      keepalive: text.length < 60000, // keepalive allows 64 KB
    });
  };

  const flush = () => {
    if (!enabled || busy || retryTimer || !KEY) return;
    let path, payload, sent;
    if (idents.length) {
      sent = [idents[0]];
      path = '/v1/identify';
      payload = { anonymous_id: sent[0].a, traits: sent[0].traits };
    } else if (events.length) {
      sent = events.slice(0, MAX_BATCH);
      if (sent.length === events.length) urgent = false;
      path = '/v1/collect';
      payload = { anonymous_id: anon, events: sent };
    } else return;
    busy = new Set(sent.map((x) => x.id));
    const done = (ok) => {
      const ids = busy;
      busy = null;
      if (ok) {
        events = events.filter((x) => !ids.has(x.id));
        idents = idents.filter((x) => !ids.has(x.id));
        persist();
      }
      return ids;
    };
    post(path, payload).then(safe((res) => {
      if (res.ok) {
        attempts = 0;
        done(true);
        if (path === '/v1/collect') res.json().then(safe(answer), safe(() => answer(null)));
        if (urgent || idents.length || events.length >= MAX_BATCH) flush();
      } else if (res.status >= 500 || res.status === 429) {
        done(false); retry();
      } else {
        // Another 4xx would fail forever: drop the batch, say why.
        done(true); unhide(); flush();
        res.json().then((j) => console.warn('leadpulse:', j.error.message), () => {});
      }
    }), safe(() => { done(false); retry(); }));
  };
  const retry = () => {
    unhide();
    const delay = Math.min(60000, 1000 * 2 ** attempts++);
    retryTimer = setTimeout(safe(() => { retryTimer = 0; flush(); }), delay * (0.8 + Math.random() * 0.4));
  };

  // Leaving (or hidden, maybe for good): sendBeacon outlives the page. What is in flight is
  // left to its keepalive fetch.
  const beacon = () => {
    if (!enabled || !nav.sendBeacon) return;
    const idle = (x) => !(busy && busy.has(x.id));
    const send = (path, extra) => nav.sendBeacon(HOST + path, new Blob([JSON.stringify(body(extra))], { type: 'text/plain' }));
    idents = idents.filter((x) => !idle(x) || !send('/v1/identify', { anonymous_id: x.a, traits: x.traits }));
    const rest = events.filter(idle);
    while (rest.length) {
      const part = rest.splice(0, MAX_BATCH);
      if (send('/v1/collect', { anonymous_id: anon, events: part })) events = events.filter((x) => !part.includes(x));
    }
  };

  const pathOf = () => location.pathname + location.search;
  const here = () => location.href.split('#')[0]; // fragments may hold tokens
  const page = (referrer) => {
    if (!enabled) return;
    pageSeen = true;
    lastPath = pathOf();
    pageUrl = lastHref = here();
    pageStart = now(); maxDepth = 0; depthMark = 0; exited = false; shown = {}; personalised = {};
    measureDepth();
    record('page_view', { referrer: (referrer || '').slice(0, 4096) || undefined, title: d.title.slice(0, 1024) });
  };
  const navigated = () => {
    const prev = lastHref;
    lastHref = here();
    if (pathOf() === lastPath) return; // hash or state only
    page(prev);
    // Personalise the new route at once; its offers wait for the new answer.
    if (lastDecisions.length) answer({ decisions: lastDecisions.filter((x) => x && x.kind !== 'offer') });
  };
  const wrapHistory = (name) => {
    const orig = history[name];
    if (typeof orig !== 'function') return;
    history[name] = function () {
      const r = orig.apply(this, arguments);
      // Later in this task, once the app has set the new title.
      setTimeout(safe(navigated), 0);
      return r;
    };
  };

  let visible = d.visibilityState === 'visible', lastInput = -Infinity, lastAcc = now();
  let engaged = 0, dist = 0, lastX = null, lastY = 0, lastTick = now();
  // Engaged: time while visible and within IDLE ms of the last input.
  const account = () => {
    const t = now();
    if (visible) engaged += Math.max(0, Math.min(t, lastInput + IDLE) - Math.max(lastAcc, lastInput));
    lastAcc = t;
  };
  const input = () => { account(); lastInput = now(); };
  const tick = () => {
    account();
    const t = now();
    if (engaged >= 1) record('page_ping', { engaged_ms: Math.min(86400000, Math.round(engaged)) });
    if (dist > 0 && t > lastTick) record('mouse_activity', { intensity: Math.round((dist * 10000) / (t - lastTick)) / 10 });
    engaged = 0; dist = 0; lastTick = t;
  };

  const measureDepth = () => {
    const h = Math.max(html.scrollHeight, d.body ? d.body.scrollHeight : 0);
    if (!h) return;
    maxDepth = Math.max(maxDepth, Math.min(100, ((w.scrollY + w.innerHeight) / h) * 100));
  };
  const touch = 'ontouchstart' in w || nav.maxTouchPoints > 0;
  let samples = [];
  const onScroll = () => {
    input();
    measureDepth();
    const mark = [100, 75, 50, 25].find((m) => maxDepth >= m) || 0;
    if (mark > depthMark) { depthMark = mark; record('scroll', { depth: Math.round(maxDepth) }); }
    if (touch) {
      // On touch screens a fast scroll back up is the leaving gesture.
      const t = now(), y = w.scrollY;
      samples = samples.filter((s) => t - s.t <= 300).concat({ t, y });
      const peak = Math.max(...samples.map((s) => s.y));
      if (peak - y > w.innerHeight / 2) exitIntent();
    }
    checkOffers();
  };
  const exitIntent = () => {
    if (exited) return;
    exited = true;
    record('exit_intent');
    checkOffers();
  };

  // Clicks and forms: never the values typed into the site's fields.
  const CLICKABLE = 'a,button,input[type=submit],input[type=button],[role=button],[data-lp-track]';
  const onClick = (e) => {
    const t = e.target && e.target.closest && e.target.closest(CLICKABLE);
    if (!t) return;
    const p = { element: t.tagName.toLowerCase() };
    if (t.tagName !== 'INPUT') { // not even a button's value
      const text = (t.innerText || t.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 80);
      if (text) p.text = text;
    }
    // mailto:/tel: links name a person: only their kind is kept
    if (typeof t.href === 'string' && t.href) p.href = /^(mailto|tel):/i.test(t.href) ? t.href.split(':')[0] : t.href.split('#')[0].slice(0, 2048);
    if (t.id) p.id = t.id;
    const track = t.getAttribute('data-lp-track');
    if (track) p.track = track;
    record('click', {}, p);
  };
  const formOf = (e) => { const t = e.target; return t && (t.form || (t.closest && t.closest('form'))) || null; };
  // getAttribute: a field named "id" or "name" shadows form.id / form.name.
  const formName = (f) => f.getAttribute('id') || f.getAttribute('name') || f.getAttribute('action') || 'form';
  const onFormInput = (e) => {
    const f = formOf(e);
    if (!f || forms.has(f)) return;
    forms.set(f, 'started');
    record('form_start', {}, { form: formName(f) });
  };
  const onSubmit = (e) => {
    const f = e.target;
    if (!f || f.tagName !== 'FORM') return;
    forms.set(f, 'sent');
    record('form_submit', {}, { form: formName(f) });
  };

  const onHidden = () => {
    account();
    visible = false;
    tick();
    beacon();
    persist();
  };
  const onPageHide = () => {
    forms.forEach((state, f) => { if (state === 'started') record('form_abandon', {}, { form: formName(f) }); });
    forms.clear();
    onHidden();
    persist(true); // closed: for the next page
  };
  const onPageShow = (e) => {
    visible = d.visibilityState === 'visible';
    if (!e.persisted) return;
    // Back from the bfcache: another page may have adopted our queue.
    const q = parse(get(QKEY));
    events = (q && q.e) || []; idents = (q && q.i) || [];
    persist();
  };

  // Decisions: personalisation and offers.
  let lastDecisions = [];
  const answer = (body) => {
    const decisions = body && Array.isArray(body.decisions) ? body.decisions : [];
    lastDecisions = decisions;
    const apply = safe(() => {
      for (const x of decisions) if (x && x.kind === 'personalization') personalise(x);
      offers = decisions.filter((x) => x && x.kind === 'offer' && x.key);
      checkOffers();
    });
    const finish = () => { apply(); unhide(); };
    if (d.readyState === 'loading') on(d, 'DOMContentLoaded', finish, { once: true });
    else finish();
  };
  // The server checks these too; never an attribute that runs code, nor a script URL.
  const safeAttr = (a, v) => {
    if (/^on|^(srcdoc|style)$/i.test(a)) return false;
    const u = v.replace(/[\x00-\x20\x7f]/g, '');
    return !/^(href|src|action|formaction|xlink:href|poster|data|cite|background|ping)$/i.test(a) ||
      !/^[a-z][a-z0-9+.-]*:/i.test(u) || /^(https?|mailto|tel):/i.test(u);
  };
  const personalise = (x) => {
    if (!x.key || personalised[x.key]) return;
    personalised[x.key] = 1;
    const treat = x.group === 'treatment';
    if (treat) {
      for (const c of x.changes || []) {
        let els = [];
        try { els = d.querySelectorAll(c.selector); } catch (e) { continue; }
        for (const n of els) {
          try {
            if (c.text != null) n.textContent = c.text;
            else if (c.html != null) n.innerHTML = c.html;
            else if (c.attribute && safeAttr(c.attribute, String(c.value == null ? '' : c.value))) n.setAttribute(c.attribute, c.value == null ? '' : c.value);
          } catch (e) { /* one bad change must not stop the others */ }
        }
      }
    }
    record('personalization_view', {}, { personalization: x.key, group: treat ? 'treatment' : 'holdout' });
  };
  let offerTimer = 0;
  const checkOffers = () => {
    clearTimeout(offerTimer);
    if (!enabled) return;
    let next = Infinity;
    for (const o of offers) {
      if (shown[o.key]) continue;
      const t = o.trigger || {};
      const wait = (+t.seconds_on_page || 0) * 1000 - (now() - pageStart);
      if (wait > 0) { next = Math.min(next, wait); continue; }
      if ((t.exit_intent && !exited) || maxDepth < (+t.scroll_depth || 0)) continue;
      if (o.group !== 'holdout') {
        if (popup || !d.body) continue; // one at a time
        showOffer(o);
      }
      shown[o.key] = 1;
      record('offer_view', {}, { offer: o.key, group: o.group === 'holdout' ? 'holdout' : 'treatment' });
    }
    if (next < Infinity) offerTimer = setTimeout(safe(checkOffers), Math.min(next + 50, 2147483647));
  };

  const CSS = `:host{all:initial}
.bg{position:fixed;inset:0;background:#0f172a8c}
.card{position:fixed;left:50%;top:50%;transform:translate(-50%,-50%);box-sizing:border-box;width:min(420px,calc(100vw - 24px));max-height:calc(100vh - 24px);overflow:auto;background:#fff;color:#0f172a;border-radius:14px;box-shadow:0 24px 60px #0f172a59;padding:28px 24px 20px;font:15px/1.5 system-ui,sans-serif}
h2{margin:0 28px 8px 0;font-size:20px;line-height:1.3}
p,label{margin:0 0 14px;color:#334155}
label{display:block;font-size:13px;font-weight:600}
input{display:block;box-sizing:border-box;width:100%;margin-top:4px;padding:10px 12px;border:1px solid #cbd5e1;border-radius:8px;font:inherit;font-weight:400}
input:focus{outline:2px solid #2563eb;border-color:#2563eb}
button{font:inherit;cursor:pointer;border:0;background:none;color:#64748b}
.go{width:100%;padding:11px;border-radius:8px;background:#2563eb;color:#fff;font-weight:600}
.go:disabled{opacity:.6}
.x{position:absolute;top:8px;right:10px;width:36px;height:36px;font-size:24px}
.no{display:block;margin:10px auto 0;text-decoration:underline}
.err{color:#b91c1c;font-size:13px}
.ok{font-size:16px;color:#166534}`;

  const el = (tag, props, parent) => {
    const e = Object.assign(d.createElement(tag), props);
    if (parent) parent.appendChild(e);
    return e;
  };
  const showOffer = (o) => {
    const c = o.content || {};
    const before = d.activeElement;
    const host = el('div', { id: 'lp-offer' });
    host.setAttribute('data-lp-offer', o.key);
    host.style.cssText = 'position:fixed;inset:0;z-index:2147483647';
    // In a shadow root, safe from the site's CSS.
    const root = host.attachShadow({ mode: 'open' });
    el('style', { textContent: CSS }, root);
    const bg = el('div', { className: 'bg' }, root);
    const card = el('div', { className: 'card' }, root);
    card.setAttribute('role', 'dialog');
    card.setAttribute('aria-modal', 'true');
    card.setAttribute('aria-labelledby', 'lp-title');
    const x = el('button', { type: 'button', className: 'x', textContent: '×' }, card);
    x.setAttribute('aria-label', c.close || 'Close');
    el('h2', { id: 'lp-title', textContent: c.title || '' }, card);
    if (c.text) el('p', { textContent: c.text }, card);
    const form = el('form', {}, card);
    const inputs = [];
    for (const f of c.fields || []) {
      if (!f || !f.name) continue;
      const label = el('label', { textContent: f.label || f.name }, form);
      inputs.push(el('input', { type: f.type || 'text', name: f.name, required: !!f.required }, label));
    }
    const err = el('p', { className: 'err', hidden: true }, form);
    err.setAttribute('role', 'alert');
    const go = el('button', { type: 'submit', className: 'go', textContent: c.button || 'Send' }, form);
    if (c.close) el('button', { type: 'button', className: 'no', textContent: c.close }, form).onclick = safe(() => close(true));

    let done = false, autoClose = 0;
    const close = (reject) => {
      if (!popup) return;
      clearTimeout(autoClose);
      host.remove();
      popup = null;
      if (reject && !done) record('offer_close', {}, { offer: o.key });
      try { if (before && before.focus) before.focus(); } catch (e) { /* gone */ }
      checkOffers();
    };
    x.onclick = bg.onclick = safe(() => close(true));
    root.addEventListener('keydown', safe((e) => {
      if (e.key === 'Escape') { e.preventDefault(); close(true); }
      if (e.key === 'Tab') {
        const f = Array.from(card.querySelectorAll('input,button')).filter((b) => !b.disabled);
        const first = f[0], last = f[f.length - 1], cur = root.activeElement;
        if (e.shiftKey ? cur === first : cur === last) { e.preventDefault(); (e.shiftKey ? last : first).focus(); }
      }
    }));
    form.onsubmit = safe((e) => {
      e.preventDefault();
      const traits = {};
      for (const i of inputs) if (i.value !== '') traits[i.name] = i.value;
      go.disabled = true;
      err.hidden = true;
      // The only typed values ever sent: typed into our own popup, to be contacted.
      post('/v1/identify', { anonymous_id: anon, traits })
        .then((res) => { if (!res.ok) throw res; })
        .then(safe(() => {
          done = true;
          record('offer_submit', {}, { offer: o.key });
          flush();
          form.remove();
          el('p', { className: 'ok', textContent: c.confirm || 'Thank you!' }, card).setAttribute('role', 'status');
          autoClose = setTimeout(safe(() => close(false)), 6000);
        }), safe(() => {
          go.disabled = false;
          err.textContent = 'Sorry, that did not go through. Please try again.';
          err.hidden = false;
        }));
    });
    popup = host;
    d.body.appendChild(host);
    (inputs[0] || go).focus();
  };

  const consent = (yes) => {
    if (DNT) return;
    if (yes) {
      if (enabled) return;
      enabled = true;
      loadIds();
      adopt();
      persist();
      if (!pageSeen) page(d.referrer);
      flush();
    } else {
      // Withdrawn: stop, drop the queue, forget the ids.
      enabled = false;
      events = []; idents = [];
      del(QKEY);
      forgetIds();
      offers = [];
      if (popup) popup.remove();
      popup = null;
    }
  };
  const call = (args) => {
    const [cmd, a, b] = args;
    if (cmd === 'consent') consent(a !== false);
    else if (cmd === 'page') { if (enabled) page(pageUrl || d.referrer); }
    else if (cmd === 'identify') {
      if (!enabled || !a || typeof a !== 'object') return;
      idents.push({ id: uuid(), a: anon, traits: a });
      persist();
      flush();
    } else if (cmd === 'track' && typeof a === 'string' && a) {
      record(a, {}, b && typeof b === 'object' ? b : {});
    }
  };
  const api = safe(function () { call(arguments); });
  api.loaded = true;
  api.anonymousId = () => anon;
  const queued = (w.leadpulse && w.leadpulse.q) || [];
  w.leadpulse = api;

  safe(() => {
    if (DNT || !KEY || !HOST) { unhide(); if (!KEY) console.warn('leadpulse: data-key is missing'); return; }
    if (ds.consent !== 'required') consent(true);
    else unhide(); // nothing to wait for

    for (const t of ['mousemove', 'keydown', 'touchstart', 'click']) on(d, t, input, { capture: true, passive: true });
    on(d, 'mousemove', (e) => {
      if (lastX !== null) dist += Math.hypot(e.clientX - lastX, e.clientY - lastY);
      lastX = e.clientX; lastY = e.clientY;
    }, { capture: true, passive: true });
    on(w, 'scroll', onScroll, { passive: true });
    on(d, 'click', onClick);
    on(d, 'input', onFormInput);
    on(d, 'change', onFormInput);
    on(d, 'submit', onSubmit);
    on(d, 'mouseout', (e) => { if (!e.relatedTarget && e.clientY <= 0) exitIntent(); });
    on(d, 'visibilitychange', () => {
      if (d.visibilityState === 'hidden') onHidden();
      else { account(); visible = true; }
    });
    on(w, 'pagehide', onPageHide);
    on(w, 'pageshow', onPageShow);
    on(w, 'online', () => { if (retryTimer) { clearTimeout(retryTimer); retryTimer = 0; flush(); } });
    if (ds.spa !== 'false') {
      wrapHistory('pushState');
      wrapHistory('replaceState');
      on(w, 'popstate', navigated);
    }
    setInterval(safe(tick), PING);
    setInterval(safe(() => { flush(); if (enabled) persist(); }), FLUSH);

    for (const args of queued) safe(call)(args);
  })();
})();
