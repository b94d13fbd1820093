// The category builder's logic (pages/Categorize.tsx): node programs that measure the
// uncategorised time of a range, suggestions made from it (apps, title words, browser
// domains, each with an escaped rule), how many of its seconds each rule would catch, and
// how accepted rules are written into the `classes` setting. No UI and no requests here.
import type { Category, Rule } from './categories';
import { activityQuery, categoryPeriodQuery, CountOptions, Ev, HostBuckets } from './queries';
import { qlit } from './api';

export type SuggestionKind = 'app' | 'word' | 'domain';

export interface Suggestion {
  /** kind and name, unique within a list */
  id: string;
  kind: SuggestionKind;
  /** the app name, the title word (its most used spelling) or the domain */
  label: string;
  /** uncategorised seconds of the app (window time), of titles holding the word, or of the
   * domain (browser time) */
  seconds: number;
  /** the proposed rule */
  regex: string;
  ignore_case: boolean;
  /** the proposed category name */
  category: string[];
}

/** What suggestQuery returns. */
export interface SuggestResult {
  apps: Ev[];
  titles: Ev[];
  domains: Ev[];
  domain_titles: Ev[];
  uncategorized: number;
}

/** Escape every character the node's regexes (PCRE2) or JavaScript's give a meaning, so
 * that the pattern matches the text literally. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** A rule matching a value equal to `s` (an app name): rules search every string of the
 * event's data, so anchors keep "Code" from catching "Code - OSS" or a title mentioning it. */
export function exactRegex(s: string): string {
  return '^' + escapeRegex(s) + '$';
}

/** A rule matching `word` as a whole word anywhere (ignoring case is set on the rule). */
export function wordRegex(word: string): string {
  return '\\b' + escapeRegex(word) + '\\b';
}

// Words that say nothing about what a window is for.
const STOPWORDS = new Set(
  ('the and for with from that this you your are was not but all any can has have new untitled page tab tabs window ' +
    'home file files edit view open save help settings about www http https com org net html index loading ' +
    'der die das und mit von les des une pour dans').split(' '),
);

/** The words of a title: runs of letters and digits, at least three long, not only digits. */
export function titleWords(title: string): string[] {
  const out: string[] = [];
  for (const w of title.split(/[^\p{L}\p{N}]+/u)) {
    if (w.length < 3 || /^\p{N}+$/u.test(w) || STOPWORDS.has(w.toLowerCase())) continue;
    out.push(w);
  }
  return out;
}

/** The name a site goes by in its titles: the label before the public suffix
 * ("github" for gist.github.com, "bbc" for www.bbc.co.uk); hosts without dots as they are. */
export function siteName(domain: string): string {
  if (/^[\d.]+$/.test(domain) || domain.includes(':') || !domain.includes('.')) return domain;
  const parts = domain.split('.');
  let i = parts.length - 2;
  const second = new Set(['co', 'com', 'org', 'net', 'ac', 'gov', 'edu', 'or', 'ne', 'go']);
  if (i > 0 && second.has(parts[i]) && parts[parts.length - 1].length === 2) i--;
  return parts[i];
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The node program: with the current rules, the uncategorised window time merged by app
 * and by (app, title), the browser time inside it by domain and by (domain, title), and the
 * uncategorised total. It is the Activity summary's program (so the figures are the
 * Activity page's) kept to the category Uncategorized, with another RETURN. */
export function suggestQuery(hosts: HostBuckets[], rules: [string[], Rule][], opts: CountOptions = {}, limit = 1000): string[] {
  const L = activityQuery(hosts, rules, limit, false, { ...opts, categories: [['Uncategorized']] });
  if (!/^RETURN\b/.test(L[L.length - 1] || '')) throw new Error('activityQuery no longer ends with its RETURN');
  L.pop();
  L.push(
    `domain_titles = limit_events(sort_by_duration(merge_events_by_keys(browser_events, ["$domain", "title"])), ${limit});`,
    'RETURN = {"apps": app_events, "titles": title_events, "domains": browser_domains, "domain_titles": domain_titles, "uncategorized": duration};',
  );
  return L;
}

/** The node program answering, for each candidate rule, how many uncategorised seconds (with
 * the current rules) it would catch on its own. */
export function catchQuery(hosts: HostBuckets[], rules: [string[], Rule][], candidates: Rule[], opts: CountOptions = {}): string[] {
  const L = categoryPeriodQuery(hosts, rules, { ...opts, categories: [['Uncategorized']] });
  if (!/^RETURN\b/.test(L[L.length - 1] || '')) throw new Error('categoryPeriodQuery no longer ends with its RETURN');
  L.pop();
  const tag = ['$candidate'];
  candidates.forEach((r, i) => {
    L.push(`c_${i} = categorize(events, ${qlit([[tag, cleanRule(r)]])});`);
    L.push(`c_${i} = sum_durations(filter_keyvals(c_${i}, "$category", ${qlit([tag])}));`);
  });
  L.push(`RETURN = [${candidates.map((_, i) => `c_${i}`).join(', ')}];`);
  return L;
}

function cleanRule(r: Rule): Rule {
  return r.ignore_case ? { type: 'regex', regex: r.regex, ignore_case: true } : { type: 'regex', regex: r.regex };
}

/** Suggestions from a suggestQuery answer, each kind longest first, at most `max` each.
 * Words are left out when nearly all of their time is one app's and they cover nearly all
 * of that app's time (the browser's name in its window titles): the app's rule is the one
 * to take. `minSeconds` drops the crumbs. */
export function buildSuggestions(r: SuggestResult, max = 12, minSeconds = 60): Suggestion[] {
  const out: Suggestion[] = [];
  const appTime = new Map<string, number>();
  for (const e of r.apps || []) {
    const app = str(e.data.app);
    if (!app) continue;
    appTime.set(app, (appTime.get(app) || 0) + e.duration);
  }
  const apps = [...appTime].sort((a, b) => b[1] - a[1]).filter(([, s]) => s >= minSeconds).slice(0, max);
  for (const [app, s] of apps) {
    out.push({ id: 'app:' + app, kind: 'app', label: app, seconds: s, regex: exactRegex(app), ignore_case: false, category: [app] });
  }

  // words: each title counts once per word it holds
  const words = new Map<string, { time: number; spell: Map<string, number>; byApp: Map<string, number> }>();
  for (const e of r.titles || []) {
    const app = str(e.data.app);
    const seen = new Set<string>();
    for (const w of titleWords(str(e.data.title))) {
      const k = w.toLowerCase();
      let x = words.get(k);
      if (!x) words.set(k, (x = { time: 0, spell: new Map(), byApp: new Map() }));
      x.spell.set(w, (x.spell.get(w) || 0) + e.duration);
      if (seen.has(k)) continue;
      seen.add(k);
      x.time += e.duration;
      x.byApp.set(app, (x.byApp.get(app) || 0) + e.duration);
    }
  }
  const appNames = new Set([...appTime.keys()].map((a) => a.toLowerCase()));
  const wordList = [...words]
    .filter(([k, x]) => {
      if (x.time < minSeconds || appNames.has(k)) return false;
      const [topApp, t] = [...x.byApp].sort((a, b) => b[1] - a[1])[0];
      return !(t >= 0.9 * x.time && x.time >= 0.9 * (appTime.get(topApp) || Infinity));
    })
    .sort((a, b) => b[1].time - a[1].time)
    .slice(0, max);
  for (const [k, x] of wordList) {
    const spelling = [...x.spell].sort((a, b) => b[1] - a[1])[0][0];
    out.push({ id: 'word:' + k, kind: 'word', label: spelling, seconds: x.time, regex: wordRegex(spelling), ignore_case: true, category: [spelling] });
  }

  // domains: the rule looks for the site in window titles (window time is what gets
  // categorised); the site's name if its titles carry it, else the word most of them carry
  const dTitles = new Map<string, Ev[]>();
  for (const e of r.domain_titles || []) {
    const d = str(e.data.$domain);
    if (!dTitles.has(d)) dTitles.set(d, []);
    dTitles.get(d)!.push(e);
  }
  for (const e of (r.domains || []).filter((e) => str(e.data.$domain) && e.duration >= minSeconds).slice(0, max)) {
    const domain = str(e.data.$domain);
    out.push({ id: 'domain:' + domain, kind: 'domain', label: domain, seconds: e.duration, ...domainRule(domain, dTitles.get(domain) || []), category: [siteName(domain)] });
  }
  return out;
}

/** The proposed rule for a domain, from the titles its pages had. */
export function domainRule(domain: string, titles: Ev[]): { regex: string; ignore_case: boolean } {
  const name = siteName(domain);
  const total = titles.reduce((a, e) => a + e.duration, 0);
  const cover = (re: RegExp) => titles.reduce((a, e) => a + (re.test(str(e.data.title)) ? e.duration : 0), 0);
  const byName = new RegExp(escapeRegex(name), 'i');
  if (!total || cover(byName) >= 0.5 * total) return { regex: escapeRegex(name), ignore_case: true };
  const cand = new Map<string, number>();
  for (const e of titles) for (const w of new Set(titleWords(str(e.data.title)).map((w) => w.toLowerCase()))) cand.set(w, (cand.get(w) || 0) + e.duration);
  const best = [...cand].sort((a, b) => b[1] - a[1])[0];
  if (best && best[1] >= 0.5 * total) return { regex: wordRegex(best[0]), ignore_case: true };
  return { regex: escapeRegex(name), ignore_case: true };
}

const pathKey = (p: string[]) => p.join('\u0000');

/** One accepted suggestion: the rule and where it goes. */
export interface Accepted {
  category: string[];
  regex: string;
  ignore_case: boolean;
}

/** `classes` with the accepted rules added: a rule for an existing category joins its
 * pattern as an alternative (its own case setting kept with an inline flag group when it
 * differs); a new name becomes a new category, with any missing parents. Categories not
 * touched are returned as they were, object for object. */
export function applyAccepted(classes: Category[], accepted: Accepted[]): Category[] {
  const out = classes.slice();
  let next = Math.max(0, ...classes.map((c) => c.id || 0)) + 1;
  const at = new Map(out.map((c, i) => [pathKey(c.name), i]));
  const ensure = (name: string[]): number => {
    const k = pathKey(name);
    let i = at.get(k);
    if (i === undefined) {
      out.push({ id: next++, name, rule: { type: 'none' } });
      i = out.length - 1;
      at.set(k, i);
    }
    return i;
  };
  for (const a of accepted) {
    const name = a.category.map((s) => s.trim()).filter(Boolean);
    if (!name.length || !a.regex) continue;
    for (let n = 1; n < name.length; n++) ensure(name.slice(0, n));
    const i = ensure(name);
    const c = out[i];
    const old = c.rule && c.rule.type === 'regex' && c.rule.regex ? c.rule : null;
    let rule: Rule;
    if (!old) rule = a.ignore_case ? { type: 'regex', regex: a.regex, ignore_case: true } : { type: 'regex', regex: a.regex };
    else {
      const same = !!old.ignore_case === a.ignore_case;
      const part = same ? a.regex : `(?${a.ignore_case ? 'i' : '-i'}:${a.regex})`;
      rule = { ...old, regex: `${old.regex}|${part}` };
    }
    out[i] = { ...c, rule };
  }
  return out;
}

/** "Work > Programming" → ["Work", "Programming"]. */
export function parseCategory(s: string): string[] {
  return s.split('>').map((x) => x.trim()).filter(Boolean);
}

export function categoryLabel(p: string[]): string {
  return p.join(' > ');
}

/** Seconds per category path (joined with " > ") from a categoryPeriodQuery answer. */
export function timeByCategory(cats: Ev[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of cats) {
    const p = Array.isArray(e.data.$category) ? (e.data.$category as string[]) : ['Uncategorized'];
    const k = categoryLabel(p);
    m.set(k, (m.get(k) || 0) + e.duration);
  }
  return m;
}
