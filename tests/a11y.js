// An accessibility audit of the screen as it is, run in the real webview by
// the E2E test on every screen in both themes. Returns what fails, one
// sentence each; an empty list means the screen passes.
//
// - Contrast (WCAG 2.2, 1.4.3): every visible piece of text against the
//   background it is drawn on (backgrounds composed up the tree, alpha
//   included): 4.5:1, or 3:1 for large text. Disabled controls are exempt.
// - Fields (1.4.11): a field's edge 3:1 against what is around it.
// - Names (4.1.2): every button, field, select and summary has one a screen
//   reader can say; a field's name comes from its label.
// - Focus order (2.4.3): no positive tabindex; the keyboard visits controls
//   top to bottom, as they are seen.
// - Targets (2.5.8): every control at least 24 × 24 CSS px.
// - Structure: one <main>, a heading, a language on the app.
// - Text scaled to 200 % (1.4.4, 1.4.10): nothing wider than the screen.
//   The scale is the root font size, as a phone's text-size setting sets it.
(async () => {
  const done = arguments[arguments.length - 1];
  const problems = [];
  const describe = (el) => {
    const id = el.id ? '#' + el.id : '';
    const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
    const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return `<${el.tagName.toLowerCase()}${id}${cls}> "${text}"`;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && !el.closest('.visually-hidden, [aria-hidden="true"]');
  };

  // Colours as WebKit computes them: rgb(), rgba() or color(srgb …).
  const parse = (c) => {
    let m = c.match(/^rgba?\(([^)]+)\)$/);
    if (m) {
      const [r, g, b, a = '1'] = m[1].split(/[\s,/]+/).filter(Boolean);
      return [+r, +g, +b, +a];
    }
    m = c.match(/^color\(srgb ([^)]+)\)$/);
    if (m) {
      const [r, g, b, a = '1'] = m[1].split(/[\s/]+/).filter(Boolean);
      return [r * 255, g * 255, b * 255, +a];
    }
    throw new Error('unknown colour ' + c);
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const luminance = ([r, g, b]) => {
    const lin = (v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };

  const all = [...document.body.querySelectorAll('*')].filter(visible);
  for (const el of all) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const field = el.matches('input:not([type=checkbox]), select') && (el.value || el.placeholder);
    if (!ownText && !field) continue;
    if (el.closest(':disabled')) continue;
    const s = getComputedStyle(el);
    const bg = background(el);
    const fg = over(parse(s.color), bg);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && +s.fontWeight >= 700);
    const need = large ? 3 : 4.5;
    const got = ratio(fg, bg);
    if (got < need) {
      problems.push(`contrast ${got.toFixed(2)}:1 < ${need}:1 for ${describe(el)} (${s.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`);
    }
  }

  // Fields (1.4.11): the edge that shows where to type, 3:1 against what
  // is around it (its border, or its own background).
  for (const el of all.filter((e) => e.matches('input:not([type=checkbox]), select, textarea'))) {
    const s = getComputedStyle(el);
    const around = background(el.parentElement);
    const edge = parseFloat(s.borderTopWidth) >= 1 ? ratio(over(parse(s.borderTopColor), around), around) : 0;
    const best = Math.max(edge, ratio(over(parse(s.backgroundColor), around), around));
    if (best < 3) problems.push(`field edge ${best.toFixed(2)}:1 < 3:1 for ${describe(el)}`);
  }

  const controls = all.filter((el) => el.matches('button, input, select, textarea, summary, a[href]'));
  for (const el of controls) {
    let name = el.getAttribute('aria-label') || '';
    const by = el.getAttribute('aria-labelledby');
    if (by) name += by.split(/\s+/).map((id) => document.getElementById(id)?.innerText || '').join(' ');
    if (el.labels) name += [...el.labels].map((l) => l.innerText).join(' ');
    if (el.matches('button, summary, a')) name += el.innerText;
    if (el.matches('select')) name += el.selectedOptions[0]?.innerText || '';
    if (!name.trim()) problems.push(`no accessible name: ${describe(el)}`);
    if (el.matches('input:not([type=checkbox]), select') && !(el.labels && el.labels.length) && !by && !el.getAttribute('aria-label')) {
      problems.push(`a field without a label: ${describe(el)}`);
    }
    const r = el.getBoundingClientRect();
    const target = el.matches('input[type=checkbox]') && el.labels?.length
      ? el.labels[0].getBoundingClientRect() : r;
    if (target.width < 24 || target.height < 24) {
      problems.push(`target ${Math.round(target.width)}×${Math.round(target.height)} under 24×24: ${describe(el)}`);
    }
  }

  if (document.querySelector('[tabindex]:not([tabindex="0"]):not([tabindex="-1"])')) {
    problems.push('a positive tabindex reorders the keyboard');
  }
  const focusable = controls.filter((el) => !el.disabled && el.tabIndex >= 0);
  for (let i = 1; i < focusable.length; i++) {
    const a = focusable[i - 1].getBoundingClientRect();
    const b = focusable[i].getBoundingClientRect();
    const sameRow = b.top < a.bottom && a.top < b.bottom;
    if (sameRow ? b.left < a.left : b.top < a.top) {
      problems.push(`focus goes back up, from ${describe(focusable[i - 1])} to ${describe(focusable[i])}`);
    }
  }

  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>');
  if (!document.querySelector('main h1, main h2')) problems.push('no heading');
  if (!document.querySelector('.app[lang]')) problems.push('no language on the app');

  const root = document.documentElement;
  const before = root.style.fontSize;
  root.style.fontSize = '200%';
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const width = root.clientWidth;
  if (root.scrollWidth > width + 1) {
    // The widest culprits: boxes past the edge, or text spilling out of its box.
    const wide = [...document.body.querySelectorAll('*')].filter(visible)
      .filter((el) => el.getBoundingClientRect().right > width + 1 || el.scrollWidth > el.clientWidth + 1)
      .map(describe).slice(-3);
    problems.push(`at 200 % text the page is ${root.scrollWidth}px wide on a ${width}px screen: ${wide.join(', ')}`);
  }
  root.style.fontSize = before;
  done(problems);
})();
