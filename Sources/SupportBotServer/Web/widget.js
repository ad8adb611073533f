/* SupportBot chat widget, plain JavaScript: <script src="http://HOST:7780/widget.js" data-title="Help"></script>
 * Loads BASE/widget.css and speaks the customer protocol (docs/protocol.md) over the WebSocket BASE/chat.
 * Text from the server only ever goes in as text nodes, never as HTML. */
(function () {
  'use strict';
  if (window.SupportBotWidget) return;

  var script = document.currentScript || [].slice.call(document.querySelectorAll('script[src*="widget.js"]')).pop();
  var BASE = baseOf(script && script.src ? script.src : location.href);
  var WS_URL = BASE.replace(/^http/, 'ws') + '/chat';
  var TITLE = (script && script.getAttribute('data-title')) || 'Help';
  var OPEN_ATTR = !!script && script.getAttribute('data-open') === 'true';
  var KEY_SESSION = 'supportbot.session:' + BASE;
  var KEY_OPEN = 'supportbot.open:' + BASE;
  var MAX_BYTES = 4000; // the server's line limit is 4096 bytes by default
  var TYPING_MS = 15000;

  // Every text the widget itself shows.
  var T = {
    bubble: 'Open chat',
    close: 'Close chat',
    sub: 'Our help bot answers first. You can ask for a person at any time.',
    placeholder: 'Type your question here',
    inputLabel: 'Your message',
    send: 'Send',
    bot: 'Bot',
    you: 'You',
    team: 'Our team',
    typing: 'The bot is typing',
    offline: 'You are offline. Trying to reconnect…',
    back: 'Connected again',
    tooLong: 'That message is too long. Please send it in a few shorter parts.',
    oops: 'Sorry, something went wrong. Please try again.',
    log: 'Chat messages',
    quick: 'Quick replies',
    rateTitle: 'How did we do?',
    rateGroup: 'Rate this chat from 1 to 5 stars',
    comment: 'Add a comment (you can skip this)',
    sendRating: 'Send rating'
  };

  // "http://host:7780/widget.js?v=2" -> "http://host:7780"
  function baseOf(src) {
    var u = new URL(src, location.href);
    return u.origin + u.pathname.replace(/[^/]*$/, '').replace(/\/+$/, '');
  }

  // localStorage, with a memory fallback when the browser blocks it.
  var memory = {};
  function load(key) {
    try { return localStorage.getItem(key); } catch (e) { return memory[key] || null; }
  }
  function save(key, value) {
    memory[key] = value;
    try { localStorage.setItem(key, value); } catch (e) { /* blocked: memory only */ }
  }

  // ---- DOM helpers ----

  function el(tag, attrs, text, parent) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var v = attrs[name];
      if (v === true) node.setAttribute(name, '');
      else if (v != null && v !== false) node.setAttribute(name, String(v));
    });
    if (text != null) node.textContent = String(text);
    if (parent) parent.appendChild(node);
    return node;
  }

  function icon(cls, d, parent) {
    var NS = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', cls);
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
    parent.appendChild(svg);
  }

  // Blank lines make paragraphs, single newlines make <br>. Text nodes only.
  function fillText(node, text) {
    String(text == null ? '' : text).split(/\n[ \t]*\n+/).forEach(function (para) {
      var p = el('p', null, null, node);
      para.split('\n').forEach(function (line, i) {
        if (i) p.appendChild(document.createElement('br'));
        p.appendChild(document.createTextNode(line));
      });
    });
  }

  function tooLong(msg) {
    return new TextEncoder().encode(JSON.stringify(msg)).length > MAX_BYTES;
  }

  // ---- Building the widget ----

  var ui = {};
  var stars = [];

  function build() {
    var root = ui.root = el('div', { id: 'sbw-root', 'data-state': 'offline', hidden: true });
    var panel = ui.panel = el('div', { id: 'sbw-panel', role: 'dialog', 'aria-label': TITLE, hidden: true }, null, root);

    var head = el('div', { class: 'sbw-head' }, null, panel);
    var heading = el('div', { class: 'sbw-heading' }, null, head);
    el('h2', { class: 'sbw-title' }, TITLE, heading);
    el('p', { class: 'sbw-sub' }, T.sub, heading);
    ui.close = el('button', { id: 'sbw-close', type: 'button', 'aria-label': T.close }, null, head);
    icon('sbw-x', 'M6 6l12 12M18 6L6 18', ui.close);

    ui.status = el('div', { id: 'sbw-status', role: 'status', hidden: true }, null, panel);
    ui.ticket = el('div', { id: 'sbw-ticket', role: 'status', hidden: true }, null, panel);

    var body = ui.body = el('div', { class: 'sbw-body' }, null, panel);
    ui.log = el('div', { id: 'sbw-log', role: 'log', 'aria-live': 'polite', 'aria-label': T.log }, null, body);

    ui.typing = el('div', { id: 'sbw-typing', role: 'status', hidden: true }, null, body);
    var dots = el('span', { class: 'sbw-dots', 'aria-hidden': 'true' }, null, ui.typing);
    for (var i = 0; i < 3; i++) el('span', null, null, dots);
    el('span', { class: 'sbw-vh' }, T.typing, ui.typing);

    ui.quick = el('div', { id: 'sbw-quick', role: 'group', 'aria-label': T.quick, hidden: true }, null, body);

    var rating = ui.rating = el('div', { id: 'sbw-rating', hidden: true }, null, body);
    el('p', { class: 'sbw-rating-title' }, T.rateTitle, rating);
    var row = el('div', { class: 'sbw-stars', role: 'group', 'aria-label': T.rateGroup }, null, rating);
    [1, 2, 3, 4, 5].forEach(function (n) {
      var star = el('button', {
        type: 'button', class: 'sbw-star', 'data-score': n,
        'aria-label': n + (n === 1 ? ' star' : ' stars'), 'aria-pressed': 'false'
      }, null, row);
      el('span', { 'aria-hidden': 'true' }, '★', star);
      star.addEventListener('click', function () { score = n; paintStars(); });
      stars.push(star);
    });
    el('label', { class: 'sbw-vh', for: 'sbw-rating-comment' }, T.comment, rating);
    ui.comment = el('input', { id: 'sbw-rating-comment', type: 'text', maxlength: 500, placeholder: T.comment }, null, rating);
    ui.rateSend = el('button', { id: 'sbw-rating-send', type: 'button', disabled: true }, T.sendRating, rating);

    var bar = el('div', { class: 'sbw-bar' }, null, panel);
    el('label', { class: 'sbw-vh', for: 'sbw-input' }, T.inputLabel, bar);
    ui.input = el('textarea', { id: 'sbw-input', rows: 1, maxlength: 2000, placeholder: T.placeholder }, null, bar);
    ui.send = el('button', { id: 'sbw-send', type: 'button' }, T.send, bar);

    ui.bubble = el('button', {
      id: 'sbw-bubble', type: 'button', 'aria-label': T.bubble, 'aria-expanded': 'false', 'aria-controls': 'sbw-panel'
    }, null, root);
    icon('sbw-icon', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z', ui.bubble);
    el('span', { class: 'sbw-dot', 'aria-hidden': 'true' }, null, ui.bubble);

    document.body.appendChild(root);

    ui.bubble.addEventListener('click', function () { setOpen(!isOpen, true); });
    ui.close.addEventListener('click', function () { setOpen(false, true); });
    root.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && isOpen) { e.preventDefault(); setOpen(false, true); }
    });
    ui.send.addEventListener('click', submitText);
    ui.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitText();
      }
    });
    ui.input.addEventListener('input', function () {
      if (ui.input.value.trim()) setQuick([]);
      fitInput();
    });
    ui.rateSend.addEventListener('click', sendRating);
  }

  // The widget stays hidden until its styles are in (or failed, or 4 s passed).
  function loadCss() {
    function show() { ui.root.hidden = false; }
    var link = el('link', { rel: 'stylesheet', href: BASE + '/widget.css' }, null, document.head || document.documentElement);
    link.onload = link.onerror = show;
    setTimeout(show, 4000);
  }

  // The textarea grows up to 5 rows.
  function fitInput() {
    ui.input.setAttribute('rows', String(Math.min(5, ui.input.value.split('\n').length)));
  }

  // ---- Open and close ----

  var isOpen = false;

  function setOpen(open, byUser) {
    isOpen = !!open;
    ui.panel.hidden = !isOpen;
    ui.bubble.setAttribute('aria-expanded', String(isOpen));
    save(KEY_OPEN, isOpen ? '1' : '0');
    if (isOpen) {
      ui.bubble.classList.remove('sbw-unread');
      if (!ws && !retryTimer) connect();
      scrollDown(true);
      if (byUser) ui.input.focus();
    } else if (byUser) {
      ui.bubble.focus();
    }
  }

  // ---- Messages ----

  var shown = []; // {from, text} of the customer, bot and agent lines on screen

  function nearBottom() {
    return ui.body.scrollHeight - ui.body.scrollTop - ui.body.clientHeight < 80;
  }
  function scrollDown(force) {
    if (force || nearBottom()) ui.body.scrollTop = ui.body.scrollHeight;
  }

  // from: bot | customer | agent | system. quiet: do not mark the bubble as unread.
  function addMsg(from, text, who, quiet) {
    var stick = nearBottom();
    text = String(text == null ? '' : text);
    var msg = el('div', { class: 'sbw-msg', 'data-from': from }, null, ui.log);
    if (who) el('div', { class: from === 'customer' ? 'sbw-who sbw-vh' : 'sbw-who' }, who, msg);
    fillText(el('div', { class: 'sbw-text' }, null, msg), text);
    if (from !== 'system') shown.push({ from: from, text: text });
    if (!isOpen && !quiet && from !== 'customer') ui.bubble.classList.add('sbw-unread');
    scrollDown(stick || from === 'customer');
  }

  function addSystem(text) {
    var lastLine = ui.log.lastChild;
    if (!lastLine || lastLine.getAttribute('data-from') !== 'system' || lastLine.textContent !== String(text)) addMsg('system', text);
  }
  function addBot(text, quiet) { addMsg('bot', text, T.bot, quiet); }

  function hasFrom(from) {
    return shown.some(function (m) { return m.from === from; });
  }

  var typingTimer = 0;
  function showTyping() {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_MS);
    scrollDown(true);
  }
  function hideTyping() {
    clearTimeout(typingTimer);
    ui.typing.hidden = true;
  }

  var statusTimer = 0;
  function showStatus(text, ms) {
    clearTimeout(statusTimer);
    ui.status.textContent = text;
    ui.status.hidden = false;
    if (ms) statusTimer = setTimeout(hideStatus, ms);
  }
  function hideStatus() {
    clearTimeout(statusTimer);
    ui.status.hidden = true;
  }

  // items: [{title, msg}]; a click shows the title as the customer's line and sends msg.
  function setQuick(items) {
    if (!items.length && !ui.quick.firstChild) return;
    var hadFocus = ui.quick.contains(document.activeElement);
    ui.quick.textContent = '';
    items.forEach(function (item) {
      if (typeof item.title !== 'string' || !item.title) return;
      var b = el('button', { type: 'button', class: 'sbw-quick' }, item.title, ui.quick);
      b.addEventListener('click', function () {
        setQuick([]);
        say(item.msg, item.title);
        ui.input.focus();
      });
    });
    ui.quick.hidden = !ui.quick.firstChild;
    if (hadFocus) ui.input.focus();
    scrollDown();
  }

  // ---- The handoff strip ----

  var ticket = null; // {n, position, wait, agent}

  function waitText(min) {
    var h = Math.round(min / 60);
    return min < 60 ? min + ' min' : h + (h === 1 ? ' hour' : ' hours');
  }

  function renderTicket() {
    ui.ticket.hidden = !ticket;
    if (!ticket) return;
    var pos = ticket.position;
    var parts = ticket.n != null ? ['Ticket ' + ticket.n] : [];
    if (ticket.agent) parts.push('Chatting with ' + ticket.agent);
    else if (pos === 0) parts.push('A person is joining now');
    else if (pos === 1) parts.push('You are next in line');
    else if (pos > 1) parts.push('Number ' + pos + ' in line');
    else parts.push('Waiting for a person');
    if (!ticket.agent && pos > 0 && ticket.wait > 0) parts.push('about ' + waitText(ticket.wait));
    ui.ticket.textContent = parts.join(' · ');
  }

  // ---- Rating ----

  var score = 0;

  function showRating() {
    score = 0;
    ui.comment.value = '';
    paintStars();
    ui.rating.hidden = false;
    scrollDown(true);
  }
  function paintStars() {
    stars.forEach(function (b, i) {
      b.classList.toggle('sbw-on', i < score);
      b.setAttribute('aria-pressed', String(i + 1 === score));
    });
    ui.rateSend.disabled = !score;
  }
  function sendRating() {
    if (!score) return;
    var msg = { type: 'rate', score: score };
    var comment = ui.comment.value.trim();
    if (comment) msg.comment = comment;
    if (tooLong(msg)) return addSystem(T.tooLong);
    ui.rateSend.disabled = true;
    send(msg);
  }

  // ---- Sending ----

  function submitText() {
    var text = ui.input.value.trim();
    if (!text) return;
    var msg = { type: 'say', text: text };
    if (tooLong(msg)) return addSystem(T.tooLong);
    ui.input.value = '';
    fitInput();
    setQuick([]);
    say(msg, text);
  }

  function say(msg, text) {
    addMsg('customer', text, T.you);
    if (send(msg)) showTyping();
  }

  // ---- The connection ----

  var ws = null;
  var session = null;     // set once this connection's chat is settled (fresh or resumed)
  var awaitingHello = false;
  var fresh = null;       // the new session's welcome, kept while we try to resume the stored one
  var settled = false;    // this page has shown a chat
  var outbox = [];        // messages typed while not connected
  var idleClosed = false; // the server closed a quiet chat
  var unloading = false;
  var wasOffline = false;
  var attempts = 0;
  var retryTimer = 0;
  var refusals = 0;       // connections in a row that never opened

  function setState(s) { ui.root.setAttribute('data-state', s); }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (ws) return;
    idleClosed = false;
    session = null;
    if (!wasOffline) setState('connecting');
    var sock;
    try { sock = new WebSocket(WS_URL); } catch (e) { return dropped(); }
    ws = sock;
    // A connection that hangs without a welcome is given up after 10 s, then retried.
    setTimeout(function () { if (ws === sock && !session) sock.close(); }, 10000);
    sock.onmessage = function (ev) {
      if (sock !== ws) return;
      String(ev.data).split('\n').forEach(function (line) { if (line.trim()) onLine(line); });
    };
    var opened = false;
    sock.onopen = function () { opened = true; };
    sock.onclose = function () {
      if (sock !== ws) return;
      ws = null;
      // Never opened, again and again: most often this page's site is not allowed. Tell the shop's developer.
      if (!opened && ++refusals === 3 && window.console) {
        console.warn('SupportBot: cannot open ' + WS_URL + '. If the server is running, allow this site with: ' +
          'supportbot serve --allowed-origin ' + location.origin);
      }
      if (opened) refusals = 0;
      dropped();
    };
  }

  function dropped() {
    session = null;
    awaitingHello = false;
    hideTyping();
    setState('offline');
    if (unloading) return;
    if (idleClosed) {
      // A quiet chat timed out: come back when the customer does something (opens, clicks in, types), so a
      // forgotten tab does not hold a connection for ever.
      return;
    }
    goOffline();
  }

  function goOffline() {
    wasOffline = true;
    setState('offline');
    showStatus(T.offline);
    // 1 s, 2 s, 4 s … up to 30 s, give or take 20%.
    var delay = Math.min(30000, 1000 * Math.pow(2, attempts));
    attempts = Math.min(attempts + 1, 10);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, Math.min(30000, delay * (0.8 + Math.random() * 0.4)));
  }

  function sendNow(msg) {
    try { ws.send(JSON.stringify(msg)); return true; } catch (e) { return false; }
  }

  // Sends now if we can, or keeps it for when we are connected. True if sent now.
  function send(msg) {
    if (ws && ws.readyState === 1 && session && sendNow(msg)) return true;
    outbox.push(msg);
    if (!ws) connect();
    return false;
  }

  function setSession(id) {
    session = id;
    awaitingHello = false;
    fresh = null;
    save(KEY_SESSION, id);
    ui.root.setAttribute('data-session', id);
  }

  function connected() {
    settled = true;
    attempts = 0;
    setState('online');
    if (wasOffline) {
      wasOffline = false;
      showStatus(T.back, 3000);
    } else {
      hideStatus();
    }
    var queued = outbox;
    outbox = [];
    queued.forEach(function (msg) {
      if (sendNow(msg) && msg.type !== 'rate') showTyping();
    });
  }

  function onLine(line) {
    var m;
    try { m = JSON.parse(line); } catch (e) { return; }
    if (!m || typeof m.type !== 'string' || !handlers.hasOwnProperty(m.type)) return;
    if (m.type !== 'queue') hideTyping(); // any answer ends the typing dots
    handlers[m.type](m);
  }

  // A new chat: on the first connect, or when the stored one can't be resumed (lostText says why).
  function adoptFresh(m, lostText) {
    setSession(m.session);
    var showLost = lostText && hasFrom('customer');
    if (lostText) {
      ticket = null;
      renderTicket();
      ui.rating.hidden = true;
    }
    if (showLost) addSystem(lostText);
    if (showLost || !hasFrom('bot')) addBot(m.text, true);
    connected();
  }

  function historyLine(h) {
    if (!h) return;
    if (h.from === 'customer') addMsg('customer', h.text, T.you, true);
    else if (h.from === 'bot') addBot(h.text, true);
    else if (h.from === 'agent') addMsg('agent', h.text, T.team, true); // history has no agent names
  }

  function onResumed(m) {
    setSession(m.session);
    var history = Array.isArray(m.history) ? m.history : [];
    if (!settled) {
      // A new page: show the chat so far.
      history.forEach(historyLine);
      if (history.length) addSystem(m.text);
      else addBot(m.text, true);
      scrollDown(true);
    } else {
      // The same page after a lost connection: add only what came while we were away,
      // that is, the lines after the last one that is already on screen.
      var anchor = -1;
      for (var i = history.length - 1; i >= 0 && anchor < 0; i--) {
        for (var j = shown.length - 1; j >= 0; j--) {
          var h = history[i];
          if (h && h.from === shown[j].from && String(h.text) === shown[j].text) { anchor = i; break; }
        }
      }
      if (anchor >= 0) {
        history.slice(anchor + 1).forEach(function (h) { if (h && h.from !== 'customer') historyLine(h); });
      }
    }
    connected();
  }

  var handlers = {
    welcome: function (m) {
      if (m.resumed) return onResumed(m);
      var stored = load(KEY_SESSION);
      if (stored && stored !== m.session && !awaitingHello) {
        fresh = m;
        awaitingHello = true;
        sendNow({ type: 'hello', session: stored });
      } else {
        adoptFresh(m, null);
      }
    },

    reply: function (m) {
      addBot(m.text);
      var items = [];
      (Array.isArray(m.options) ? m.options : []).forEach(function (o) {
        if (o && typeof o.n === 'number') items.push({ title: o.title, msg: { type: 'choose', option: o.n } });
      });
      (Array.isArray(m.suggestions) ? m.suggestions : []).forEach(function (s) {
        if (s) items.push({ title: s.title, msg: { type: 'say', text: s.title } });
      });
      setQuick(items);
    },

    handoff: function (m) {
      setQuick([]);
      addBot(m.text);
      ticket = { n: m.ticket, position: m.position, wait: m.wait_minutes, agent: null };
      renderTicket();
    },

    queue: function (m) {
      var known = !!ticket;
      ticket = { n: m.ticket != null ? m.ticket : known ? ticket.n : null, position: m.position, wait: m.wait_minutes };
      renderTicket();
      // After a reload the strip is new, and the text may say when the team is back.
      if (!known && m.text) addSystem(m.text);
    },

    received: function (m) {
      if (!ticket && m.ticket != null) {
        ticket = { n: m.ticket };
        renderTicket();
      }
      if (m.text) addSystem(m.text); // no text while a person has the chat: nothing to show
    },

    queue_left: function (m) {
      ticket = null;
      renderTicket();
      addBot(m.text);
    },

    agent_joined: function (m) {
      ticket = ticket || {};
      var again = ticket.agent === m.agent; // the same person, after a reconnect
      ticket.agent = m.agent || T.team;
      renderTicket();
      if (!again && m.text) addSystem(m.text);
    },

    agent: function (m) {
      addMsg('agent', m.text, m.agent || T.team);
    },

    agent_left: function (m) {
      if (m.text) addSystem(m.text);
      if (m.ask_rating) {
        ticket = null;
        showRating();
      } else if (ticket) {
        ticket.agent = ticket.position = null;
      }
      renderTicket();
    },

    rated: function (m) {
      ui.rating.hidden = true;
      addBot(m.text);
    },

    error: function (m) {
      if (awaitingHello && fresh) {
        // unknown_session (or the stored id was refused): keep the new chat.
        return adoptFresh(fresh, m.message || T.oops);
      }
      if (m.code === 'idle_timeout') { idleClosed = true; return; }
      // Another tab took this chat over: don't take it back at once (the tabs would take turns for ever); the
      // chat opens again here when the customer comes back to this box.
      if (m.code === 'open_elsewhere') { idleClosed = true; addSystem(m.message || T.oops); return; }
      if (m.code === 'shutting_down') return; // the close that follows shows the offline notice
      addSystem(m.message || T.oops);
      if (!ui.rating.hidden) paintStars();
    }
  };

  // ---- Network and page events ----

  window.addEventListener('offline', function () {
    if (!settled || unloading) return;
    var sock = ws;
    ws = null;
    if (sock) sock.close();
    session = null;
    awaitingHello = false;
    hideTyping();
    goOffline();
  });
  window.addEventListener('online', function () {
    if (!(settled || wasOffline) || ws) return;
    attempts = 0;
    connect();
  });
  window.addEventListener('pagehide', function () { unloading = true; });
  window.addEventListener('pageshow', function (e) {
    unloading = false;
    if (e.persisted && settled && !ws) connect(); // back from the page cache
  });

  // ---- Start ----

  function start() {
    build();
    loadCss();
    ui.input.addEventListener('focus', function () { if (idleClosed && !ws && !retryTimer) connect(); });
    var storedOpen = load(KEY_OPEN);
    if (storedOpen === '1' || (storedOpen == null && OPEN_ATTR)) setOpen(true, false);
    else if (load(KEY_SESSION)) connect();
  }

  window.SupportBotWidget = {
    base: BASE,
    open: function () { setOpen(true, false); },
    close: function () { setOpen(false, false); }
  };

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
