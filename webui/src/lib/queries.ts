// Query-language programs the UI sends to POST /api/0/query/. The Activity summary is
// ActivityWatch's `fullDesktopQuery` (shared/bench/query_bench.py): window events flooded,
// intersected with not-afk time (plus audible browser time), categorised; top apps,
// titles, categories; browser domains/URLs/titles from browser buckets intersected with the
// browser's window time; editor files/projects/languages. Several devices are merged with
// awnode's `union_exact`, so each moment counts once: each device's active window events are
// tagged `$device`, and a moment where devices overlap goes to the device whose current
// activity began most recently (ties: the earlier device in host order). Each device's
// browser and editor events are then kept only where the moment is that device's, so every
// total, the per-device split and each bar add up. (ActivityWatch's multidevice query uses
// `union_no_overlap`, which leaves overlaps in and so counts some moments twice.) With one
// device the program is the single-device one, unchanged.
import { qlit } from './api';
import type { Bucket, JsonObject } from './types';
import { Rule } from './categories';
import { nodeHostnames } from './store';

// Window app names per browser (from aw-webui's queries.ts).
export const BROWSER_APPNAMES: Record<string, string[]> = {
  chrome: ['Google-chrome', 'chrome.exe', 'google-chrome-stable', 'Chromium', 'Chromium-browser', 'Chromium-browser-chromium',
    'chromium.exe', 'Google Chrome', 'Chromium-freeworld', 'Google-chrome-beta', 'Google-chrome-unstable', 'chromium', 'google-chrome'],
  firefox: ['Firefox', 'Firefox.exe', 'firefox', 'firefox.exe', 'Firefox Developer Edition', 'firefoxdeveloperedition',
    'Firefox-esr', 'Firefox Beta', 'Nightly', 'org.mozilla.firefox', 'Firefox Nightly', 'LibreWolf', 'librewolf'],
  opera: ['opera.exe', 'Opera'],
  brave: ['brave.exe', 'Brave-browser', 'Brave Browser'],
  edge: ['msedge.exe', 'Microsoft-edge', 'Microsoft Edge', 'microsoft-edge'],
  vivaldi: ['Vivaldi-stable', 'Vivaldi-snapshot', 'vivaldi.exe', 'Vivaldi'],
  orion: ['Orion'],
  yandex: ['Yandex', 'yandex_browser'],
  arc: ['Arc'],
  safari: ['Safari'],
  zen: ['Zen Browser', 'zen', 'zen.exe', 'zen-alpha', 'zen-beta'],
  floorp: ['Floorp', 'floorp', 'floorp.exe'],
};
const ALL_BROWSER_APPS = [...new Set(Object.values(BROWSER_APPNAMES).flat())];

export interface HostBuckets {
  host: string;
  window?: string;
  /** a renamed device's window buckets under its other names (read together with `window`) */
  moreWindows?: string[];
  afk?: string;
  moreAfks?: string[];
  browsers: { id: string; apps: string[] }[];
  editors: string[];
  stopwatch?: string;
}

function browserApps(b: Bucket): string[] {
  const m = /^aw-watcher-web-([a-z]+)/i.exec(b.id) || /^aw-client-web-([a-z]+)/i.exec(b.client || '');
  const name = m?.[1]?.toLowerCase();
  return (name && BROWSER_APPNAMES[name]) || ALL_BROWSER_APPS;
}

const byPrefer = (host: string) => (a: Bucket, b: Bucket) => {
  // prefer the conventional id "<watcher>_<host>", then the most recently updated
  const ca = a.id.endsWith('_' + host) ? 0 : 1;
  const cb = b.id.endsWith('_' + host) ? 0 : 1;
  if (ca !== cb) return ca - cb;
  return (b.metadata?.end || '').localeCompare(a.metadata?.end || '');
};

/** The buckets a device's Activity view uses (found by type and hostname, like aw-webui). */
export function hostBuckets(buckets: Bucket[], host: string): HostBuckets {
  const own = buckets.filter((b) => b.hostname === host);
  const win = own.filter((b) => b.type === 'currentwindow').sort(byPrefer(host))[0];
  const afk = own.filter((b) => b.type === 'afkstatus').sort(byPrefer(host))[0];
  const browsers = buckets
    .filter((b) => b.type === 'web.tab.current' && (b.hostname === host || ((!b.hostname || b.hostname === 'unknown') && !!win)))
    .map((b) => ({ id: b.id, apps: browserApps(b) }));
  const editors = own.filter((b) => b.type === 'app.editor.activity').map((b) => b.id);
  return { host, window: win?.id, afk: afk?.id, browsers, editors };
}

/** Another device as the node names it (GET /api/0/devices): the label the UI shows for
 * it and its buckets under every name it used. */
export interface RemoteDevice {
  label: string;
  /** its current hostname */
  host: string;
  buckets: Bucket[];
}

/** One device's buckets under all of its names, as one device: for each kind of watcher,
 * the preferred bucket of each name (as `hostBuckets` picks it for one name), the current
 * name's first; a renamed device's old and new window buckets are then read together.
 * `names` is the device's names, current first; further names its buckets carry count
 * after them. */
function namedBuckets(mine: Bucket[], names: string[], host: string): HostBuckets {
  const all = [...names, ...mine.map((b) => b.hostname).filter((h) => !names.includes(h))];
  const pick = (type: string) =>
    all.flatMap((n) => mine.filter((b) => b.type === type && b.hostname === n).sort(byPrefer(n)).slice(0, 1));
  const [win, ...moreWin] = pick('currentwindow');
  const [afk, ...moreAfk] = pick('afkstatus');
  const hb: HostBuckets = {
    host,
    window: win?.id,
    afk: afk?.id,
    browsers: mine.filter((b) => b.type === 'web.tab.current').map((b) => ({ id: b.id, apps: browserApps(b) })),
    editors: mine.filter((b) => b.type === 'app.editor.activity').map((b) => b.id),
  };
  if (moreWin.length) hb.moreWindows = moreWin.map((b) => b.id);
  if (moreAfk.length) hb.moreAfks = moreAfk.map((b) => b.id);
  return hb;
}

/** The buckets an Activity view of `host` uses: another device's under all its names when
 * `host` is its label; this device's under every name the node ran under (`own`, current
 * first) when `host` is its current name; else this node's buckets with that hostname (an
 * export of another machine imported here). */
export function deviceBuckets(buckets: Bucket[], host: string, remotes: RemoteDevice[] = [], own: string[] = nodeHostnames()): HostBuckets {
  const dev = remotes.find((d) => d.label === host);
  if (dev) return namedBuckets(dev.buckets, [dev.host], host);
  const theirs = new Set(remotes.flatMap((d) => d.buckets.map((b) => b.id)));
  const local = buckets.filter((b) => !theirs.has(b.id));
  if (own.length > 1 && host === own[0]) {
    // browsers that do not name a host are the device's that reads them (as in hostBuckets)
    const mine = local.filter((b) => own.includes(b.hostname) || (b.type === 'web.tab.current' && (!b.hostname || b.hostname === 'unknown')));
    return namedBuckets(mine, own, host);
  }
  return hostBuckets(local, host);
}

/** Hosts that have a window bucket (the ones with an Activity view). Other devices count
 * once each, by label, whatever names their buckets carry (`remotes`, from the node); this
 * device once, under its current name, whichever of its names (`own`) its buckets carry;
 * this node's other buckets by hostname (an imported export of another machine). */
export function activityHosts(buckets: Bucket[], remotes: RemoteDevice[] = [], own: string[] = nodeHostnames()): string[] {
  const theirs = new Set(remotes.flatMap((d) => d.buckets.map((b) => b.id)));
  const mine = buckets
    .filter((b) => b.type === 'currentwindow' && !theirs.has(b.id))
    .map((b) => (own.includes(b.hostname) ? own[0] : b.hostname));
  const other = remotes.filter((d) => d.buckets.some((b) => b.type === 'currentwindow')).map((d) => d.label);
  return [...new Set([...mine, ...other])].sort();
}

/** How the Activity figures count time (ActivityWatch's query options, same defaults):
 * - `filterAfk` (true): only time the AFK watcher saw as not-AFK counts; false counts every
 *   moment a window was focused;
 * - `audibleActive` (true): a browser tab playing sound counts as not-AFK (a video watched
 *   without touching the keyboard);
 * - `alwaysActive` (none): a regex on the window's app or title whose time always counts as
 *   not-AFK (a video call, a presentation);
 * - `categories` (none): only window time in these categories (a category includes its
 *   subcategories) counts; browser and editor time is cut to that window time too. */
export interface CountOptions {
  filterAfk?: boolean;
  audibleActive?: boolean;
  alwaysActive?: string;
  categories?: string[][];
}

/** Lines computing, per host i, `events_i` (active window time), `not_afk_i`, `browser_i`,
 * `editor_i`, then merged `events`, `not_afk`, `browser_events`, `editor_events`. With
 * several hosts `events` is `union_exact` of the hosts' window events tagged with
 * `$device` (the host name), `mine_i` is the part of `events` attributed to host i, and
 * `browser_i`/`editor_i` are cut to `mine_i` before they are concatenated. */
function canonical(hosts: HostBuckets[], withBrowser: boolean, withEditor: boolean, opts: CountOptions = {}): string[] {
  const L: string[] = [];
  const filterAfk = opts.filterAfk !== false;
  const audible = opts.audibleActive !== false;
  const used = hosts.filter((h) => h.window);
  // a renamed device: its buckets under every name, in time order, flooded as one
  const read = (first: string | undefined, more?: string[]) =>
    more?.length ? `sort_by_timestamp(concat(${[first, ...more].map((b) => `query_bucket(${qlit(b)})`).join(', ')}))` : `query_bucket(${qlit(first)})`;
  used.forEach((h, i) => {
    L.push(`events_${i} = flood(${read(h.window, h.moreWindows)});`);
    if (h.afk) {
      L.push(`not_afk_${i} = flood(${read(h.afk, h.moreAfks)});`);
      L.push(`not_afk_${i} = filter_keyvals(not_afk_${i}, "status", ["not-afk"]);`);
      if (opts.alwaysActive) {
        for (const key of ['app', 'title']) {
          L.push(`always_${i} = filter_keyvals_regex(events_${i}, "${key}", ${qlit(opts.alwaysActive)});`);
          L.push(`not_afk_${i} = period_union(not_afk_${i}, always_${i});`);
        }
      }
    }
    L.push(`browser_${i} = [];`);
    h.browsers.forEach((b, j) => {
      L.push(`b_${i}_${j} = flood(query_bucket(${qlit(b.id)}));`);
      L.push(`w_${i}_${j} = filter_keyvals(events_${i}, "app", ${qlit(b.apps)});`);
      L.push(`b_${i}_${j} = filter_period_intersect(b_${i}_${j}, w_${i}_${j});`);
      L.push(`browser_${i} = concat(browser_${i}, b_${i}_${j});`);
    });
    if (h.browsers.length) {
      L.push(`browser_${i} = sort_by_timestamp(browser_${i});`);
      if (h.afk && audible) {
        L.push(`audible_${i} = filter_keyvals(browser_${i}, "audible", [true]);`);
        L.push(`not_afk_${i} = period_union(not_afk_${i}, audible_${i});`);
      }
    }
    if (h.afk && filterAfk) {
      L.push(`events_${i} = filter_period_intersect(events_${i}, not_afk_${i});`);
      if (withBrowser && h.browsers.length) L.push(`browser_${i} = filter_period_intersect(browser_${i}, not_afk_${i});`);
    } else {
      L.push(`not_afk_${i} = period_union(events_${i}, []);`);
    }
    if (withEditor) {
      L.push(`editor_${i} = [];`);
      h.editors.forEach((e, j) => {
        L.push(`ed_${i}_${j} = flood(query_bucket(${qlit(e)}));`);
        L.push(`editor_${i} = concat(editor_${i}, ed_${i}_${j});`);
      });
      if (h.editors.length) L.push(`editor_${i} = filter_period_intersect(sort_by_timestamp(editor_${i}), ${h.afk && filterAfk ? `not_afk_${i}` : `events_${i}`});`);
    }
  });
  if (!used.length) {
    L.push('events = [];', 'not_afk = [];', 'browser_events = [];', 'editor_events = [];');
    return L;
  }
  if (used.length === 1) {
    L.push('events = events_0;', 'not_afk = not_afk_0;', 'browser_events = browser_0;');
    if (withEditor) L.push('editor_events = editor_0;');
    return L;
  }
  // Several devices: each moment once, attributed to one device (see the top of this file).
  used.forEach((h, i) => L.push(`events_${i} = set_keyval(events_${i}, "${DEVICE_KEY}", ${qlit(h.host)});`));
  L.push(`events = union_exact(${used.map((_, i) => `events_${i}`).join(', ')});`);
  L.push('not_afk = not_afk_0;');
  for (let i = 1; i < used.length; i++) L.push(`not_afk = period_union(not_afk, not_afk_${i});`);
  used.forEach((h, i) => {
    L.push(`mine_${i} = filter_keyvals(events, "${DEVICE_KEY}", [${qlit(h.host)}]);`);
    if (withBrowser && h.browsers.length) L.push(`browser_${i} = filter_period_intersect(browser_${i}, mine_${i});`);
    if (withEditor && h.editors.length) L.push(`editor_${i} = filter_period_intersect(editor_${i}, mine_${i});`);
  });
  L.push(`browser_events = sort_by_timestamp(concat(${used.map((_, i) => `browser_${i}`).join(', ')}));`);
  if (withEditor) L.push(`editor_events = sort_by_timestamp(concat(${used.map((_, i) => `editor_${i}`).join(', ')}));`);
  return L;
}

/** The event data key naming the device a moment is attributed to (several devices). */
export const DEVICE_KEY = '$device';

/** The category names `opts.categories` selects: each chosen one and every rule's name
 * below it (filter_keyvals compares whole names). */
export function selectedCategoryNames(rules: [string[], Rule][], chosen: string[][]): string[][] {
  const key = (n: string[]) => JSON.stringify(n);
  const out = new Map<string, string[]>();
  for (const c of chosen) {
    out.set(key(c), c);
    for (const [name] of rules) if (name.length >= c.length && c.every((p, i) => name[i] === p)) out.set(key(name), name);
  }
  return [...out.values()];
}

/** After `events = categorize(...)`: keep only the chosen categories' window time, cut
 * browser and editor time to it, and (several devices) take each device's part again. */
function categoryFilter(hosts: HostBuckets[], rules: [string[], Rule][], opts: CountOptions, withBrowser: boolean, withEditor: boolean): string[] {
  if (!opts.categories?.length) return [];
  const L = [`events = filter_keyvals(events, "$category", ${qlit(selectedCategoryNames(rules, opts.categories))});`];
  if (withBrowser) L.push('browser_events = filter_period_intersect(browser_events, events);');
  if (withEditor) L.push('editor_events = filter_period_intersect(editor_events, events);');
  const used = hosts.filter((h) => h.window);
  if (used.length > 1) used.forEach((h, i) => L.push(`mine_${i} = filter_keyvals(events, "${DEVICE_KEY}", [${qlit(h.host)}]);`));
  return L;
}

/** `{"host": f(mine_i), ...}` for every host with a window bucket (several devices). */
function perHost(hosts: HostBuckets[], f: (v: string) => string): string {
  return '{' + hosts.filter((h) => h.window).map((h, i) => `${qlit(h.host)}: ${f(`mine_${i}`)}`).join(', ') + '}';
}

export interface ActivityResult {
  window: {
    app_events: Ev[];
    title_events: Ev[];
    cat_events: Ev[];
    duration: number;
  };
  browser: { domains: Ev[]; urls: Ev[]; titles: Ev[]; duration: number };
  editor?: { files: Ev[]; projects: Ev[]; languages: Ev[]; duration: number };
  /** several devices: each device's share of `window.duration` (they add up to it) */
  hosts?: Record<string, number>;
  /** several devices, on request: the periods attributed to each device */
  spans?: Record<string, Ev[]>;
}
export interface Ev {
  timestamp: string;
  duration: number;
  data: JsonObject;
}

/** The Activity summary for one or several hosts; `withSpans` (several hosts) adds the
 * periods attributed to each device, for the day view's per-device hourly bars. */
export function activityQuery(hosts: HostBuckets[], rules: [string[], Rule][], limit = 100, withSpans = false, opts: CountOptions = {}): string[] {
  const withEditor = hosts.some((h) => h.editors.length);
  const L = canonical(hosts, true, withEditor, opts);
  L.push(`events = categorize(events, ${qlit(rules)});`, ...categoryFilter(hosts, rules, opts, true, withEditor));
  L.push(
    'title_events = sort_by_duration(merge_events_by_keys(events, ["app", "title"]));',
    'app_events = sort_by_duration(merge_events_by_keys(title_events, ["app"]));',
    'cat_events = sort_by_duration(merge_events_by_keys(events, ["$category"]));',
    `app_events = limit_events(app_events, ${limit});`,
    `title_events = limit_events(title_events, ${limit});`,
    'duration = sum_durations(events);',
    'browser_events = split_url_events(browser_events);',
    `browser_urls = limit_events(sort_by_duration(merge_events_by_keys(browser_events, ["url"])), ${limit});`,
    `browser_domains = limit_events(sort_by_duration(merge_events_by_keys(browser_events, ["$domain"])), ${limit});`,
    `browser_titles = limit_events(sort_by_duration(merge_events_by_keys(browser_events, ["title"])), ${limit});`,
    'browser_duration = sum_durations(browser_events);',
  );
  let editor = '';
  if (withEditor) {
    L.push(
      `editor_files = limit_events(sort_by_duration(merge_events_by_keys(editor_events, ["file"])), ${limit});`,
      `editor_projects = limit_events(sort_by_duration(merge_events_by_keys(editor_events, ["project"])), ${limit});`,
      `editor_languages = limit_events(sort_by_duration(merge_events_by_keys(editor_events, ["language"])), ${limit});`,
      'editor_duration = sum_durations(editor_events);',
    );
    editor = ', "editor": {"files": editor_files, "projects": editor_projects, "languages": editor_languages, "duration": editor_duration}';
  }
  // several devices: each one's share of the total (they add up to it), and on request the
  // periods attributed to it (touching pieces merged)
  const multi = hosts.filter((h) => h.window).length > 1;
  const devs = (multi ? ', "hosts": ' + perHost(hosts, (m) => `sum_durations(${m})`) : '') +
    (multi && withSpans ? ', "spans": ' + perHost(hosts, (m) => `period_union(${m}, [])`) : '');
  L.push(
    'RETURN = {"window": {"app_events": app_events, "title_events": title_events, "cat_events": cat_events, "duration": duration}, ' +
      '"browser": {"domains": browser_domains, "urls": browser_urls, "titles": browser_titles, "duration": browser_duration}' +
      editor +
      devs +
      '};',
  );
  return L;
}

/** What categoryPeriodQuery returns for each period (`hosts`: several devices, each one's
 * share of `duration`). */
export interface CategoryPeriodResult {
  cats: Ev[];
  duration: number;
  hosts?: Record<string, number>;
}

/** Per-sub-period category totals, and with several devices each device's share, for the
 * bar chart (run with one timeperiod per bar). A bar's query sees only the bar's own time:
 * an activity begun before it counts as begun at its start, exactly as in the summary of
 * that day (or month) on its own. The day view's hourly bars split by device from the
 * summary's `spans` instead, so that they follow the day's attribution. */
export function categoryPeriodQuery(hosts: HostBuckets[], rules: [string[], Rule][], opts: CountOptions = {}): string[] {
  const L = canonical(hosts, false, false, opts);
  const devs = hosts.filter((h) => h.window).length > 1 ? ', "hosts": ' + perHost(hosts, (m) => `sum_durations(${m})`) : '';
  L.push(
    `events = categorize(events, ${qlit(rules)});`,
    ...categoryFilter(hosts, rules, opts, false, false),
    'RETURN = {"cats": merge_events_by_keys(events, ["$category"]), "duration": sum_durations(events)' + devs + '};',
  );
  return L;
}

/** The active time alone (the summary's `window.duration`: the same events, the same
 * options), for the Activity page's strip of neighbouring periods, run with one timeperiod
 * per period. Categorising is only needed when categories are kept. */
export function activeTimeQuery(hosts: HostBuckets[], rules: [string[], Rule][], opts: CountOptions = {}): string[] {
  const L = canonical(hosts, false, false, opts);
  if (opts.categories?.length) L.push(`events = categorize(events, ${qlit(rules)});`, ...categoryFilter(hosts, rules, opts, false, false));
  L.push('RETURN = sum_durations(events);');
  return L;
}

/** The periods attributed to each device (several devices), for the Timeline. */
export function deviceSpansQuery(hosts: HostBuckets[]): string[] {
  const L = canonical(hosts, false, false);
  const used = hosts.filter((h) => h.window);
  L.push('RETURN = ' + (used.length === 1 ? `{${qlit(used[0].host)}: period_union(events, [])}` : perHost(hosts, (m) => `period_union(${m}, [])`)) + ';');
  return L;
}

/** Example programs for the query explorer. */
export function exampleQueries(h: HostBuckets | null): { name: string; text: string }[] {
  const w = h?.window || 'aw-watcher-window_HOST';
  const a = h?.afk || 'aw-watcher-afk_HOST';
  const ex = [
    {
      name: 'Top applications (active time)',
      text: `# Window events while not AFK, merged by app\nevents = flood(query_bucket("${w}"));\nnot_afk = flood(query_bucket("${a}"));\nnot_afk = filter_keyvals(not_afk, "status", ["not-afk"]);\nevents = filter_period_intersect(events, not_afk);\nevents = merge_events_by_keys(events, ["app"]);\nRETURN = sort_by_duration(events);`,
    },
    {
      name: 'Total active time',
      text: `not_afk = flood(query_bucket("${a}"));\nnot_afk = filter_keyvals(not_afk, "status", ["not-afk"]);\nRETURN = sum_durations(not_afk);`,
    },
    {
      name: 'Titles matching a regex',
      text: `events = flood(query_bucket("${w}"));\nevents = filter_keyvals_regex(events, "title", "GitHub|Stack Overflow");\nRETURN = limit_events(sort_by_duration(merge_events_by_keys(events, ["title"])), 50);`,
    },
    { name: 'Bucket names', text: 'RETURN = query_bucket_names();' },
  ];
  if (h?.browsers.length) {
    ex.splice(2, 0, {
      name: 'Browser domains',
      text: `events = split_url_events(flood(query_bucket("${h.browsers[0].id}")));\nRETURN = limit_events(sort_by_duration(merge_events_by_keys(events, ["$domain"])), 50);`,
    });
  }
  return ex;
}
