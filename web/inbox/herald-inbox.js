// @ts-check
/**
 * `<herald-inbox>`: a subscriber's Herald in-app inbox as one custom element. A bell with an unread
 * badge opens a popover list (mark read, archive, mark all read, load more on scroll, live updates
 * over Server-Sent Events), and a preferences view (which channels, for everything and per workflow
 * or category). One plain ES module with no dependencies and no build step; Herald serves it at
 * /inbox.js. Item content is only ever set as text, and only http(s) links are followed.
 *
 * @typedef {{ total: number, unread: number, unseen: number }} InboxCounts
 * @typedef {{
 *   id: string, workflowKey: string, title: string | null, body: string, actionUrl: string | null,
 *   avatarUrl: string | null, data: Record<string, unknown> | null, createdAt: number,
 *   seenAt: number | null, readAt: number | null, archivedAt: number | null
 * }} InboxItem
 * @typedef {{ type: string, item?: InboxItem, counts?: InboxCounts, at?: number }} InboxEvent
 * @typedef {{ headers: Record<string, string>, query: Record<string, string> }} Credentials
 * @typedef {{ channels: Record<string, boolean> }} ChannelRule
 * @typedef {{
 *   channels?: Record<string, boolean>, categories?: Record<string, ChannelRule>,
 *   workflows?: Record<string, ChannelRule>, quietHours?: unknown
 * }} Preferences
 * @typedef {'channels' | 'categories' | 'workflows'} PreferenceLevel
 */

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;
/** How often relative times are re-rendered while the list is open, so "2 minutes ago" does not go stale. */
const TIME_REFRESH_MS = 60_000;
// EventSource retries network errors itself but gives up for good on a non-200 answer (a restart's
// 503, a proxy error); the element then reopens the stream itself, backing off.
const REOPEN_MIN_MS = 2_000;
const REOPEN_MAX_MS = 60_000;
const STREAM_EVENTS = ['counts', 'item.created', 'item.updated', 'items.read', 'items.seen', 'reset'];
/** The channels the preferences view offers unless `preference-channels` names others; webhooks are not a person's. */
const PREFERENCE_CHANNELS = ['email', 'sms', 'push', 'chat', 'in_app'];
/** @type {Record<string, string>} */
const CHANNEL_LABELS = { email: 'Email', sms: 'SMS', push: 'Push', chat: 'Chat', in_app: 'In-app', webhook: 'Webhook' };
/** Where the script was loaded from: Herald itself, unless the page says otherwise with `api-url`. */
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;

// A constructed sheet, shared by every instance, is not an inline style: a page's CSP style-src
// does not need 'unsafe-inline' for it.
// The host keeps the page's text colour, so the bell (currentColor) matches the header it sits in;
// only the popover, which has its own background, sets the inbox's text colour.
const STYLES = new CSSStyleSheet();
STYLES.replaceSync(`
:host{display:inline-block;position:relative;font-family:var(--herald-inbox-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);line-height:1.4}
:host([hidden]),[hidden]{display:none!important}
*,*::before,*::after{box-sizing:border-box}
button{font:inherit;color:inherit;cursor:pointer}
:focus{outline:none}
:focus-visible{outline:2px solid var(--herald-inbox-accent,#4f46e5);outline-offset:-2px}
.bell{position:relative;display:inline-flex;align-items:center;justify-content:center;width:40px;height:40px;padding:0;border:0;border-radius:999px;background:transparent;color:var(--herald-inbox-bell-color,currentColor)}
.bell:focus-visible{outline-offset:2px}
.bell:hover{background:var(--herald-inbox-hover-bg,rgba(0,0,0,.06))}
.bell svg{width:22px;height:22px;fill:currentColor}
.badge{position:absolute;top:2px;inset-inline-end:0;min-width:18px;height:18px;padding:0 5px;border-radius:999px;background:var(--herald-inbox-badge-bg,#dc2626);color:var(--herald-inbox-badge-text,#fff);font-size:11px;font-weight:600;line-height:18px;text-align:center}
.popover{position:absolute;z-index:var(--herald-inbox-z-index,1000);top:calc(100% + 8px);inset-inline-end:0;width:var(--herald-inbox-width,360px);max-width:calc(100vw - 16px);overflow:hidden;border:1px solid var(--herald-inbox-border,#e5e7eb);border-radius:var(--herald-inbox-radius,8px);background:var(--herald-inbox-bg,#fff);color:var(--herald-inbox-text,#111827);box-shadow:var(--herald-inbox-shadow,0 10px 30px rgba(0,0,0,.15));text-align:start}
:host([align=start]) .popover{inset-inline-end:auto;inset-inline-start:0}
.header{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:12px 16px;border-bottom:1px solid var(--herald-inbox-border,#e5e7eb)}
h2{margin:0;font-size:15px;font-weight:600}
.link,.action{padding:2px 4px;border:0;border-radius:4px;background:none}
.link{color:var(--herald-inbox-accent,#4f46e5);font-size:13px}
.link:disabled{color:var(--herald-inbox-muted,#6b7280);cursor:default}
.scroller{max-height:var(--herald-inbox-max-height,420px);overflow-y:auto;overscroll-behavior:contain}
.item{position:relative;display:flex;gap:10px;padding:12px 16px 12px 24px;border-bottom:1px solid var(--herald-inbox-border,#e5e7eb);cursor:pointer}
.item:hover{background:var(--herald-inbox-hover-bg,rgba(0,0,0,.03))}
.item.unread{background:var(--herald-inbox-unread-bg,#eef2ff)}
.dot{position:absolute;top:18px;inset-inline-start:9px;width:8px;height:8px;border-radius:50%;background:var(--herald-inbox-accent,#4f46e5);visibility:hidden}
.unread .dot{visibility:visible}
.avatar{flex:none;width:36px;height:36px;border-radius:50%;object-fit:cover}
.content{flex:1;min-width:0}
.title,.body{margin:0;font-size:14px;overflow-wrap:anywhere}
.title{margin-bottom:2px;font-weight:600}
.body{white-space:pre-line}
.meta{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;margin-top:6px;color:var(--herald-inbox-muted,#6b7280);font-size:12px}
.actions{display:flex;gap:4px;margin-inline-start:auto}
.action{color:var(--herald-inbox-muted,#6b7280);font-size:12px}
.action:hover{color:var(--herald-inbox-accent,#4f46e5)}
.note{margin:0;padding:24px 16px;color:var(--herald-inbox-muted,#6b7280);font-size:14px;text-align:center}
.error{margin:0;padding:8px 16px;background:var(--herald-inbox-error-bg,#fef2f2);color:var(--herald-inbox-error,#b91c1c);font-size:13px}
.sentinel{height:1px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.tools{display:flex;align-items:center;gap:4px}
.gear{display:inline-flex;width:28px;height:28px;padding:4px;border:0;border-radius:999px;background:none;color:var(--herald-inbox-muted,#6b7280)}
.gear[aria-expanded=true]{color:var(--herald-inbox-accent,#4f46e5)}
.gear svg{width:20px;height:20px;fill:currentColor}
.prefs{max-height:var(--herald-inbox-max-height,420px);overflow-y:auto;padding:8px 16px 12px}
.prefs table{width:100%;border-collapse:collapse;font-size:13px}
.prefs th{padding:6px 2px;font-weight:600;text-align:center}
.prefs th[scope=row]{font-weight:400;text-align:start;overflow-wrap:anywhere}
.prefs td{padding:4px 2px;text-align:center;border-top:1px solid var(--herald-inbox-border,#e5e7eb)}
.prefs input{width:16px;height:16px;margin:0;accent-color:var(--herald-inbox-accent,#4f46e5);cursor:pointer}
.status{min-height:1.4em;margin:8px 0 0;color:var(--herald-inbox-muted,#6b7280);font-size:12px}
`);

// Static markup only: nothing from the server is ever parsed as HTML.
const SHELL = `<button class="bell" part="bell" type="button" aria-haspopup="dialog" aria-expanded="false" aria-controls="popover" aria-label="Notifications">
<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6v-5a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/></svg>
<span class="badge" part="badge" aria-hidden="true" hidden></span>
</button>
<div class="popover" part="popover" id="popover" role="dialog" aria-labelledby="heading" tabindex="-1" hidden>
<div class="header" part="header"><h2 id="heading">Notifications</h2><span class="tools"><button class="link mark-all" part="mark-all" type="button" disabled>Mark all as read</button>
<button class="gear" part="preferences-button" type="button" aria-expanded="false" aria-controls="prefs" aria-label="Preferences"><svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M19.4 13a7.6 7.6 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.4 7.4 0 0 0-1.7-1L15 3h-4l-.4 2.9a7.4 7.4 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.6 7.6 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.4 7.4 0 0 0 1.7 1L11 21h4l.4-2.9a7.4 7.4 0 0 0 1.7-1l2.5 1 2-3.5ZM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7Z"/></svg></button></span></div>
<p class="error" part="error" role="alert" hidden></p>
<section class="prefs" part="preferences" id="prefs" aria-label="Preferences" hidden>
<table><caption class="sr">Notification channels: on or off, for everything and per kind of notification</caption><thead><tr></tr></thead><tbody></tbody></table>
<p class="note" part="preferences-loading" hidden>Loading…</p>
<p class="status" part="preferences-status" role="status"></p>
</section>
<div class="scroller">
<div class="list" part="list" role="feed" aria-labelledby="heading" aria-busy="false"></div>
<p class="note empty" part="empty" hidden>You have no notifications.</p>
<p class="note loading" part="loading" hidden>Loading…</p>
<div class="sentinel"></div>
</div>
</div>`;

const ROW = document.createElement('template');
ROW.innerHTML = `<span class="dot" part="unread-dot" aria-hidden="true"></span>
<img class="avatar" part="avatar" alt="" loading="lazy" referrerpolicy="no-referrer" hidden>
<div class="content"><span class="sr"></span><p class="title" part="title"></p><p class="body" part="body"></p>
<div class="meta"><time part="time"></time><span class="actions">
<button class="action" part="action" type="button" data-action="read"></button>
<button class="action" part="action" type="button" data-action="archive">Archive</button>
</span></div></div>`;

/** A failed API call: the HTTP status (0 when the request never got an answer) and a short reason. */
class InboxRequestError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * `url` resolved against the page, if it is http(s); anything else (javascript:, data:, garbage) is null.
 * @param {unknown} url
 */
function safeUrl(url) {
  if (typeof url !== 'string' || url === '') return null;
  try {
    const resolved = new URL(url, location.href);
    return resolved.protocol === 'http:' || resolved.protocol === 'https:' ? resolved.href : null;
  } catch {
    return null;
  }
}

/** @type {Array<[Intl.RelativeTimeFormatUnit, number]>} */
const UNITS = [
  ['year', 31_536_000],
  ['month', 2_592_000],
  ['week', 604_800],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** "3 minutes ago", "yesterday", "now". @param {Intl.RelativeTimeFormat} format @param {number} at */
function relativeTime(format, at) {
  const seconds = (at - Date.now()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(0, 'second');
}

/** @param {unknown} value @returns {value is InboxCounts} */
function isCounts(value) {
  const c = /** @type {InboxCounts} */ (value);
  return typeof c === 'object' && c !== null && [c.total, c.unread, c.unseen].every(Number.isFinite);
}

/**
 * Applies an item event to one page of items fetched while the event was being heard, so a page
 * that was read before the event does not bring back the old state. New items are not added here.
 * @param {InboxItem[]} items @param {InboxEvent} event @returns {InboxItem[]}
 */
function replayOnPage(items, event) {
  const { item, at } = event;
  if (event.type === 'item.updated' && item) {
    return items.map((x) => (x.id === item.id ? item : x)).filter((x) => x.archivedAt === null);
  }
  if ((event.type === 'items.read' || event.type === 'items.seen') && typeof at === 'number') {
    return items.map((x) => markedAt(x, event.type === 'items.read' ? 'readAt' : 'seenAt', at, at));
  }
  return items;
}

/**
 * The item as read (seen) at `at`, if it existed by `until` and was not already; reading also marks seen.
 * @param {InboxItem} item @param {'readAt' | 'seenAt'} field @param {number} at @param {number} until
 */
function markedAt(item, field, at, until) {
  if (item[field] !== null || item.createdAt > until) return item;
  return { ...item, [field]: at, seenAt: item.seenAt ?? at };
}

/**
 * Whether a channel is on for one row of the preferences view: the row's own rule if it has one,
 * else the rule for everything (on unless turned off). Workflow defaults and a workflow's category
 * are the server's to know; the view shows what the subscriber's own document says.
 * @param {Preferences} prefs @param {PreferenceLevel} level @param {string} key @param {string} channel
 */
function channelOn(prefs, level, key, channel) {
  const everything = prefs.channels?.[channel] !== false;
  if (level === 'channels') return everything;
  const own = prefs[level]?.[key]?.channels?.[channel];
  return typeof own === 'boolean' ? own : everything;
}

/**
 * The document with one row's channel set, as a new document. The row for everything says only
 * "off" (on is its default); another row says something only where it differs from that row.
 * @param {Preferences} prefs @param {PreferenceLevel} level @param {string} key @param {string} channel @param {boolean} on
 * @returns {Preferences}
 */
function withChannel(prefs, level, key, channel, on) {
  const next = /** @type {Preferences} */ (JSON.parse(JSON.stringify(prefs)));
  if (level === 'channels') {
    const channels = (next.channels ??= {});
    if (on) delete channels[channel];
    else channels[channel] = false;
    return next;
  }
  const rules = (next[level] ??= {});
  const rule = (rules[key] ??= { channels: {} });
  if (on === (prefs.channels?.[channel] !== false)) delete rule.channels[channel];
  else rule.channels[channel] = on;
  if (Object.keys(rule.channels).length === 0) delete rules[key];
  return next;
}

/**
 * The `<herald-inbox>` element. Attributes: api-url, subscriber-id + subscriber-hash or token,
 * page-size, preference-channels (the channels the preferences view offers, e.g. `email,in_app`).
 */
export class HeraldInbox extends HTMLElement {
  static observedAttributes = [
    'api-url',
    'subscriber-id',
    'subscriber-hash',
    'token',
    'page-size',
    'preference-channels',
  ];

  #root = this.attachShadow({ mode: 'open' });
  #el = this.#render();
  /** Newest first, never archived; `#rows` holds each one's element by id. @type {InboxItem[]} */
  #items = [];
  /** @type {Map<string, HTMLElement>} */
  #rows = new Map();
  /** @type {InboxCounts | null} */
  #counts = null;
  /** @type {string | null} */
  #nextCursor = null;
  #firstPageLoaded = false;
  #loading = false;
  // Each (re)connect and each first-page load bumps a generation; answers from an older one are dropped.
  #connection = 0;
  #listGeneration = 0;
  /** Stream events heard while the first page loads, applied after it. @type {InboxEvent[] | null} */
  #heldEvents = null;
  /** Stream events heard while a further page loads, replayed onto it. @type {InboxEvent[] | null} */
  #eventsDuringMore = null;
  #abort = new AbortController();
  /** @type {EventSource | null} */
  #source = null;
  #reopenDelay = REOPEN_MIN_MS;
  #refetchOnOpen = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #reopenTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #clock;
  #connectQueued = false;
  /** The item that holds the list's one tab stop (roving tabindex). @type {string | null} */
  #current = null;
  #rowIds = 0;
  /** @type {IntersectionObserver} */
  #observer;
  /** @type {Intl.RelativeTimeFormat | undefined} */
  #relative;
  /** @type {Intl.DateTimeFormat | undefined} */
  #absolute;
  /** The subscriber's preferences while the view is open (null before they load). @type {Preferences | null} */
  #preferences = null;
  /** Saves run one after another, so the last change is the one kept. */
  #saving = Promise.resolve();

  constructor() {
    super();
    const { bell, markAll, list, scroller } = this.#el;
    bell.addEventListener(
      'click',
      this.#guard(() => (this.#isOpen() ? this.close() : this.open())),
    );
    markAll.addEventListener(
      'click',
      this.#guard(() => this.#markAllRead()),
    );
    this.#el.gear.addEventListener(
      'click',
      this.#guard(() => (this.#el.prefs.hidden ? this.#openPreferences() : this.#closePreferences(true))),
    );
    this.#el.prefsBody.addEventListener(
      'change',
      this.#guard((event) => this.#onPreferenceChange(/** @type {HTMLInputElement} */ (event.target))),
    );
    list.addEventListener(
      'click',
      this.#guard((event) => this.#onListClick(/** @type {MouseEvent} */ (event))),
    );
    list.addEventListener(
      'keydown',
      this.#guard((event) => this.#onListKey(/** @type {KeyboardEvent} */ (event))),
    );
    list.addEventListener('focusin', (event) => {
      const row = /** @type {HTMLElement} */ (event.target).closest('.item');
      if (row instanceof HTMLElement && row.dataset.id) this.#setCurrent(row.dataset.id);
    });
    this.#root.addEventListener('keydown', (event) => {
      const key = /** @type {KeyboardEvent} */ (event).key;
      if (key === 'Escape' && this.#isOpen()) {
        event.preventDefault();
        this.close();
        bell.focus();
      }
    });
    // Focus moving into the page (Tab past the last button) closes the list, as a press outside does.
    // Moves inside the shadow root never reach the host, and a null target is a window switch.
    this.addEventListener('focusout', (event) => {
      const to = /** @type {FocusEvent} */ (event).relatedTarget;
      if (to instanceof Node && to !== this && !this.contains(to)) this.close();
    });
    this.#observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) void this.#loadMore();
      },
      { root: scroller, rootMargin: '0px 0px 120px 0px' },
    );
  }

  #render() {
    this.#root.adoptedStyleSheets = [STYLES];
    this.#root.innerHTML = SHELL;
    const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (this.#root.querySelector(selector));
    return {
      bell: $('.bell'),
      badge: $('.badge'),
      popover: $('.popover'),
      markAll: $('.mark-all'),
      gear: $('.gear'),
      prefs: $('.prefs'),
      prefsHead: $('.prefs thead tr'),
      prefsBody: $('.prefs tbody'),
      prefsLoading: $('.prefs .note'),
      prefsStatus: $('.status'),
      error: $('.error'),
      scroller: $('.scroller'),
      list: $('.list'),
      empty: $('.empty'),
      loading: $('.loading'),
      sentinel: $('.sentinel'),
    };
  }

  /** The latest counts, or null before the first answer. */
  get counts() {
    return this.#counts && { ...this.#counts };
  }

  /** Opens the list (as clicking the bell does) and marks everything seen. */
  open() {
    if (this.#isOpen()) return;
    const { popover, bell } = this.#el;
    popover.hidden = false;
    bell.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', this.#onOutsidePointer, true);
    this.#observer.observe(this.#el.sentinel);
    this.#refreshTimes();
    this.#clock = setInterval(() => this.#refreshTimes(), TIME_REFRESH_MS);
    (this.#currentRow() ?? popover).focus();
    if (this.#counts === null || this.#counts.unseen > 0) void this.#markAllSeen();
  }

  /** Closes the list. Focus stays where it is (Escape moves it back to the bell). */
  close() {
    if (!this.#isOpen()) return;
    this.#el.popover.hidden = true;
    this.#el.bell.setAttribute('aria-expanded', 'false');
    this.#closePreferences(false);
    document.removeEventListener('pointerdown', this.#onOutsidePointer, true);
    this.#observer.unobserve(this.#el.sentinel);
    clearInterval(this.#clock);
  }

  connectedCallback() {
    this.#scheduleConnect();
  }

  disconnectedCallback() {
    this.close();
    this.#disconnect();
  }

  /** @param {string} _name @param {string | null} before @param {string | null} after */
  attributeChangedCallback(_name, before, after) {
    if (before !== after && this.isConnected) this.#scheduleConnect();
  }

  // Several attributes set one after another reconnect once.
  #scheduleConnect() {
    if (this.#connectQueued) return;
    this.#connectQueued = true;
    queueMicrotask(() => {
      this.#connectQueued = false;
      if (this.isConnected) this.#connect();
    });
  }

  #disconnect() {
    this.#connection++;
    this.#listGeneration++;
    this.#abort.abort();
    this.#source?.close();
    this.#source = null;
    clearTimeout(this.#reopenTimer);
  }

  #connect() {
    this.#disconnect();
    const connection = this.#connection;
    this.#abort = new AbortController();
    this.#items = [];
    this.#rows.clear();
    this.#el.list.replaceChildren();
    this.#current = null;
    this.#nextCursor = null;
    this.#firstPageLoaded = false;
    this.#loading = false;
    this.#counts = null;
    this.#reopenDelay = REOPEN_MIN_MS;
    this.#refetchOnOpen = false;
    this.#relative = undefined;
    this.#absolute = undefined;
    this.#closePreferences(false);
    this.#showError(null);
    this.#renderCounts();
    if (!this.#credentials()) {
      this.#showError('Set subscriber-id and subscriber-hash, or token, to show notifications.');
      this.#renderList();
      return;
    }
    this.#openStream(connection);
    void this.#loadFirstPage();
    // The stream sends counts on connect too; this answers first when the stream is slow or refused.
    this.#api('GET', 'counts').then(
      (counts) => connection === this.#connection && this.#counts === null && this.#setCounts(counts),
      (error) => this.#failed(error, connection, 'load'),
    );
  }

  /** @returns {Credentials | null} */
  #credentials() {
    const token = this.getAttribute('token');
    if (token) return { headers: { authorization: `Bearer ${token}` }, query: { token } };
    const id = this.getAttribute('subscriber-id');
    const hash = this.getAttribute('subscriber-hash');
    if (!id || !hash) return null;
    return {
      // Percent-encoded: header values cannot carry characters beyond Latin-1.
      headers: { 'x-herald-subscriber-id': encodeURIComponent(id), 'x-herald-subscriber-hash': hash },
      query: { subscriberId: id, subscriberHash: hash },
    };
  }

  #base() {
    return (this.getAttribute('api-url') || SCRIPT_ORIGIN).replace(/\/+$/, '') + '/v1/inbox/';
  }

  #pageSize() {
    const size = Number.parseInt(this.getAttribute('page-size') ?? '', 10);
    return Number.isFinite(size) && size > 0 ? Math.min(size, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  }

  /**
   * One call to the inbox API. `keepalive` lets a "read" outlive the navigation it precedes.
   * @param {string} method @param {string} path @param {boolean} [keepalive] @param {unknown} [body] sent as JSON
   * @returns {Promise<any>}
   */
  async #api(method, path, keepalive = false, body = undefined) {
    const credentials = this.#credentials();
    if (!credentials) throw new InboxRequestError(0, 'no credentials');
    let response;
    try {
      response = await fetch(this.#base() + path, {
        method,
        headers:
          body === undefined ? credentials.headers : { ...credentials.headers, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        mode: 'cors',
        credentials: 'omit',
        cache: 'no-store',
        keepalive,
        ...(!keepalive && { signal: this.#abort.signal }),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new InboxRequestError(0, error instanceof Error ? error.message : 'network error');
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      throw new InboxRequestError(response.status, problem?.detail ?? problem?.title ?? response.statusText);
    }
    return response.json();
  }

  /** @param {number} connection */
  #openStream(connection) {
    const credentials = this.#credentials();
    if (!credentials) return;
    const url = new URL(this.#base() + 'stream');
    for (const [name, value] of Object.entries(credentials.query)) url.searchParams.set(name, value);
    const source = new EventSource(url);
    this.#source = source;
    for (const type of STREAM_EVENTS) {
      source.addEventListener(
        type,
        this.#guard((message) => {
          if (connection !== this.#connection) return;
          const data = JSON.parse(/** @type {MessageEvent} */ (message).data);
          this.#onStreamEvent({ ...data, type });
        }),
      );
    }
    source.addEventListener('open', () => {
      if (connection !== this.#connection) return;
      this.#reopenDelay = REOPEN_MIN_MS;
      if (this.#refetchOnOpen) {
        // A new EventSource has no Last-Event-ID to resume from: start over from the first page.
        this.#refetchOnOpen = false;
        void this.#loadFirstPage();
      }
    });
    source.addEventListener('error', () => {
      if (connection !== this.#connection || source.readyState !== EventSource.CLOSED) return;
      this.#api('GET', 'counts').then(
        (counts) => {
          if (connection !== this.#connection) return;
          this.#setCounts(counts);
          this.#scheduleReopen(connection);
        },
        (error) => {
          if (connection !== this.#connection) return;
          this.#failed(error, connection, 'stream');
          // Wrong or expired credentials stay wrong until the page sets new ones (which reconnects).
          if (error.status !== 401 && error.status !== 403) this.#scheduleReopen(connection);
        },
      );
    });
  }

  /** @param {number} connection */
  #scheduleReopen(connection) {
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = setTimeout(() => {
      if (connection !== this.#connection) return;
      this.#refetchOnOpen = true;
      this.#openStream(connection);
    }, this.#reopenDelay);
    this.#reopenDelay = Math.min(this.#reopenDelay * 2, REOPEN_MAX_MS);
  }

  #streamIsOpen() {
    return this.#source?.readyState === EventSource.OPEN;
  }

  /** @param {InboxEvent} event */
  #onStreamEvent(event) {
    if (isCounts(event.counts)) this.#setCounts(event.counts);
    if (event.type === 'counts') return;
    if (event.type === 'reset') {
      void this.#loadFirstPage();
      return;
    }
    if (this.#heldEvents) {
      this.#heldEvents.push(event);
      return;
    }
    this.#eventsDuringMore?.push(event);
    this.#applyEvent(event);
  }

  /** @param {InboxEvent} event */
  #applyEvent({ type, item, at }) {
    if ((type === 'item.created' || type === 'item.updated') && item) this.#upsert(item, type === 'item.created');
    else if (type === 'items.read' && typeof at === 'number') this.#markLoaded('readAt', at, at);
    else if (type === 'items.seen' && typeof at === 'number') this.#markLoaded('seenAt', at, at);
  }

  async #loadFirstPage() {
    const generation = ++this.#listGeneration;
    this.#heldEvents = [];
    this.#eventsDuringMore = null;
    this.#loading = true;
    this.#renderList();
    try {
      const page = await this.#api('GET', `items?status=all&limit=${this.#pageSize()}`);
      if (generation !== this.#listGeneration) return;
      const hadFocus = this.#el.list.contains(this.#root.activeElement);
      const current = this.#current;
      this.#items = [];
      this.#rows.clear();
      this.#el.list.replaceChildren();
      this.#current = null;
      this.#nextCursor = page.nextCursor ?? null;
      this.#firstPageLoaded = true;
      this.#append(page.items);
      if (current !== null && this.#rows.has(current)) this.#setCurrent(current);
      const held = this.#heldEvents ?? [];
      this.#heldEvents = null;
      for (const event of held) this.#applyEvent(event);
      this.#showError(null);
      if (hadFocus) this.#currentRow()?.focus();
    } catch (error) {
      if (generation !== this.#listGeneration) return;
      this.#heldEvents = null;
      this.#failed(error, this.#connection, 'load');
    } finally {
      this.#finishLoad(generation);
    }
  }

  async #loadMore() {
    if (this.#loading || !this.#firstPageLoaded || this.#nextCursor === null) return;
    const generation = this.#listGeneration;
    const cursor = encodeURIComponent(this.#nextCursor);
    this.#loading = true;
    this.#eventsDuringMore = [];
    this.#renderList();
    let loaded = false;
    try {
      const page = await this.#api('GET', `items?status=all&limit=${this.#pageSize()}&cursor=${cursor}`);
      if (generation !== this.#listGeneration) return;
      let items = /** @type {InboxItem[]} */ (page.items);
      for (const event of this.#eventsDuringMore ?? []) items = replayOnPage(items, event);
      this.#nextCursor = page.nextCursor ?? null;
      this.#append(items);
      this.#showError(null);
      loaded = true;
    } catch (error) {
      if (generation === this.#listGeneration) this.#failed(error, this.#connection, 'load');
    } finally {
      if (generation === this.#listGeneration) this.#eventsDuringMore = null;
      // After a failure the sentinel is not re-checked, or a dead server would be asked in a loop;
      // closing and opening the list tries again.
      this.#finishLoad(generation, loaded);
    }
  }

  /** @param {number} generation @param {boolean} [recheck] */
  #finishLoad(generation, recheck = true) {
    if (generation !== this.#listGeneration) return;
    this.#loading = false;
    this.#renderList();
    // The observer only reports changes: if the sentinel is still in view after a page (a short
    // list), observing it afresh reports it again and the next page loads.
    if (recheck && this.#isOpen()) {
      this.#observer.unobserve(this.#el.sentinel);
      this.#observer.observe(this.#el.sentinel);
    }
  }

  /** @param {InboxItem[]} items */
  #append(items) {
    for (const item of items) {
      if (item.archivedAt !== null || this.#rows.has(item.id)) continue;
      this.#items.push(item);
      const row = this.#createRow(item);
      this.#el.list.append(row);
    }
    this.#renderList();
  }

  /** Puts a new, changed or unarchived item in place, or removes it if it is archived now. @param {InboxItem} item @param {boolean} created */
  #upsert(item, created) {
    if (item.archivedAt !== null) return this.#remove(item.id);
    const index = this.#items.findIndex((x) => x.id === item.id);
    const row = this.#rows.get(item.id);
    if (index >= 0 && row) {
      this.#items[index] = item;
      this.#fill(row, item);
      return;
    }
    // An item older than the loaded pages will arrive with its page.
    const oldest = this.#items.at(-1);
    if (!created && this.#nextCursor !== null && (!oldest || item.createdAt < oldest.createdAt)) return;
    let at = this.#items.findIndex((x) => x.createdAt < item.createdAt);
    if (at < 0) at = this.#items.length;
    this.#items.splice(at, 0, item);
    this.#el.list.insertBefore(this.#createRow(item), this.#el.list.children[at] ?? null);
    this.#renderList();
  }

  /** @param {string} id */
  #remove(id) {
    const index = this.#items.findIndex((x) => x.id === id);
    const row = this.#rows.get(id);
    if (index < 0 || !row) return;
    const hadFocus = row.contains(this.#root.activeElement);
    this.#items.splice(index, 1);
    this.#rows.delete(id);
    row.remove();
    if (this.#current === id) this.#setCurrent((this.#items[index] ?? this.#items[index - 1])?.id ?? null);
    this.#renderList();
    if (hadFocus) (this.#currentRow() ?? this.#el.popover).focus();
  }

  /** @param {'readAt' | 'seenAt'} field @param {number} at @param {number} until */
  #markLoaded(field, at, until) {
    this.#items.forEach((item, index) => {
      const marked = markedAt(item, field, at, until);
      const row = this.#rows.get(item.id);
      if (marked === item || !row) return;
      this.#items[index] = marked;
      this.#fill(row, marked);
    });
  }

  /** @param {InboxItem} item */
  #createRow(item) {
    const row = document.createElement('article');
    row.className = 'item';
    row.tabIndex = -1;
    row.dataset.id = item.id;
    row.append(ROW.content.cloneNode(true));
    for (const button of row.querySelectorAll('button')) button.tabIndex = -1;
    const n = ++this.#rowIds;
    /** @type {HTMLElement} */ (row.querySelector('.title')).id = `t${n}`;
    /** @type {HTMLElement} */ (row.querySelector('.body')).id = `b${n}`;
    const avatar = /** @type {HTMLImageElement} */ (row.querySelector('.avatar'));
    avatar.addEventListener('error', () => (avatar.hidden = true));
    this.#rows.set(item.id, row);
    this.#fill(row, item);
    return row;
  }

  /** Renders an item into its row. Every server string goes in as text. @param {HTMLElement} row @param {InboxItem} item */
  #fill(row, item) {
    const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (row.querySelector(selector));
    const unread = item.readAt === null;
    row.classList.toggle('unread', unread);
    row.setAttribute('part', unread ? 'item item-unread' : 'item');
    $('.sr').textContent = unread ? 'Unread. ' : '';
    const title = $('.title');
    const body = $('.body');
    title.textContent = item.title ?? '';
    title.hidden = !item.title;
    body.textContent = String(item.body ?? '');
    row.setAttribute('aria-labelledby', item.title ? title.id : body.id);
    if (item.title) row.setAttribute('aria-describedby', body.id);
    else row.removeAttribute('aria-describedby');
    const avatar = /** @type {HTMLImageElement} */ ($('.avatar'));
    const src = safeUrl(item.avatarUrl);
    if (src === null) avatar.removeAttribute('src');
    else if (avatar.getAttribute('src') !== src) avatar.src = src;
    avatar.hidden = src === null;
    const time = /** @type {HTMLTimeElement} */ ($('time'));
    const created = new Date(item.createdAt);
    if (!Number.isNaN(created.getTime())) {
      time.dateTime = created.toISOString();
      time.title = this.#formats().absolute.format(created);
      time.textContent = relativeTime(this.#formats().relative, item.createdAt);
    }
    const toggle = $('[data-action=read],[data-action=unread]');
    toggle.dataset.action = unread ? 'read' : 'unread';
    toggle.textContent = unread ? 'Mark as read' : 'Mark as unread';
  }

  #formats() {
    const locale = this.closest('[lang]')?.getAttribute('lang') || undefined;
    this.#relative ??= new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    this.#absolute ??= new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    return { relative: this.#relative, absolute: this.#absolute };
  }

  #refreshTimes() {
    const { relative } = this.#formats();
    for (const item of this.#items) {
      const time = this.#rows.get(item.id)?.querySelector('time');
      if (time && Number.isFinite(item.createdAt)) time.textContent = relativeTime(relative, item.createdAt);
    }
  }

  /** The empty and loading notes, feed positions and the list's one tab stop. */
  #renderList() {
    const { list, empty, loading, markAll } = this.#el;
    list.setAttribute('aria-busy', String(this.#loading));
    loading.hidden = !this.#loading;
    empty.hidden = this.#loading || !this.#firstPageLoaded || this.#items.length > 0;
    const size = this.#nextCursor === null ? String(this.#items.length) : '-1';
    this.#items.forEach((item, index) => {
      const row = this.#rows.get(item.id);
      row?.setAttribute('aria-posinset', String(index + 1));
      row?.setAttribute('aria-setsize', size);
    });
    if (this.#current === null || !this.#rows.has(this.#current)) this.#setCurrent(this.#items[0]?.id ?? null);
    markAll.toggleAttribute('disabled', (this.#counts?.unread ?? 0) === 0);
  }

  /** Moves the list's tab stop (the row and its buttons) to one item. @param {string | null} id */
  #setCurrent(id) {
    const previous = this.#current;
    this.#current = id;
    for (const [rowId, tabIndex] of /** @type {Array<[string | null, number]>} */ ([
      [previous, -1],
      [id, 0],
    ])) {
      const row = rowId === null ? undefined : this.#rows.get(rowId);
      if (!row) continue;
      row.tabIndex = tabIndex;
      for (const button of row.querySelectorAll('button')) button.tabIndex = tabIndex;
    }
  }

  #currentRow() {
    return this.#current === null ? undefined : this.#rows.get(this.#current);
  }

  /** @param {InboxCounts} counts */
  #setCounts(counts) {
    if (!isCounts(counts)) return;
    const before = this.#counts;
    if (before && before.total === counts.total && before.unread === counts.unread && before.unseen === counts.unseen) {
      return;
    }
    this.#counts = { total: counts.total, unread: counts.unread, unseen: counts.unseen };
    this.#renderCounts();
    this.#renderList();
    this.dispatchEvent(
      new CustomEvent('herald-inbox:counts', { detail: { ...this.#counts }, bubbles: true, composed: true }),
    );
  }

  #renderCounts() {
    const unread = this.#counts?.unread ?? 0;
    const { badge, bell } = this.#el;
    badge.textContent = unread > 99 ? '99+' : String(unread);
    badge.hidden = unread === 0;
    bell.setAttribute('aria-label', unread > 0 ? `Notifications, ${unread} unread` : 'Notifications');
  }

  /** @param {MouseEvent} event */
  #onListClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const row = target.closest('.item');
    const item = row instanceof HTMLElement ? this.#items.find((x) => x.id === row.dataset.id) : undefined;
    if (!item) return;
    const button = target.closest('button');
    if (button?.dataset.action) void this.#act(item, button.dataset.action);
    else this.#activate(item);
  }

  /** @param {KeyboardEvent} event */
  #onListKey(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const rows = /** @type {HTMLElement[]} */ ([...this.#el.list.children]);
    const row = /** @type {HTMLElement | null} */ (target.closest('.item'));
    const index = row ? rows.indexOf(row) : -1;
    if (!row || index < 0) return;
    if ((event.key === 'Enter' || event.key === ' ') && target === row) {
      event.preventDefault();
      const item = this.#items.find((x) => x.id === row.dataset.id);
      if (item) this.#activate(item);
      return;
    }
    const moves = { ArrowDown: index + 1, PageDown: index + 1, ArrowUp: index - 1, PageUp: index - 1 };
    const next =
      event.key === 'Home' ? 0 : event.key === 'End' ? rows.length - 1 : moves[/** @type {'ArrowDown'} */ (event.key)];
    if (next === undefined) return;
    event.preventDefault();
    rows[Math.max(0, Math.min(rows.length - 1, next))]?.focus();
  }

  /** Opening an item marks it read and follows its link if it is http(s). @param {InboxItem} item */
  #activate(item) {
    const click = new CustomEvent('herald-inbox:item-click', {
      detail: { item },
      cancelable: true,
      bubbles: true,
      composed: true,
    });
    const follow = this.dispatchEvent(click);
    const url = follow ? safeUrl(item.actionUrl) : null;
    if (item.readAt === null) void this.#act(item, 'read', url !== null);
    if (url !== null) location.assign(url);
  }

  /** @param {InboxItem} item @param {string} action @param {boolean} [keepalive] */
  async #act(item, action, keepalive = false) {
    const connection = this.#connection;
    try {
      const result = await this.#api('POST', `items/${encodeURIComponent(item.id)}/${action}`, keepalive);
      if (connection !== this.#connection) return;
      if (result?.item) this.#upsert(result.item, false);
      // While the stream is open its events carry the counts in commit order; an answer could be older.
      if (!this.#streamIsOpen()) this.#setCounts(result?.counts);
    } catch (error) {
      this.#failed(error, connection, 'update');
    }
  }

  async #markAllRead() {
    const connection = this.#connection;
    try {
      const result = await this.#api('POST', 'read-all');
      if (connection !== this.#connection) return;
      this.#markLoaded('readAt', Date.now(), Infinity);
      if (!this.#streamIsOpen()) this.#setCounts(result?.counts);
    } catch (error) {
      this.#failed(error, connection, 'update');
    }
  }

  async #markAllSeen() {
    const connection = this.#connection;
    try {
      const result = await this.#api('POST', 'seen-all');
      if (connection === this.#connection && !this.#streamIsOpen()) this.#setCounts(result?.counts);
    } catch (error) {
      this.#failed(error, connection, 'update');
    }
  }

  /**
   * Shows a short message in the list and tells the page (`herald-inbox:error`), e.g. to renew a token.
   * @param {unknown} error @param {number} connection @param {'load' | 'update' | 'stream'} during
   */
  #failed(error, connection, during) {
    if (connection !== this.#connection || (error instanceof DOMException && error.name === 'AbortError')) return;
    const status = error instanceof InboxRequestError ? error.status : 0;
    const message =
      status === 401 || status === 403
        ? 'Notifications could not be shown: sign-in failed.'
        : during === 'update'
          ? 'The notification could not be updated. Please try again.'
          : 'Notifications could not be loaded. Please try again later.';
    this.#showError(message);
    const detail = { status, during, message: error instanceof Error ? error.message : String(error) };
    this.dispatchEvent(new CustomEvent('herald-inbox:error', { detail, bubbles: true, composed: true }));
  }

  /** @param {string | null} message */
  #showError(message) {
    this.#el.error.textContent = message ?? '';
    this.#el.error.hidden = message === null;
  }

  #isOpen() {
    return !this.#el.popover.hidden;
  }

  /** The channels the preferences view offers: `preference-channels`, else the usual five. */
  #preferenceChannels() {
    const named = (this.getAttribute('preference-channels') ?? '')
      .split(',')
      .map((channel) => channel.trim())
      .filter((channel) => channel in CHANNEL_LABELS);
    return named.length > 0 ? named : PREFERENCE_CHANNELS;
  }

  /**
   * Shows the preferences in place of the list: a row for everything, then one per category the
   * subscriber has a rule for, then one per workflow they have a rule for or an item of in the list.
   */
  async #openPreferences() {
    const { prefs, gear, scroller, markAll, prefsLoading, prefsHead, prefsBody } = this.#el;
    const connection = this.#connection;
    prefs.hidden = false;
    scroller.hidden = true;
    markAll.hidden = true;
    gear.setAttribute('aria-expanded', 'true');
    prefsHead.replaceChildren();
    prefsBody.replaceChildren();
    prefsLoading.hidden = false;
    this.#preferenceStatus('');
    let loaded;
    try {
      loaded = /** @type {Preferences} */ (await this.#api('GET', 'preferences'));
    } catch (error) {
      if (connection === this.#connection && !prefs.hidden) this.#preferenceStatus('Preferences could not be loaded.');
      this.#failed(error, connection, 'load');
      return;
    } finally {
      prefsLoading.hidden = true;
    }
    if (connection !== this.#connection || prefs.hidden) return;
    this.#preferences = loaded;
    const channels = this.#preferenceChannels();
    const head = [document.createElement('th')];
    head[0].append(Object.assign(document.createElement('span'), { className: 'sr', textContent: 'Notifications' }));
    for (const channel of channels) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = CHANNEL_LABELS[channel] ?? channel;
      head.push(th);
    }
    prefsHead.append(...head);
    const workflows = new Set([...Object.keys(loaded.workflows ?? {}), ...this.#items.map((item) => item.workflowKey)]);
    /** @type {Array<[PreferenceLevel, string, string]>} */
    const rows = [
      ['channels', '', 'All notifications'],
      ...Object.keys(loaded.categories ?? {})
        .sort()
        .map((key) => /** @type {[PreferenceLevel, string, string]} */ (['categories', key, key])),
      ...[...workflows]
        .filter((key) => typeof key === 'string' && key !== '')
        .sort()
        .map((key) => /** @type {[PreferenceLevel, string, string]} */ (['workflows', key, key])),
    ];
    for (const [level, key, label] of rows) {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = label;
      tr.append(th);
      for (const channel of channels) {
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.dataset.level = level;
        box.dataset.key = key;
        box.dataset.channel = channel;
        box.setAttribute('aria-label', `${CHANNEL_LABELS[channel] ?? channel}: ${label}`);
        const td = document.createElement('td');
        td.append(box);
        tr.append(td);
      }
      prefsBody.append(tr);
    }
    this.#syncPreferences();
    /** @type {HTMLElement | null} */ (prefsBody.querySelector('input'))?.focus();
  }

  /** Back to the list; `refocus` moves focus to the preferences button. @param {boolean} refocus */
  #closePreferences(refocus) {
    const { prefs, gear, scroller, markAll } = this.#el;
    if (prefs.hidden) return;
    prefs.hidden = true;
    scroller.hidden = false;
    markAll.hidden = false;
    gear.setAttribute('aria-expanded', 'false');
    this.#preferences = null;
    if (refocus) gear.focus();
  }

  /** Sets every box from the document held, in place (focus stays where it is). */
  #syncPreferences() {
    const prefs = this.#preferences;
    if (!prefs) return;
    for (const box of this.#el.prefsBody.querySelectorAll('input')) {
      const { level, key, channel } = box.dataset;
      box.checked = channelOn(prefs, /** @type {PreferenceLevel} */ (level), key ?? '', channel ?? '');
    }
  }

  /** @param {HTMLInputElement} box */
  #onPreferenceChange(box) {
    const { level, key, channel } = box.dataset;
    if (!this.#preferences || !level || key === undefined || !channel) return;
    const next = withChannel(this.#preferences, /** @type {PreferenceLevel} */ (level), key, channel, box.checked);
    this.#preferences = next;
    this.#syncPreferences();
    this.#preferenceStatus('Saving…');
    const connection = this.#connection;
    this.#saving = this.#saving.then(async () => {
      try {
        const saved = await this.#api('PUT', 'preferences', false, next);
        if (connection !== this.#connection) return;
        if (this.#preferences === next) this.#preferenceStatus('Saved.');
        this.dispatchEvent(
          new CustomEvent('herald-inbox:preferences', {
            detail: { preferences: saved },
            bubbles: true,
            composed: true,
          }),
        );
      } catch (error) {
        if (connection !== this.#connection) return;
        this.#failed(error, connection, 'update');
        if (this.#preferences === next) {
          // What the server holds is unknown now: show it again as it is.
          this.#preferenceStatus('Your change was not saved.');
          this.#preferences = await this.#api('GET', 'preferences').catch(() => this.#preferences);
          this.#syncPreferences();
        }
      }
    });
  }

  /** @param {string} text */
  #preferenceStatus(text) {
    this.#el.prefsStatus.textContent = text;
  }

  /** Closes the list on a press anywhere outside the element. @param {Event} event */
  #onOutsidePointer = (event) => {
    if (!event.composedPath().includes(this)) this.close();
  };

  /**
   * Wraps a handler so a bug or a malformed answer becomes an inline message, never an exception
   * in the host page.
   * @param {(event: Event) => unknown} handler
   * @returns {(event: Event) => void}
   */
  #guard(handler) {
    return (event) => {
      try {
        handler(event);
      } catch (error) {
        this.#failed(error, this.#connection, 'load');
      }
    };
  }
}

if (!customElements.get('herald-inbox')) customElements.define('herald-inbox', HeraldInbox);
