/*
 * moonbatch review page. Reads window.MOONBATCH_REVIEW (rows.js, written by the job beside this
 * file), filters and sorts it over plain arrays, and renders only the rows in view, so 100,000 rows
 * stay responsive. Every string from the data is shown with textContent or setAttribute, never as
 * markup. Decisions live in localStorage (one key per output folder) until reviewed.csv is
 * downloaded and applied with `run.sh review --apply`.
 */
(function () {
  'use strict';

  var data = window.MOONBATCH_REVIEW;
  var $ = function (id) { return document.getElementById(id); };

  function fail(message) {
    var box = $('load-error');
    box.textContent = message;
    box.hidden = false;
    document.body.dataset.ready = '1';
  }

  if (!data || !Array.isArray(data.rows) || !Array.isArray(data.columns)) {
    fail('rows.js is missing or not readable: this page needs the rows.js file the job writes beside it.');
    return;
  }

  // ---- data ----
  var C = {};
  data.columns.forEach(function (name, i) { C[name] = i; });
  var rows = data.rows;
  var total = rows.length;
  var haystack = null; // lower-cased search text per row, built on the first search

  function get(r, name) { var v = rows[r][C[name]]; return v === undefined ? null : v; }
  function key(r) { return get(r, 'image_path') + '\u0000' + (get(r, 'prompt') || ''); }
  function fileName(path) { var i = path.lastIndexOf('/'); return i < 0 ? path : path.slice(i + 1); }
  function isError(r) { return get(r, 'error') !== null; }
  function tonight(r) {
    var c = get(r, 'change');
    return c === 'new' || c === 'changed' || c === 'removed'
      || (isError(r) && (C.run_id === undefined || get(r, 'run_id') === data.run_id));
  }

  // ---- decisions (localStorage) ----
  var storeKey = 'moonbatch-review:' + (data.output || location.pathname);
  var decisions = {};
  try { decisions = JSON.parse(localStorage.getItem(storeKey) || '{}') || {}; } catch (e) { decisions = {}; }
  function saveDecisions() {
    try { localStorage.setItem(storeKey, JSON.stringify(decisions)); } catch (e) { toast('Could not save decisions in this browser: ' + e.message, true); }
    $('decided-count').textContent = String(Object.keys(decisions).length);
  }
  function decide(r, status, text) {
    decisions[key(r)] = { status: status, text: text, sha: get(r, 'content_sha256'), path: get(r, 'image_path'), prompt: get(r, 'prompt') };
    saveDecisions();
    render(true);
  }
  function undo(r) { delete decisions[key(r)]; saveDecisions(); render(true); }

  // ---- filtering and sorting ----
  var controls = {
    change: $('f-change'), review: $('f-review'), errors: $('f-errors'), truncated: $('f-truncated'),
    conf: $('f-conf'), confValue: $('f-conf-value'), search: $('f-search'), sort: $('f-sort')
  };
  var visible = new Int32Array(0);
  var lastFilterMs = 0;

  function matches(r, f) {
    if (f.change === 'tonight') { if (!tonight(r)) return false; }
    else if (f.change !== 'all' && get(r, 'change') !== f.change) return false;
    if (f.errors && !isError(r)) return false;
    if (f.truncated && get(r, 'finish_reason') !== 'length') return false;
    if (f.conf < 1) { var c = get(r, 'confidence'); if (c === null || !(c < f.conf)) return false; }
    if (f.review !== 'any') {
      var d = decisions[key(r)], applied = get(r, 'review_status');
      if (f.review === 'undecided' && (d || (applied && applied !== 'stale'))) return false;
      if (f.review === 'decided' && !d) return false;
      if (f.review === 'applied' && !(applied && applied !== 'stale')) return false;
      if (f.review === 'stale' && applied !== 'stale') return false;
    }
    if (f.search && haystack[r].indexOf(f.search) < 0) return false;
    return true;
  }

  function comparator(sort) {
    var conf = C.confidence, path = C.image_path;
    function byPath(a, b) { var x = rows[a][path], y = rows[b][path]; return x < y ? -1 : x > y ? 1 : a - b; }
    function byConf(dir) {
      return function (a, b) {
        var x = rows[a][conf], y = rows[b][conf];
        if (x === null && y === null) return byPath(a, b);
        if (x === null) return 1;
        if (y === null) return -1;
        return x === y ? byPath(a, b) : (x - y) * dir;
      };
    }
    if (sort === 'path') return byPath;
    if (sort === 'conf-desc') return byConf(-1);
    if (sort === 'conf-asc') return byConf(1);
    var weak = byConf(1), err = C.error;
    return function (a, b) {
      var ea = rows[a][err] !== null, eb = rows[b][err] !== null;
      if (ea !== eb) return ea ? -1 : 1;
      return weak(a, b);
    };
  }

  function currentFilters() {
    var conf = parseFloat(controls.conf.value);
    controls.confValue.textContent = conf >= 1 ? 'off' : conf.toFixed(2);
    return {
      change: controls.change.value, review: controls.review.value, errors: controls.errors.checked,
      truncated: controls.truncated.checked, conf: conf, search: controls.search.value.trim().toLowerCase(),
      sort: controls.sort.value
    };
  }

  function applyFilters() {
    var t0 = performance.now();
    var f = currentFilters();
    if (f.search && !haystack) {
      haystack = new Array(total);
      for (var i = 0; i < total; i++) {
        haystack[i] = [get(i, 'image_path'), get(i, 'prompt'), get(i, 'text'), get(i, 'error'), get(i, 'reviewed_text')]
          .filter(function (s) { return s !== null; }).join('\n').toLowerCase();
      }
    }
    var out = new Int32Array(total), n = 0;
    for (var r = 0; r < total; r++) { if (matches(r, f)) out[n++] = r; }
    var list = Array.prototype.slice.call(out.subarray(0, n));
    list.sort(comparator(f.sort));
    visible = Int32Array.from(list);
    $('visible-count').textContent = String(n);
    $('empty').hidden = n > 0;
    sizer.style.height = (n * rowHeight) + 'px';
    render(true);
    lastFilterMs = performance.now() - t0;
    document.body.dataset.filterMs = lastFilterMs.toFixed(1);
  }

  // ---- windowed rendering ----
  var list = $('list'), sizer = $('sizer');
  var rowHeight = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h')) || 156;
  var rendered = new Map(); // visible index -> element
  var editing = null;       // key of the row whose editor is open
  var draft = null;         // its text so far, kept while the list re-renders

  function render(force) {
    if (force) { rendered.forEach(function (el) { el.remove(); }); rendered.clear(); }
    var top = list.scrollTop, height = list.clientHeight || window.innerHeight;
    var first = Math.max(0, Math.floor(top / rowHeight) - 4);
    var last = Math.min(visible.length - 1, Math.ceil((top + height) / rowHeight) + 4);
    rendered.forEach(function (el, i) { if (i < first || i > last) { el.remove(); rendered.delete(i); } });
    for (var i = first; i <= last; i++) {
      if (!rendered.has(i)) {
        var el = rowElement(visible[i]);
        el.style.top = (i * rowHeight) + 'px';
        sizer.appendChild(el);
        rendered.set(i, el);
      }
    }
  }

  /**
   * The row's regions (PP-OCR lines, Florence-2 boxes) drawn over its thumbnail: an SVG in the
   * image's own pixels (width x height), fitted like the thumbnail (contain), each region a polygon
   * (8 values) or a rectangle (4) with its label as a tooltip; null where there is nothing to draw.
   */
  function regionBoxes(r) {
    var regions = get(r, 'regions'), w = get(r, 'width'), h = get(r, 'height');
    if (!regions || !regions.length || !w || !h) return null;
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'regions');
    svg.setAttribute('data-testid', 'regions');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
    regions.forEach(function (g) {
      var b = g.box || [];
      var pts = b.length === 4 ? [b[0], b[1], b[2], b[1], b[2], b[3], b[0], b[3]] : b;
      if (pts.length !== 8) return;
      var poly = document.createElementNS(ns, 'polygon');
      poly.setAttribute('points', pts.map(Number).join(' '));
      poly.setAttribute('vector-effect', 'non-scaling-stroke');
      poly.setAttribute('data-testid', 'region');
      var title = document.createElementNS(ns, 'title');
      title.textContent = String(g.label === undefined || g.label === null ? '' : g.label);
      poly.appendChild(title);
      svg.appendChild(poly);
    });
    return svg;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function button(label, cls, testid, onClick) {
    var b = el('button', 'btn small ' + cls, label);
    b.type = 'button';
    b.setAttribute('data-testid', testid);
    b.addEventListener('click', onClick);
    return b;
  }

  function rowElement(r) {
    var path = get(r, 'image_path'), text = get(r, 'text'), error = get(r, 'error');
    var d = decisions[key(r)];
    var row = el('div', 'row');
    row.setAttribute('data-testid', 'row');
    row.setAttribute('data-path', path);
    row.setAttribute('data-confidence', get(r, 'confidence') === null ? '' : String(get(r, 'confidence')));
    row.setAttribute('data-error', error === null ? '0' : '1');
    if (error !== null) row.classList.add('is-error');
    if (d) row.classList.add('is-' + d.status);

    var thumb = el('div', 'thumb');
    var src = get(r, 'thumb');
    var img = el('img');
    img.alt = '';
    img.loading = 'lazy';
    img.decoding = 'async';
    if (typeof src === 'string' && /^thumbs\/[0-9a-f]{64}\.jpg$/.test(src)) {
      img.setAttribute('src', src);
      img.addEventListener('error', function () { thumb.classList.add('no-img'); });
    } else {
      thumb.classList.add('no-img');
    }
    thumb.appendChild(img);
    var boxes = regionBoxes(r);
    if (boxes) thumb.appendChild(boxes);
    thumb.appendChild(el('div', 'ph', error !== null ? 'no image' : 'no thumbnail'));
    row.appendChild(thumb);

    var main = el('div', 'main');
    var nameLine = el('div', 'name-line');
    var name = el('span', 'filename', fileName(path));
    name.setAttribute('data-testid', 'filename');
    name.title = path;
    nameLine.appendChild(name);
    main.appendChild(nameLine);
    var full = el('div', 'path', path);
    full.setAttribute('data-testid', 'path');
    main.appendChild(full);
    var taskLine = el('div', 'task-line');
    taskLine.appendChild(el('span', 'task', get(r, 'task') || ''));
    if (get(r, 'prompt')) taskLine.appendChild(el('span', 'prompt', get(r, 'prompt')));
    main.appendChild(taskLine);
    if (editing === key(r)) {
      main.appendChild(editor(r, d && d.status === 'edited' ? d.text : (get(r, 'final_text') || text || '')));
    } else if (error !== null) {
      var e = el('div', 'error', error);
      e.setAttribute('data-testid', 'error');
      e.title = error;
      main.appendChild(e);
    } else if (get(r, 'task') !== 'attribute') {
      var t = el('div', text ? 'text' : 'text none', text || '(no text)');
      t.setAttribute('data-testid', 'text');
      main.appendChild(t);
    }
    // attribute runs: one line per attr_<name> column, name and value
    data.columns.forEach(function (c) {
      var v = c.indexOf('attr_') === 0 ? get(r, c) : null;
      if (v === null || v === undefined) return;
      var line = el('div', 'attr');
      line.setAttribute('data-testid', c);
      line.appendChild(el('span', 'attr-name', c.slice(5)));
      line.appendChild(el('span', 'attr-value', v));
      main.appendChild(line);
    });
    row.appendChild(main);

    var metrics = el('dl', 'metrics');
    function metric(label, value) { metrics.appendChild(el('dt', null, label)); metrics.appendChild(value); }
    var conf = get(r, 'confidence');
    var confLine = el('dd', 'conf-line');
    confLine.appendChild(el('span', 'conf-num', conf === null ? '–' : conf.toFixed(2)));
    var bar = el('div', 'bar'), fill = el('div', 'bar-fill' + (conf === null ? '' : conf < 0.5 ? ' low' : conf < 0.8 ? ' mid' : ''));
    fill.style.width = conf === null ? '0' : Math.round(conf * 100) + '%';
    bar.appendChild(fill);
    confLine.appendChild(bar);
    metric('confidence', confLine);
    var min = get(r, 'min_token_prob');
    metric('min token', el('dd', null, min === null ? '–' : min.toFixed(2)));
    var finish = get(r, 'finish_reason');
    metric('finish', el('dd', finish === 'length' ? 'finish-length' : null, finish === 'length' ? 'length (cut)' : finish || '–'));
    var change = get(r, 'change') || '';
    var cdd = el('dd');
    var badge = el('span', 'badge ' + change, change);
    badge.setAttribute('data-testid', 'change');
    cdd.appendChild(badge);
    metric('change', cdd);
    row.appendChild(metrics);

    var review = el('div', 'review');
    var buttons = el('div', 'buttons');
    var removed = change === 'removed';
    // an attribute row holds several values (attr_*): one decision cannot name which one it is about
    var canDecide = !removed && error === null && get(r, 'task') !== 'attribute';
    var approve = button('Approve', 'approve' + (d && d.status === 'approved' ? ' on' : ''), 'approve', function () { editing = null; decide(r, 'approved', text); });
    var edit = button('Edit', 'edit' + (d && d.status === 'edited' ? ' on' : ''), 'edit', function () { editing = key(r); draft = null; render(true); });
    var reject = button('Reject', 'reject' + (d && d.status === 'rejected' ? ' on' : ''), 'reject', function () { editing = null; decide(r, 'rejected', ''); });
    [approve, edit, reject].forEach(function (b) { b.disabled = !canDecide; buttons.appendChild(b); });
    if (d) buttons.appendChild(button('Undo', 'ghost', 'undo', function () { undo(r); }));
    review.appendChild(buttons);
    if (d) {
      var dec = el('div', 'decision ' + d.status, d.status + ' here');
      dec.setAttribute('data-testid', 'decision');
      review.appendChild(dec);
      if (d.status === 'edited') review.appendChild(el('div', 'decision-text', d.text));
      if (d.sha !== get(r, 'content_sha256')) review.appendChild(el('div', 'outdated', 'decided on an earlier version of this image'));
    }
    var applied = get(r, 'review_status');
    if (applied) {
      var a = el('div', 'applied' + (applied === 'stale' ? ' stale' : ''));
      a.appendChild(document.createTextNode('in the output: '));
      a.appendChild(el('b', null, applied));
      a.setAttribute('data-testid', 'review-status');
      review.appendChild(a);
      if (get(r, 'reviewed_text')) review.appendChild(el('div', 'applied-text', get(r, 'reviewed_text')));
    }
    row.appendChild(review);
    return row;
  }

  function editor(r, initial) {
    var box = el('div', 'editor');
    var area = el('textarea');
    area.value = draft !== null ? draft : initial;
    area.addEventListener('input', function () { draft = area.value; });
    area.setAttribute('data-testid', 'edit-text');
    area.setAttribute('aria-label', 'Corrected text');
    var actions = el('div', 'actions');
    actions.appendChild(button('Save', 'primary', 'save', function () {
      var value = area.value.trim();
      if (!value) { toast('An edit needs a text; use Reject to refuse a caption.', true); return; }
      editing = null;
      draft = null;
      decide(r, 'edited', value);
    }));
    actions.appendChild(button('Cancel', 'ghost', 'cancel', function () { editing = null; draft = null; render(true); }));
    box.appendChild(area);
    box.appendChild(actions);
    setTimeout(function () { area.focus(); }, 0);
    return box;
  }

  // ---- reviewed.csv ----
  function csvCell(v) {
    var s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function download() {
    var keys = Object.keys(decisions);
    if (!keys.length) { toast('Nothing decided yet: approve, edit or reject some rows first.', true); return; }
    var lines = ['image_path,content_sha256,prompt,review_status,reviewed_text'];
    keys.sort().forEach(function (k) {
      var d = decisions[k];
      lines.push([d.path, d.sha, d.prompt, d.status, d.status === 'rejected' ? '' : d.text].map(csvCell).join(','));
    });
    var blob = new Blob(['\uFEFF' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    var url = URL.createObjectURL(blob);
    var a = document.createElement('a');
    a.href = url;
    a.download = 'reviewed.csv';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    toast(keys.length + ' decision(s) in reviewed.csv. Apply with: run.sh review --output OUT --apply reviewed.csv');
  }

  var toastTimer = null;
  function toast(message, bad) {
    var t = $('toast');
    t.textContent = message;
    t.className = 'toast' + (bad ? ' bad' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 5000);
  }

  // ---- header ----
  function header() {
    $('run-id').textContent = data.run_id || '–';
    $('generated').textContent = data.generated || '–';
    $('output').textContent = data.output || '–';
    $('total-count').textContent = String(total);
    if (data.scope === 'tonight') {
      var note = $('scope-note');
      note.textContent = 'Tonight\'s rows only (new, changed, errors, removed): ' + total + ' of the '
        + data.table_rows + ' rows in results.parquet, which is over --full-exports-max-rows.';
      note.hidden = false;
    }
    var box = $('summary'), s = data.summary;
    if (!s || typeof s !== 'object') return;
    function stat(label, value, cls) {
      var st = el('div', 'stat' + (cls ? ' ' + cls : ''));
      st.appendChild(el('div', 'stat-label', label));
      if (value instanceof Node) st.appendChild(value); else st.appendChild(el('div', 'stat-value', value));
      st.setAttribute('data-testid', 'stat-' + label.replace(/\W+/g, '-'));
      box.appendChild(st);
    }
    function group(obj) {
      var v = el('div', 'stat-value');
      Object.keys(obj).forEach(function (k) {
        var kv = el('span', 'kv');
        kv.appendChild(el('b', null, obj[k]));
        kv.appendChild(document.createTextNode(' ' + k + ' '));
        v.appendChild(kv);
      });
      return v;
    }
    ['images', 'rows', 'computed', 'reused', 'deduplicated', 'errors', 'removed'].forEach(function (k) {
      if (typeof s[k] === 'number') stat(k, s[k].toLocaleString('en-US'));
    });
    if (typeof s.imagesPerSecond === 'number') stat('images/s', s.imagesPerSecond.toFixed(2));
    if (s.changes && typeof s.changes === 'object') stat('changes', group(s.changes), 'group');
    if (s.errorsByKind && typeof s.errorsByKind === 'object' && Object.keys(s.errorsByKind).length) stat('errors by kind', group(s.errorsByKind), 'group');
    if (s.stageSeconds && typeof s.stageSeconds === 'object') {
      var secs = {};
      Object.keys(s.stageSeconds).forEach(function (k) { secs[k] = s.stageSeconds[k] + ' s'; });
      stat('wall time', group(secs), 'group');
    }
    if (s.model) stat('model', String(s.model), 'text');
  }

  // ---- charts (inline SVG: no library, no network) ----
  var SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  /** A small bar chart: bars = [{label, value, tip}]; returns the stat box holding it. */
  function barChart(title, testid, bars, colour) {
    var w = 260, h = 64, pad = 12, max = Math.max.apply(null, bars.map(function (b) { return b.value; }).concat([1]));
    var chart = svg('svg', { width: w, height: h + pad + 2, viewBox: '0 0 ' + w + ' ' + (h + pad + 2), role: 'img', 'aria-label': title });
    chart.setAttribute('data-testid', testid);
    var bw = Math.min(40, w / Math.max(1, bars.length));
    bars.forEach(function (b, i) {
      var bh = Math.round((b.value / max) * (h - 4));
      var rect = svg('rect', { x: i * bw + 1, y: h - bh, width: Math.max(1, bw - 2), height: bh, fill: colour, rx: 1.5 });
      rect.appendChild(svg('title', {}, b.tip));
      chart.appendChild(rect);
      if (bars.length <= 12) chart.appendChild(svg('text', { x: i * bw + bw / 2, y: h + pad, 'font-size': 9, 'text-anchor': 'middle', fill: '#6b7280' }, b.label));
    });
    var st = el('div', 'stat chart');
    st.appendChild(el('div', 'stat-label', title));
    st.appendChild(chart);
    $('summary').appendChild(st);
  }
  function charts() {
    var bins = new Array(10).fill(0), kinds = {};
    for (var r = 0; r < total; r++) {
      var c = get(r, 'confidence');
      if (c !== null) bins[Math.min(9, Math.floor(c * 10))]++;
      var e = get(r, 'error');
      if (e !== null) { var k = (/^[A-Z_]+/.exec(e) || ['OTHER'])[0]; kinds[k] = (kinds[k] || 0) + 1; }
    }
    barChart('confidence (all rows)', 'chart-confidence', bins.map(function (n, i) {
      return { label: (i / 10).toFixed(1), value: n, tip: n + ' rows with confidence ' + (i / 10).toFixed(1) + '–' + ((i + 1) / 10).toFixed(1) };
    }), '#2563eb');
    var names = Object.keys(kinds).sort();
    barChart('errors by kind', 'chart-errors', names.length ? names.map(function (k) {
      return { label: k.length > 10 ? k.slice(0, 9) + '…' : k, value: kinds[k], tip: kinds[k] + ' ' + k };
    }) : [{ label: 'none', value: 0, tip: 'no errors' }], '#dc2626');
  }

  // ---- wiring ----
  var searchTimer = null;
  ['change', 'review', 'errors', 'truncated', 'sort'].forEach(function (k) { controls[k].addEventListener('change', applyFilters); });
  controls.conf.addEventListener('input', applyFilters);
  controls.search.addEventListener('input', function () { clearTimeout(searchTimer); searchTimer = setTimeout(applyFilters, 120); });
  $('reset').addEventListener('click', function () {
    controls.change.value = 'tonight'; controls.review.value = 'any'; controls.errors.checked = false;
    controls.truncated.checked = false; controls.conf.value = '1'; controls.search.value = ''; controls.sort.value = 'weakest';
    applyFilters();
  });
  $('download').addEventListener('click', download);
  $('forget').addEventListener('click', function () {
    if (!Object.keys(decisions).length || confirm('Forget every decision made on this page for this output?')) {
      decisions = {}; saveDecisions(); render(true);
    }
  });
  list.addEventListener('scroll', function () { render(false); }, { passive: true });
  window.addEventListener('resize', function () { render(false); });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== controls.search && document.activeElement.tagName !== 'TEXTAREA') {
      e.preventDefault(); controls.search.focus();
    }
  });

  header();
  charts();
  saveDecisions();
  applyFilters();
  document.body.dataset.ready = '1';
  window.moonbatchReview = { visibleCount: function () { return visible.length; }, lastFilterMs: function () { return lastFilterMs; } };
})();
