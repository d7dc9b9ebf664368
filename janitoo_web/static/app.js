// Janitoo web manager: live updates over one WebSocket, SETs over fetch. Every text from the server is set
// with textContent (never as HTML): names and help texts come from the wire and are hostile.
(function () {
  'use strict';
  var STATES = ['ONLINE', 'BOOT', 'CONFIG', 'PENDING', 'FAILED', 'DEAD', 'OFFLINE', 'UNKNOWN'];
  var page = document.body.dataset.page;
  var meta = document.querySelector('meta[name=csrf-token]');
  var csrf = meta ? meta.content : '';

  function $(s, r) { return (r || document).querySelector(s); }
  function $$(s, r) { return Array.prototype.slice.call((r || document).querySelectorAll(s)); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function state(s) { return STATES.indexOf(s) >= 0 ? s : 'UNKNOWN'; }
  function fmt(v) {
    if (v === null || v === undefined) return '–';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    return String(v);
  }
  function fmtAge(a) {
    if (a === null || a === undefined || a === '' || isNaN(a)) return 'never';
    a = Number(a);
    return a < 120 ? Math.floor(a) + ' s' : Math.floor(a / 60) + ' min';
  }
  function setText(e, text) { if (e.textContent !== text) e.textContent = text; }
  function setBadge(span, s) {
    if (!span) return;
    span.className = 'badge st-' + state(s);
    span.textContent = state(s);
  }

  // Heartbeat ages count up in the page; the server sends the age it knew and the page adds the time since.
  function setAge(cell, age) {
    if (!cell) return;
    cell.dataset.age = (age === null || age === undefined) ? '' : age;
    cell.dataset.base = String(performance.now());
    setText(cell, fmtAge(age));
  }
  // Ages rendered by the server count from the page's start (nothing is written to 1,000 cells at load).
  var pageStart = performance.now();
  function tickAges() {
    var now = performance.now();
    $$('.age').forEach(function (c) {
      if (c.dataset.age === '' || c.dataset.age === undefined) return;
      setText(c, fmtAge(Number(c.dataset.age) + (now - Number(c.dataset.base || pageStart)) / 1000));
    });
  }
  setInterval(tickAges, 1000);

  function link(up, text) {
    var l = $('#link');
    if (!l) return;
    l.className = 'link ' + (up ? 'up' : 'down');
    l.textContent = text || (up ? 'live' : 'broker lost');
  }

  function connect(params, onEvents) {
    var delay = 500;
    function open() {
      var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      var ws = new WebSocket(proto + '//' + location.host + '/ws?' + params);
      ws.onopen = function () { delay = 500; };
      ws.onmessage = function (m) {
        var events;
        try { events = JSON.parse(m.data); } catch (e) { return; }
        if (!Array.isArray(events)) return;
        events.forEach(function (e) { if (e && e.t === 'broker') link(!!e.up); });
        if (!ws.seen) { ws.seen = true; link(true); }
        onEvents(events);
      };
      ws.onclose = function () {
        link(false, 'reconnecting…');
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
  }

  // ------------------------------------------------------------------------------------------ network
  function networkPage() {
    var tbody = $('#nodes tbody');
    var rows = {};
    $$('tr[data-hadd]', tbody).forEach(function (tr) { rows[tr.dataset.hadd] = tr; });
    var q = $('#q'), sf = $('#state-filter');
    var pictureTimer = null;

    function matches(tr) {
      var text = (q.value || '').trim().toLowerCase();
      var want = sf.value;
      if (!text && !want) return true;
      if (want && tr.dataset.state !== want) return false;
      return !text || tr.textContent.toLowerCase().indexOf(text) >= 0;
    }
    // The picture's circles by hadd, rebuilt when the picture is replaced (a look-up per row, not a scan).
    var circles = {};
    function indexCircles() {
      circles = {};
      $$('.pic-node').forEach(function (a) {
        var h = a.getAttribute('data-hadd');
        (circles[h] = circles[h] || []).push(a.querySelector('circle'));
      });
    }
    indexCircles();
    function circle(hadd) { return circles[hadd] || []; }
    function applyFilter(tr) {
      var ok = matches(tr);
      if (tr.hidden === ok) {  // only what changes is written: a page of 1,000 nodes stays fast
        tr.hidden = !ok;
        circle(tr.dataset.hadd).forEach(function (c) { c.classList.toggle('dim', !ok); });
      }
    }
    function summary() {
      var all = Object.keys(rows), shown = 0;
      all.forEach(function (h) { if (!rows[h].hidden) shown++; });
      $('#no-match').hidden = shown > 0 || all.length === 0;
      $('#count').textContent = all.length + ' nodes';
    }
    function filterAll() {
      Object.keys(rows).forEach(function (h) { applyFilter(rows[h]); });
      summary();
    }
    q.addEventListener('input', filterAll);
    sf.addEventListener('change', filterAll);
    $$('form.filters').forEach(function (f) { f.addEventListener('submit', function (e) { e.preventDefault(); }); });

    function newRow(hadd) {
      var tr = el('tr');
      tr.dataset.hadd = hadd;
      var a = el('a', null, hadd);
      a.href = '/node/' + hadd;
      var cells = [['Hadd', ''], ['Name', 'name'], ['Location', 'location'], ['Product', 'product'], ['State', ''], ['Last heard', 'age']];
      cells.forEach(function (c, i) {
        var td = el('td', c[1]);
        td.dataset.label = c[0];
        if (i === 0) td.appendChild(a);
        if (i === 4) td.appendChild(el('span', 'badge'));
        tr.appendChild(td);
      });
      var keys = Object.keys(rows).sort();
      var after = null;
      for (var i = 0; i < keys.length; i++) { if (keys[i] > hadd) { after = rows[keys[i]]; break; } }
      tbody.insertBefore(tr, after);
      rows[hadd] = tr;
      return tr;
    }
    function refreshPicture() {
      clearTimeout(pictureTimer);
      pictureTimer = setTimeout(function () {
        fetch('/picture.svg', { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.text() : null; })
          .then(function (svg) {
            if (svg === null) return;
            // The picture is built by the server with every wire text escaped; parsed as SVG, not HTML.
            var doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
            var node = doc.documentElement;
            if (node && node.nodeName === 'svg') {
              var box = $('#picture');
              box.replaceChildren(document.importNode(node, true));
              indexCircles();
              filterAll();
            }
          });
      }, 300);
    }
    function render(row) {
      var tr = rows[row.hadd];
      if (!tr) { tr = newRow(row.hadd); refreshPicture(); }
      var s = state(row.state);
      tr.dataset.state = s;
      setText($('.name', tr), row.name);
      setText($('.location', tr), row.location);
      setText($('.product', tr), row.product);
      var badge = $('.badge', tr);
      if (badge.textContent !== s) setBadge(badge, s);
      if (row.age !== null && row.age !== undefined) setAge($('.age', tr), row.age);
      circle(row.hadd).forEach(function (c) {
        if (c.getAttribute('class') === 'st-' + s) return;
        c.setAttribute('class', 'st-' + s);
        var title = c.querySelector('title');
        if (title) title.textContent = row.hadd + ' ' + row.name + ' (' + s + ')';
      });
      return tr;
    }
    function roles(list) {
      var body = $('#roles tbody');
      body.replaceChildren();
      if (!list.length) {
        var tr = el('tr', 'empty'), td = el('td', null, 'No primary heard yet (no network controller, or it is silent).');
        td.colSpan = 6; tr.appendChild(td); body.appendChild(tr);
        return;
      }
      list.forEach(function (r) {
        var tr = el('tr');
        tr.appendChild(el('td', null, r.role));
        tr.appendChild(el('td', null, r.hadd));
        var td = el('td'); var b = el('span'); setBadge(b, r.state); td.appendChild(b); tr.appendChild(td);
        tr.appendChild(el('td', null, r.epoch === null ? '–' : r.epoch));
        tr.appendChild(el('td', null, r.priority === null ? '–' : r.priority));
        var age = el('td', 'age'); setAge(age, r.age); tr.appendChild(age);
        body.appendChild(tr);
      });
    }
    connect('page=network', function (events) {
      var changed = false;
      events.forEach(function (e) {
        if (e.t === 'node' || e.t === 'state') { applyFilter(render(e.row)); changed = true; }
        else if (e.t === 'seen' && rows[e.hadd]) setAge($('.age', rows[e.hadd]), e.age);
        else if (e.t === 'roles') roles(e.rows);
      });
      if (changed) summary();
    });
    summary();
    if ($('#picture').dataset.lazy) refreshPicture();
  }

  // ------------------------------------------------------------------------------------------ node
  function drawChart(svg) {
    var pts = svg._points || [];
    var line = svg.querySelector('polyline');
    var note = svg.parentNode.querySelector('.chart-note');
    if (pts.length < 2) { line.setAttribute('points', ''); return; }
    var t0 = pts[0][0], t1 = pts[pts.length - 1][0];
    var lo = Infinity, hi = -Infinity;
    pts.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    var w = 300, h = 60, pad = 4;
    line.setAttribute('points', pts.map(function (p) {
      var x = t1 > t0 ? (p[0] - t0) / (t1 - t0) * w : w;
      var y = h - pad - (p[1] - lo) / (hi - lo) * (h - 2 * pad);
      return x.toFixed(1) + ',' + y.toFixed(1);
    }).join(' '));
    var range = 'last ' + pts.length + ' readings: ' + lo.toFixed(2) + ' – ' + hi.toFixed(2);
    svg.setAttribute('aria-label', range);
    if (note) note.textContent = range;
  }

  function nodePage() {
    var hadd = document.body.dataset.hadd;
    $$('svg.chart').forEach(function (svg) {
      try { svg._points = JSON.parse(svg.dataset.points || '[]'); } catch (e) { svg._points = []; }
      drawChart(svg);
    });
    $$('form.set').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var out = $('output.result', form);
        var sub = ev.submitter;
        var data = (sub && sub.name === 'data') ? sub.value : (form.elements.data ? form.elements.data.value : null);
        var body = { hadd: hadd, genre: Number(form.dataset.genre), uuid: form.dataset.uuid, index: Number(form.dataset.index), data: data };
        out.className = 'result wait';
        out.textContent = 'sending…';
        $$('button', form).forEach(function (b) { b.disabled = true; });
        fetch('/api/set', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: JSON.stringify(body)
        }).then(function (r) { return r.json(); }).then(function (d) {
          if (d.ok) { out.className = 'result ok'; out.textContent = 'acknowledged: ' + fmt(d.data); }
          else { out.className = 'result bad'; out.textContent = (d.refused ? '' : 'not sent: ') + String(d.error); }
        }).catch(function (e) {
          out.className = 'result bad'; out.textContent = 'no answer from the web manager (' + e + ')';
        }).finally(function () { $$('button', form).forEach(function (b) { b.disabled = false; }); });
      });
    });
    connect('page=node&hadd=' + encodeURIComponent(hadd), function (events) {
      events.forEach(function (e) {
        if (e.t === 'node' || e.t === 'state') {
          setBadge($('#node-state'), e.row.state);
          if (e.row.name) $('h1 .name').textContent = e.row.name;
          $('dd.location').textContent = e.row.location;
          if (e.row.age !== null) setAge($('dd.age'), e.row.age);
        } else if (e.t === 'seen') {
          setAge($('dd.age'), e.age);
        } else if (e.t === 'value') {
          var art = $$('article.value').filter(function (a) { return a.dataset.key === e.key; })[0];
          if (!art) return;
          $('.current', art).textContent = fmt(e.data);
          var svg = $('svg.chart', art);
          if (svg && e.numeric && e.at && typeof e.data === 'number') {
            svg._points.push([e.at, e.data]);
            var max = Number(svg.dataset.maxPoints || 60);
            while (svg._points.length > max) svg._points.shift();
            drawChart(svg);
          }
        }
      });
    });
  }

  // ------------------------------------------------------------------------------------------ traffic
  function clock(at) {
    if (!at) return '';
    var d = new Date(at * 1000);
    function p(n, w) { return String(n).padStart(w || 2, '0'); }
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.' + p(d.getMilliseconds(), 3);
  }
  function trafficPage() {
    var tbody = $('#traffic tbody');
    var MAX_ROWS = 500;
    var paused = false, held = [];
    var pause = $('#pause'), tq = $('#tq');
    $$('td.t', tbody).forEach(function (td) { td.textContent = clock(Number(td.dataset.at)); });
    $$('form.filters').forEach(function (f) { f.addEventListener('submit', function (e) { e.preventDefault(); }); });
    function kinds() { return $$('input[name=kind]').filter(function (i) { return i.checked; }).map(function (i) { return i.value; }); }
    function visible(tr, ks, text) {
      return ks.indexOf(tr.dataset.kind) >= 0 && (!text || tr.textContent.toLowerCase().indexOf(text) >= 0);
    }
    function filterAll() {
      var ks = kinds(), text = (tq.value || '').trim().toLowerCase();
      $$('tr', tbody).forEach(function (tr) { tr.hidden = !visible(tr, ks, text); });
    }
    function add(line) {
      var tr = el('tr');
      tr.dataset.kind = line.kind;
      tr.appendChild(el('td', 't', clock(line.at)));
      var td = el('td'); td.appendChild(el('span', 'kind k-' + line.kind, line.kind)); tr.appendChild(td);
      tr.appendChild(el('td', null, line.hadd));
      var msg = el('td', null, line.text); msg.title = line.topic; tr.appendChild(msg);
      tr.hidden = !visible(tr, kinds(), (tq.value || '').trim().toLowerCase());
      tbody.insertBefore(tr, tbody.firstChild);
      while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(-1);
    }
    $$('input[name=kind]').forEach(function (i) { i.addEventListener('change', filterAll); });
    tq.addEventListener('input', filterAll);
    pause.addEventListener('click', function () {
      paused = !paused;
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? 'Resume' : 'Pause';
      if (!paused) { held.forEach(add); held = []; $('#skipped').textContent = ''; }
    });
    connect('page=traffic', function (events) {
      events.forEach(function (e) {
        if (e.t === 'traffic') {
          if (paused) {
            held.push(e.line);
            if (held.length > MAX_ROWS) held.shift();
            $('#skipped').textContent = held.length + ' held while paused';
          } else add(e.line);
        } else if (e.t === 'skipped') {
          $('#skipped').textContent = e.n + ' messages not shown (too many at once)';
        }
      });
    });
  }

  if (page === 'network') networkPage();
  else if (page === 'node') nodePage();
  else if (page === 'traffic') trafficPage();
})();
