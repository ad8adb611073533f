// SupportBot agent console. Speaks the agent protocol (docs/protocol.md) over a WebSocket at /agent.
// Every text from the server is put in the page with textContent / text nodes, never as HTML.
'use strict';
(() => {
  const TOKEN_KEY = 'supportbot.agentToken';
  const PRIORITY_NAMES = {
    high: 'High', 'medium-high': 'Medium-high', medium: 'Medium', 'medium-low': 'Medium-low', low: 'Low'
  };
  const PRIORITIES = Object.keys(PRIORITY_NAMES).reverse(); // low first
  const REASONS = {
    angry: 'Upset customer', asked_for_person: 'Asked for a person', handoff_topic: 'Needs a person',
    not_understood: 'Bot did not understand', answer_did_not_help: 'Answer did not help',
    internal_error: 'Server problem'
  };
  const FATAL = ['signed_in_elsewhere', 'agent_removed'];

  // ui.replyError is the element with id "reply-error", and so on.
  const ui = new Proxy({}, {
    get: (cache, k) => cache[k] || (cache[k] = document.getElementById(k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())))
  });

  const store = (v) => { // read (no argument) or write the saved token; storage may be blocked
    try {
      if (v === undefined) return sessionStorage.getItem(TOKEN_KEY) || '';
      if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { return ''; }
  };
  const MAX_LINE = 4096; // the server's default --max-line

  let ws = null;
  let token = store();
  let me = null; // {name, skills, status}
  let wantAway = false; // restore "away" after a reconnect
  let stopped = false; // signed in elsewhere or removed: no reconnect
  let retryDelay = 1000;
  let retryTimer = null;
  let failures = 0; // connection attempts that failed in a row
  let quiet = false; // the next close is expected (log out, third wrong token): reconnect at once
  let resync = false; // between `welcome` and the first `queue`
  let authFailures = 0; // wrong tokens on this connection
  let queue = []; // ticket summaries in line order, each with .seenAt (local ms)
  const chats = new Map(); // ticket -> chat
  let selected = null;
  let pending = []; // commands waiting for an answer: {type, ticket, text}
  const drafts = new Map();

  // DOM helpers (text only)
  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(typeof kid === 'string' ? document.createTextNode(kid) : kid);
    }
    return node;
  }
  const setText = (node, text) => { node.textContent = text == null ? '' : String(text); };
  const str = (v) => (typeof v === 'string' ? v : v == null ? '' : String(v));
  const reasonText = (r) => REASONS[r] || str(r).replace(/_/g, ' ') || 'Unknown reason';
  const prioName = (p) => PRIORITY_NAMES[p] || str(p) || 'Unknown';
  const prioRank = (p) => { const i = PRIORITIES.indexOf(p); return i < 0 ? 2 : i; };
  function badge(p) {
    const known = PRIORITY_NAMES[p] ? p : 'unknown';
    return el('span', { class: 'badge prio-' + known }, prioName(p) + ' priority');
  }
  function tagList(tags) {
    if (!Array.isArray(tags) || !tags.length) return null;
    return el('ul', { class: 'tags', 'aria-label': 'Tags' }, ...tags.map((t) => el('li', { class: 'tag' }, str(t))));
  }
  function duration(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + String(s % 60).padStart(2, '0') + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function clock(at) {
    const d = at ? new Date(at) : new Date();
    if (isNaN(d)) return el('time', {}, '');
    return el('time', { datetime: d.toISOString(), title: d.toLocaleString() },
      d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  }
  let toastTimer;
  function toast(text) {
    setText(ui.toast, text);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => setText(ui.toast, ''), 8000);
  }
  const clearErrors = () => ['replyError', 'transferError', 'closeError', 'queueError'].forEach((k) => setText(ui[k], ''));

  // connection
  function setConn(state, text) {
    ui.conn.dataset.state = state;
    setText(ui.conn, text);
    ui.offline.hidden = state === 'online' || stopped || failures === 0;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (stopped || (ws && ws.readyState < 2)) return;
    setConn('connecting', 'Connecting…');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/agent';
    let socket;
    try { socket = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    ws = socket;
    socket.onopen = () => {
      failures = 0;
      authFailures = 0;
      setConn('online', 'Connected');
      if (token) login(token);
      else showLogin();
    };
    socket.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg && typeof msg === 'object') handle(msg);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      if (pending.some((p) => p.type === 'say' || p.type === 'note')) {
        toast('The connection dropped. Check that your last message arrived.');
      }
      pending = [];
      if (stopped) { setConn('offline', 'Disconnected'); return; }
      // Without a token there is nothing to log in with: the server closes a connection that does not log in
      // within a few seconds, so the next one opens when the form is sent.
      if (!token) { quiet = false; failures = 0; setConn('offline', 'Not connected'); showLogin(); return; }
      if (quiet) { quiet = false; connect(); return; }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const delay = retryDelay;
    retryDelay = Math.min(retryDelay * 2, 30000);
    failures++;
    setText(ui.offlineText, 'You are offline. We keep trying to reconnect (next try in ' + delay / 1000 +
      ' s)' + (token ? ' and log you in again.' : '.'));
    setConn('offline', 'Offline');
    retryTimer = setTimeout(connect, delay);
  }

  function send(obj, track) {
    if (!ws || ws.readyState !== 1) {
      return 'You are offline. Wait until the connection is back, then try again.';
    }
    const line = JSON.stringify(obj);
    if (new TextEncoder().encode(line).length > MAX_LINE) {
      return 'That message is too long. Please send it in a few shorter parts.';
    }
    ws.send(line);
    if (track) pending.push(Object.assign({ type: obj.type }, track));
    if (pending.length > 100) pending.shift();
    return null;
  }

  function login(t) {
    setText(ui.loginError, '');
    ui.login.disabled = true;
    if (send({ type: 'login', token: t })) { ui.login.disabled = false; return; }
    pending = [];
  }

  function showLogin() {
    me = null;
    ui.loginBox.hidden = false;
    ui.main.hidden = true;
    ui.me.hidden = true;
    ui.login.disabled = false;
    document.title = 'Agent console – SupportBot';
  }

  // incoming
  function take(type, ticket) {
    const i = pending.findIndex((p) => p.type === type && (ticket === undefined || p.ticket === undefined ||
      p.ticket === ticket));
    return i < 0 ? null : pending.splice(i, 1)[0];
  }

  function handle(msg) {
    const n = msg.ticket === undefined ? undefined : Number(msg.ticket);
    switch (msg.type) {
      case 'hello': retryDelay = 1000; break;
      case 'welcome': onWelcome(msg); break;
      case 'queue':
        take('queue');
        if (Array.isArray(msg.tickets)) setQueue(msg.tickets);
        if (resync) { // chats the server did not send again are no longer ours
          resync = false;
          for (const [k, c] of chats) if (c.stale) dropChat(k);
        }
        break;
      case 'ticket_new': upsertTicket(msg, true); break;
      case 'ticket_taken': assign(n, str(msg.agent)); break;
      case 'ticket_gone':
        removeTicket(n);
        announce(msg.state === 'closed' ? 'Ticket ' + n + ' was closed.' : 'Ticket ' + n + ' left the line.');
        break;
      case 'reply_email': {
        const t = queue.find((q) => q.ticket === n);
        if (t) { t.reply_email = str(msg.address); renderQueue(); }
        announce('Ticket ' + n + ' wants the reply by e-mail.');
        break;
      }
      case 'claimed': onClaimed(msg, n); break;
      case 'customer': {
        const c = chats.get(n);
        if (!c) break;
        addLine(c, { from: 'customer', text: str(msg.text) });
        if (selected !== n) { c.unread++; renderMyChats(); announce('New message in chat ' + n + '.'); }
        break;
      }
      case 'customer_left': case 'customer_back': {
        const back = msg.type === 'customer_back';
        const c = chats.get(n);
        const t = findTicket(n);
        if (t) { t.customer_online = back; renderQueue(); }
        if (!c) break;
        c.online = back;
        addLine(c, { from: 'system', text: back ? 'The customer is back.'
          : msg.said_bye ? 'Customer left the chat' : 'The customer lost the connection.' });
        renderMyChats();
        if (selected === n) renderHeader(c);
        break;
      }
      case 'sent': {
        const p = take('say', n);
        const c = chats.get(n);
        if (c && p) addLine(c, { from: 'agent', text: p.text, author: me && me.name, offline: msg.customer_online === false });
        break;
      }
      case 'noted': {
        const p = take('note', n);
        const c = chats.get(n);
        if (c && p) addLine(c, { from: 'note', text: p.text, author: me && me.name });
        break;
      }
      case 'transferred': {
        take('transfer', n);
        dropChat(n);
        toast('Chat ' + n + ' passed to ' + str(msg.to) + '.');
        send({ type: 'queue' });
        break;
      }
      case 'closed': {
        take('close', n);
        dropChat(n);
        removeTicket(n);
        toast('Chat ' + n + ' closed.');
        break;
      }
      case 'status': take('status'); setStatus(str(msg.status)); break;
      case 'error': onError(msg, n); break;
      default: break; // pong, bye and anything new
    }
  }

  function onWelcome(msg) {
    retryDelay = 1000;
    me = { name: str(msg.agent), skills: Array.isArray(msg.skills) ? msg.skills.map(str) : [], status: 'online' };
    ui.token.value = '';
    ui.loginBox.hidden = true;
    ui.main.hidden = false;
    ui.me.hidden = false;
    setText(ui.whoami, me.name);
    setText(ui.skills, me.skills.length ? 'Skills: ' + me.skills.join(', ') : 'No skills');
    setStatus(msg.status === 'away' ? 'away' : 'online');
    // The server re-sends `claimed` for every chat still ours, then the queue.
    resync = true;
    for (const c of chats.values()) c.stale = true;
    if (wantAway) send({ type: 'status', status: 'away' }, {});
  }

  function setStatus(s) {
    if (!me) return;
    me.status = s;
    setText(ui.statusText, s);
    setText(ui.statusToggle, s === 'away' ? 'Set online' : 'Set away');
  }

  function onClaimed(msg, n) {
    const asked = take('claim', n);
    const old = chats.get(n);
    const c = {
      ticket: n, data: msg, online: msg.customer_online !== false, unread: 0,
      lines: Array.isArray(msg.transcript) ? msg.transcript.filter((l) => l && typeof l === 'object') : []
    };
    chats.set(n, c);
    assign(n, me ? me.name : '');
    if (old) c.unread = old.unread;
    if (asked || selected === null || selected === n) {
      select(n, !!asked);
    } else {
      if (!resync) c.unread++;
      renderMyChats();
    }
    if (!asked && !resync) {
      announce(msg.transferred_from ? str(msg.transferred_from) + ' passed you chat ' + n + '.'
        : msg.sticky ? 'Chat ' + n + ' came back to you.' : 'Chat ' + n + ' is yours.');
    }
  }

  function onError(msg, n) {
    const code = str(msg.code);
    const text = str(msg.message) || 'Something went wrong.';
    if (FATAL.includes(code) || code === 'auth_failed') { token = ''; store(''); }
    if (FATAL.includes(code)) {
      stopped = true;
      ui.fatal.hidden = false;
      setText(ui.fatal, text + ' Reload the page to log in again.');
      ui.main.hidden = true;
      ui.me.hidden = true;
      return;
    }
    if (code === 'auth_failed' || code === 'already_logged_in' || code === 'login_slowed') {
      // login_slowed keeps the saved token: it may be right, and the next connection tries it again.
      if (code === 'auth_failed') {
        showLogin();
        // The third wrong token closes the connection: then open a fresh one at once.
        if (++authFailures >= 3) quiet = true;
      }
      setText(ui.loginError, text);
      ui.token.value = '';
      ui.token.focus();
      ui.login.disabled = false;
      return;
    }
    // The connection closes next; with a token it opens again and logs in, without one the form waits.
    if (code === 'login_timeout') return;
    if (code === 'not_logged_in') {
      setText(ui.loginError, text);
      if (token) login(token); else showLogin();
      return;
    }
    if (['shutting_down', 'server_full', 'idle_timeout', 'line_too_long'].includes(code)) {
      const p = code === 'line_too_long' ? pending.shift() : null;
      if (p && (p.type === 'say' || p.type === 'note')) restoreDraft(p);
      toast(text);
      return;
    }
    // Which command does this answer? Prefer the oldest one about the same ticket.
    let i = n === undefined ? -1 : pending.findIndex((p) => p.ticket === n);
    if (i < 0) i = 0;
    const p = pending.length ? pending.splice(i, 1)[0] : null;
    const where = p ? p.type : '';
    const t = n !== undefined ? n : p ? p.ticket : undefined;
    if ((code === 'not_your_ticket' || code === 'ticket_closed') && where !== 'note' && where !== 'claim' &&
        chats.has(t)) {
      // The chat is no longer ours (closed, or put back in line): drop it and get the line again.
      dropChat(t);
      send({ type: 'queue' }, {});
      toast('Chat ' + t + ': ' + text);
      return;
    }
    // Show it next to the control the agent used.
    const spot = { say: 'replyError', note: 'replyError', transfer: 'transferError', close: 'closeError' }[where];
    if (where === 'claim' || where === 'queue') {
      setText(ui.queueError, text);
      if (where === 'claim') send({ type: 'queue' }, {});
    } else if (spot && p.ticket === selected) {
      if (spot === 'replyError') restoreDraft(p);
      setText(ui[spot], text);
    } else toast((t !== undefined && t !== selected ? 'Chat ' + t + ': ' : '') + text);
  }

  function restoreDraft(p) {
    if (p.ticket === selected && !ui.reply.value.trim()) ui.reply.value = p.text || '';
  }

  // queue
  const findTicket = (n) => queue.find((t) => t.ticket === n);
  function assign(n, agent) {
    const t = findTicket(n);
    if (t) { t.state = 'assigned'; t.agent = agent; delete t.for_you; renderQueue(); }
  }

  function clean(t) {
    const o = Object.assign({}, t);
    o.ticket = Number(t.ticket);
    o.waiting_s = Number(t.waiting_s) || 0;
    o.seenAt = Date.now();
    return o;
  }
  const waitText = (t) => (t.state === 'waiting' ? 'Waiting ' : 'Open ') +
    duration(t.waiting_s + (Date.now() - t.seenAt) / 1000);

  function setQueue(list) {
    queue = list.filter((t) => t && typeof t === 'object' && t.ticket !== undefined).map(clean);
    renderQueue();
  }

  function upsertTicket(raw, announceIt) {
    const t = clean(raw);
    const i = queue.findIndex((q) => q.ticket === t.ticket);
    if (i >= 0) queue.splice(i, 1);
    // By priority, then longest wait (the same order as the server's line).
    let at = queue.findIndex((q) => prioRank(q.priority) < prioRank(t.priority) ||
      (prioRank(q.priority) === prioRank(t.priority) && q.waiting_s - q.seenAt / 1000 < t.waiting_s - t.seenAt / 1000));
    if (at < 0) at = queue.length;
    queue.splice(at, 0, t);
    renderQueue();
    if (announceIt) announce('New ticket ' + t.ticket + ': ' + reasonText(t.reason) + ', ' + prioName(t.priority) + ' priority.');
  }

  function removeTicket(n) {
    const i = queue.findIndex((q) => q.ticket === n);
    if (i >= 0) { queue.splice(i, 1); renderQueue(); }
  }

  function announce(text) { setText(ui.queueStatus, text); }

  function renderQueue() {
    const focused = document.activeElement && document.activeElement.closest('#queue .ticket');
    const focusTicket = focused ? focused.dataset.ticket : null;
    const items = queue.map((t) => {
      const waiting = t.state === 'waiting';
      const mine = !waiting && me && t.agent === me.name;
      const who = waiting ? null : mine ? 'You have it' : 'With ' + (str(t.agent) || 'someone');
      const row = el('li', { class: 'ticket prio-row-' + (PRIORITY_NAMES[t.priority] ? t.priority : 'unknown'),
        'data-ticket': t.ticket, 'data-state': waiting ? 'waiting' : 'assigned' },
      el('div', { class: 'ticket-top' },
        el('strong', { class: 'num' }, 'Ticket ' + t.ticket), ' ', badge(t.priority), ' ',
        el('span', { class: 'reason' }, reasonText(t.reason)),
        waiting && t.for_you ? el('span', { class: 'pill for-you' }, 'For you') : null,
        waiting && t.for_you === false ? el('span', { class: 'pill' }, 'Other team') : null),
      t.preview ? el('p', { class: 'preview' }, '“' + str(t.preview) + '”') : null,
      el('div', { class: 'ticket-meta' },
        el('span', { class: 'wait' }, waitText(t)),
        el('span', { class: t.customer_online ? 'on' : 'off' },
          t.customer_online ? 'Customer online' : 'Customer offline'),
        t.skill ? el('span', {}, 'Needs: ' + str(t.skill)) : null,
        t.reply_email ? el('span', {}, 'Reply by e-mail: ' + str(t.reply_email)) : null,
        who ? el('span', { class: 'who' }, who) : null),
      tagList(t.tags),
      waiting ? el('button', { type: 'button', class: 'claim', 'aria-label': 'Claim ticket ' + t.ticket }, 'Claim') : null);
      row.waitNode = row.querySelector('.wait');
      row.ticketRef = t;
      return row;
    });
    ui.queue.replaceChildren(...items);
    if (!items.length) ui.queue.append(el('li', { class: 'empty' }, 'No one is waiting.'));
    if (focusTicket) {
      const b = ui.queue.querySelector('.ticket[data-ticket="' + focusTicket + '"] button');
      if (b) b.focus();
    }
    const count = queue.filter((t) => t.state === 'waiting').length;
    document.title = (count ? '(' + count + ') ' : '') + 'Agent console – SupportBot';
  }

  function tick() {
    for (const row of ui.queue.children) if (row.waitNode) setText(row.waitNode, waitText(row.ticketRef));
  }

  // my chats
  const firstChat = () => (chats.size ? chats.keys().next().value : null);

  function renderMyChats() {
    const items = [...chats.values()].map((c) => {
      const d = c.data;
      const cur = c.ticket === selected;
      return el('li', { class: 'my-chat' + (cur ? ' current' : ''), 'data-ticket': c.ticket },
        el('button', { type: 'button', 'aria-current': cur ? 'true' : null },
          el('span', { class: 'num' }, 'Chat ' + c.ticket), ' ', badge(d.priority), ' ',
          el('span', { class: 'reason' }, reasonText(d.reason)), ' ',
          el('span', { class: c.online ? 'on' : 'off' }, c.online ? 'online' : 'offline'),
          c.unread ? el('span', { class: 'unread' }, c.unread + ' new') : null));
    });
    ui.myChats.replaceChildren(...items);
    ui.noChats.hidden = items.length > 0;
  }

  function select(n, focusReply) {
    if (selected !== null && selected !== n) drafts.set(selected, ui.reply.value);
    const changed = selected !== n;
    selected = chats.has(n) ? n : null;
    const c = selected === null ? null : chats.get(selected);
    if (c) c.unread = 0;
    if (changed) {
      ui.reply.value = selected === null ? '' : drafts.get(selected) || '';
      ['transferSkill', 'transferAgent', 'resolution'].forEach((k) => { ui[k].value = ''; });
      clearErrors();
    }
    renderMyChats();
    renderChat();
    if (focusReply && c) ui.reply.focus();
  }

  function dropChat(n) {
    if (!chats.has(n)) return;
    chats.delete(n);
    drafts.delete(n);
    if (selected === n) {
      selected = null;
      select(firstChat());
      const b = ui.myChats.querySelector('button');
      (b || ui.takeNext).focus();
    } else renderMyChats();
  }

  // the selected chat
  function renderChat() {
    const c = selected === null ? null : chats.get(selected);
    ui.chat.hidden = !c;
    ui.chatEmpty.hidden = !!c;
    if (!c) { ui.chat.removeAttribute('data-ticket'); return; }
    const d = c.data;
    ui.chat.dataset.ticket = String(c.ticket);
    renderHeader(c);
    // Mood
    const mood = d.mood && typeof d.mood === 'object' ? d.mood : {};
    const score = Number(mood.score) || 0;
    const word = score >= 0.5 ? 'upset' : score >= 0.3 ? 'a bit upset' : 'calm';
    const reasons = (Array.isArray(mood.reasons) ? mood.reasons : []).filter((r) => r && typeof r === 'object');
    ui.mood.replaceChildren(
      el('h3', {}, 'Mood: ' + word + ' (' + score.toFixed(2) + ')'),
      reasons.length ? el('ul', { class: 'reasons' }, ...reasons.map((r) => {
        const w = Number(r.weight) || 0;
        return el('li', {}, str(r.kind), r.evidence ? ': “' + str(r.evidence) + '”' : '',
          ' (' + (w >= 0 ? '+' : '−') + Math.abs(w).toFixed(2) + ')');
      })) : el('p', { class: 'sub' }, 'Nothing upsetting noticed.'));
    // Candidates
    const cands = (Array.isArray(d.candidates) ? d.candidates : []).filter((x) => x && typeof x === 'object');
    ui.candidates.replaceChildren(...cands.map((x) =>
      el('li', {}, str(x.title || x.intent), ' ', el('span', { class: 'score' }, '(' + (Number(x.score) || 0).toFixed(2) + ')'))));
    if (!cands.length) ui.candidates.append(el('li', { class: 'sub' }, 'No guesses.'));
    // Transcript, in one go (aria-busy keeps screen readers from reading it all out)
    ui.transcript.setAttribute('aria-busy', 'true');
    ui.transcript.replaceChildren(...c.lines.map(lineNode));
    ui.transcript.removeAttribute('aria-busy');
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function renderHeader(c) {
    const d = c.data;
    setText(ui.chatTitle, 'Chat ' + c.ticket + ': ' + reasonText(d.reason));
    ui.chatMeta.replaceChildren(badge(d.priority), ' ',
      el('span', { class: c.online ? 'on' : 'off' }, c.online ? 'Customer online' : 'Customer offline'), ' ',
      tagList(d.tags) || '');
    setText(ui.chatWhy, d.why_in_words ? 'Why: ' + str(d.why_in_words) : (d.why ? 'Why: ' + str(d.why) : ''));
    if (d.why) ui.chatWhy.title = 'Rules: ' + str(d.why);
    const extra = [];
    if (d.transferred_from) extra.push(str(d.transferred_from) + ' passed this chat to you.');
    if (d.sticky) extra.push('You helped this customer before.');
    if (d.reply_email) extra.push('Wants the reply by e-mail: ' + str(d.reply_email) + '.');
    setText(ui.chatExtra, extra.join(' '));
  }

  const WHO = { customer: 'Customer', bot: 'Bot', system: 'System' };
  function lineNode(l) {
    const from = ['customer', 'bot', 'agent', 'note', 'system'].includes(l.from) ? l.from : 'system';
    let who = WHO[from];
    const author = str(l.author);
    if (from === 'agent') who = author ? (me && author === me.name ? 'You (' + author + ')' : author) : 'Agent';
    if (from === 'note') who = 'Internal note' + (author ? ' by ' + author : '') + ' – not seen by the customer';
    return el('li', { class: 'line', 'data-from': from },
      el('div', { class: 'line-head' }, el('span', { class: 'who' }, who), ' ', clock(l.at)),
      el('div', { class: 'text' }, str(l.text)),
      l.offline ? el('div', { class: 'sub' }, 'Customer is offline; they will see it when they come back') : null);
  }

  function addLine(c, line) {
    line.at = line.at || new Date().toISOString();
    c.lines.push(line);
    if (c.ticket !== selected) return;
    const box = ui.transcript;
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    box.append(lineNode(line));
    if (atEnd || line.from === 'agent' || line.from === 'note') box.scrollTop = box.scrollHeight;
  }

  // actions
  function act(obj, track, errorNode) {
    clearErrors();
    const err = send(obj, track);
    if (err) setText(errorNode, err);
    return !err;
  }

  function sendReply(kind) {
    if (selected === null) return;
    const text = ui.reply.value.trim();
    if (!text) { clearErrors(); setText(ui.replyError, 'Write something first.'); return; }
    if (act({ type: kind, ticket: selected, text }, { ticket: selected, text }, ui.replyError)) {
      ui.reply.value = '';
      drafts.delete(selected);
    }
    ui.reply.focus();
  }

  ui.loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = ui.token.value.trim();
    if (!t) { setText(ui.loginError, 'Type your token first.'); ui.token.focus(); return; }
    token = t;
    store(t);
    if (ws && ws.readyState === 1) login(t);
    else { retryDelay = 1000; connect(); }
  });

  ui.statusToggle.addEventListener('click', () => {
    const next = me && me.status === 'away' ? 'online' : 'away';
    wantAway = next === 'away';
    const err = send({ type: 'status', status: next }, {});
    if (err) toast(err);
  });

  ui.logout.addEventListener('click', () => {
    if (ws && ws.readyState === 1) {
      send({ type: 'bye' });
      quiet = true; // open a fresh connection for the next login
      ws.close(1000);
    }
    token = '';
    wantAway = false;
    pending = [];
    store('');
    chats.clear();
    queue = [];
    selected = null;
    renderMyChats();
    renderChat();
    renderQueue();
    showLogin();
    toast('You are logged out.');
    ui.token.focus();
  });

  ui.retry.addEventListener('click', () => { retryDelay = 1000; connect(); });

  ui.takeNext.addEventListener('click', () => { act({ type: 'claim' }, {}, ui.queueError); });

  ui.queue.addEventListener('click', (e) => {
    const b = e.target.closest('button.claim');
    const n = b && Number(b.closest('.ticket').dataset.ticket);
    if (n) act({ type: 'claim', ticket: n }, { ticket: n }, ui.queueError);
  });

  ui.myChats.addEventListener('click', (e) => {
    const item = e.target.closest('.my-chat');
    if (item) select(Number(item.dataset.ticket), true);
  });

  ui.replyForm.addEventListener('submit', (e) => { e.preventDefault(); sendReply('say'); });
  ui.sendNote.addEventListener('click', () => sendReply('note'));
  ui.reply.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      sendReply('say');
    }
  });

  function transfer(field, input) {
    if (selected === null) return;
    const v = input.value.trim();
    clearErrors();
    if (!v) { setText(ui.transferError, field === 'skill' ? 'Type a skill, like shipping.' : 'Type a colleague\'s name.'); input.focus(); return; }
    if (act({ type: 'transfer', ticket: selected, [field]: v }, { ticket: selected }, ui.transferError)) input.value = '';
  }
  ui.transferSkillForm.addEventListener('submit', (e) => { e.preventDefault(); transfer('skill', ui.transferSkill); });
  ui.transferAgentForm.addEventListener('submit', (e) => { e.preventDefault(); transfer('agent', ui.transferAgent); });

  ui.closeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (selected === null) return;
    const v = ui.resolution.value.trim();
    clearErrors();
    if (!v) { setText(ui.closeError, 'Say how it was resolved before you close the chat.'); ui.resolution.focus(); return; }
    act({ type: 'close', ticket: selected, resolution: v }, { ticket: selected }, ui.closeError);
  });

  // Safety net: the server does not push every change (e.g. a colleague closing a chat).
  setInterval(() => { if (me && ws && ws.readyState === 1) send({ type: 'queue' }, {}); }, 30000);
  setInterval(tick, 500);

  if (!token) showLogin();
  renderQueue();
  renderMyChats();
  renderChat();
  if (token) connect();
})();
