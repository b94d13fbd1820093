// Category rules, stored in the ActivityWatch settings key `classes` so both UIs share them.
import { t } from './i18n';

export interface Rule {
  type: 'regex' | 'none' | null;
  regex?: string;
  ignore_case?: boolean;
}

export interface Category {
  id?: number;
  name: string[];
  rule: Rule;
  data?: { color?: string; score?: number; [k: string]: unknown };
}

const C = (name: string[], regex: string | null, ignore_case = false, color?: string): Category => ({
  name,
  rule: regex === null ? { type: 'none' } : ignore_case ? { type: 'regex', regex, ignore_case: true } : { type: 'regex', regex },
  ...(color ? { data: { color } } : {}),
});

/** ActivityWatch's default categories (aw-webui `defaultCategories`), with our colours. */
export const DEFAULT_CLASSES: Category[] = [
  C(['Work'], 'Google Docs|libreoffice|ReText', false, '#6366f1'),
  C(['Work', 'Programming'], 'GitHub|Stack Overflow|BitBucket|Gitlab|vim|Spyder|kate|Ghidra|Scite'),
  C(['Work', 'Programming', 'ActivityWatch'], 'ActivityWatch|aw-', true),
  C(['Work', 'Image'], 'GIMP|Inkscape'),
  C(['Work', 'Video'], 'Kdenlive'),
  C(['Work', 'Audio'], 'Audacity'),
  C(['Work', '3D'], 'Blender'),
  C(['Media', 'Games'], 'Minecraft|RimWorld', false, '#f43f5e'),
  C(['Media', 'Video'], 'YouTube|Plex|VLC'),
  C(['Media', 'Social Media'], 'reddit|Facebook|Twitter|Instagram|devRant', true),
  C(['Media', 'Music'], 'Spotify|Deezer', true),
  C(['Comms', 'IM'], 'Messenger|Telegram|Signal|WhatsApp|Rambox|Slack|Riot|Element|Discord|Nheko|NeoChat|Mattermost', false, '#0ea5e9'),
  C(['Comms', 'Email'], 'Gmail|Thunderbird|mutt|alpine'),
].map((c, i) => ({ ...c, id: i + 1 }));

/** Give every category an id; make sure every parent path exists (ActivityWatch allows
 * rules for ["Work","Programming"] without a ["Work"] entry; the editor wants the node). */
export function normalise(classes: Category[]): Category[] {
  let next = Math.max(0, ...classes.map((c) => c.id || 0)) + 1;
  const out = classes.map((c) => ({ ...c, id: c.id ?? next++, rule: c.rule || { type: 'none' } }));
  const have = new Set(out.map((c) => c.name.join('\u0000')));
  for (const c of [...out]) {
    for (let i = 1; i < c.name.length; i++) {
      const p = c.name.slice(0, i);
      const k = p.join('\u0000');
      if (!have.has(k)) {
        have.add(k);
        out.push({ id: next++, name: p, rule: { type: 'none' } });
      }
    }
  }
  return out;
}

/** The `categorize` argument: [[path, rule], …] for rules that can match. */
export function rulesForQuery(classes: Category[]): [string[], Rule][] {
  return classes
    .filter((c) => c.rule && c.rule.type === 'regex' && c.rule.regex)
    .map((c) => {
      const r: Rule = { type: 'regex', regex: c.rule.regex };
      if (c.rule.ignore_case) r.ignore_case = true;
      return [c.name, r];
    });
}

export const PALETTE = [
  '#6366f1', '#10b981', '#f59e0b', '#ef4444', '#06b6d4', '#a855f7', '#ec4899', '#14b8a6',
  '#84cc16', '#f97316', '#3b82f6', '#eab308', '#8b5cf6', '#22c55e', '#0ea5e9', '#d946ef',
];

export function hashColor(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return PALETTE[(h >>> 0) % PALETTE.length];
}

/** Colour of a category path: its own, else the nearest ancestor's, else derived from the
 * top-level name (children get lighter shades of the parent's hue). */
export function categoryColor(path: string[], classes: Category[]): string {
  if (!path.length || path[0] === 'Uncategorized') return '#94a3b8';
  for (let n = path.length; n > 0; n--) {
    const k = path.slice(0, n).join('\u0000');
    const c = classes.find((x) => x.name.join('\u0000') === k);
    if (c?.data?.color) return n === path.length ? c.data.color : shade(c.data.color, (path.length - n) * 0.18);
  }
  return shade(hashColor(path[0]), (path.length - 1) * 0.18);
}

/** Mix a hex colour with white by `amount` (0..1). */
export function shade(hex: string, amount: number): string {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!m || amount <= 0) return hex;
  let h = m[1];
  if (h.length === 3) h = h.split('').map((x) => x + x).join('');
  const n = parseInt(h, 16);
  const mix = (c: number) => Math.round(c + (255 - c) * Math.min(amount, 0.8));
  const r = mix((n >> 16) & 255), g = mix((n >> 8) & 255), b = mix(n & 255);
  return '#' + ((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1);
}

/** JavaScript approximation of the server's matcher for live previews: unanchored search
 * over every top-level string value of the event data. */
export function compileRule(rule: Rule): RegExp | null {
  if (!rule || rule.type !== 'regex' || !rule.regex) return null;
  try {
    return toJsRegExp(rule.regex, !!rule.ignore_case);
  } catch {
    return null;
  }
}

/** JavaScript RegExp for a server (PCRE/Rust-style) pattern; a leading inline flag group
 * such as `(?i)` becomes a JS flag. Other syntax differences are rare in category rules. */
export function toJsRegExp(pattern: string, ignoreCase = false): RegExp {
  let flags = ignoreCase ? 'i' : '';
  const m = /^\(\?([imsx]+)\)/.exec(pattern);
  if (m) {
    pattern = pattern.slice(m[0].length);
    for (const f of m[1]) if (f !== 'x' && !flags.includes(f)) flags += f;
  }
  return new RegExp(pattern, flags);
}

export function ruleError(rule: Rule): string | null {
  if (!rule || rule.type !== 'regex') return null;
  if (!rule.regex) return 'Empty pattern';
  try {
    toJsRegExp(rule.regex, !!rule.ignore_case);
    return null;
  } catch (e) {
    return String((e instanceof Error && e.message) || e).replace(/^Invalid regular expression: /, '');
  }
}

export function matches(re: RegExp, data: Record<string, unknown>): boolean {
  for (const v of Object.values(data)) if (typeof v === 'string' && re.test(v)) return true;
  return false;
}

/** Client-side categorize with the server's rule: the deepest matching path wins, among
 * equal depth the last one. */
export function categorizeLocal(data: Record<string, unknown>, compiled: [string[], RegExp][]): string[] {
  let cat = ['Uncategorized'];
  let uncategorized = true;
  for (const [path, re] of compiled) {
    if (!path.length) continue;
    if ((uncategorized || path.length >= cat.length) && matches(re, data)) {
      cat = path;
      uncategorized = false;
    }
  }
  return cat;
}

export interface CatNode {
  name: string;
  path: string[];
  own: number; // time categorised exactly here
  total: number; // own + children
  children: CatNode[];
  color: string;
}

/** An event's category path as the query's `categorize` set it (`$category`), else
 * Uncategorized. */
export function eventCategory(data: Record<string, unknown>): string[] {
  const c = data.$category;
  return Array.isArray(c) ? (c as string[]) : ['Uncategorized'];
}

/** Build a tree from merged `$category` events. */
export function categoryTree(catEvents: { duration: number; data: Record<string, unknown> }[], classes: Category[]): CatNode {
  const root: CatNode = { name: 'All', path: [], own: 0, total: 0, children: [], color: '#94a3b8' };
  for (const e of catEvents) {
    const path = eventCategory(e.data);
    let node = root;
    node.total += e.duration;
    for (let i = 0; i < path.length; i++) {
      let ch = node.children.find((c) => c.name === path[i]);
      if (!ch) {
        const p = path.slice(0, i + 1);
        ch = { name: path[i], path: p, own: 0, total: 0, children: [], color: categoryColor(p, classes) };
        node.children.push(ch);
      }
      ch.total += e.duration;
      node = ch;
    }
    node.own += e.duration;
  }
  const sort = (n: CatNode) => {
    n.children.sort((a, b) => b.total - a.total);
    n.children.forEach(sort);
  };
  sort(root);
  return root;
}

/** Built-in sets of categories that can be added to one's own (Settings › Categories). */
export interface CategoryPreset {
  id: string;
  label: string;
  classes: Category[];
}

export const CATEGORY_PRESETS: CategoryPreset[] = [
  // labels in the UI's language; the categories' names are data and stay as they are
  { id: 'activitywatch', label: t('categories.preset.activitywatch'), classes: DEFAULT_CLASSES },
  {
    id: 'programming',
    label: t('categories.preset.programming'),
    classes: [
      C(['Work'], null, false, '#6366f1'),
      C(['Work', 'Programming'], 'Visual Studio Code|VSCodium|IntelliJ|PyCharm|WebStorm|CLion|GoLand|Rider|Android Studio|Xcode|Eclipse|Sublime Text|Emacs|Neovim|vim|Zed'),
      C(['Work', 'Programming', 'Terminal'], 'Terminal|Konsole|kitty|Alacritty|WezTerm|iTerm|xterm|foot|Ghostty', true),
      C(['Work', 'Programming', 'Reading docs'], 'Stack Overflow|MDN Web Docs|docs\\.rs|Read the Docs|GitHub|GitLab|Codeberg'),
    ],
  },
  {
    id: 'communication',
    label: t('categories.preset.communication'),
    classes: [
      C(['Comms'], null, false, '#0ea5e9'),
      C(['Comms', 'Meetings'], 'Zoom|Microsoft Teams|Google Meet|Jitsi|Webex|Skype'),
      C(['Comms', 'IM'], 'Slack|Discord|Telegram|Signal|WhatsApp|Element|Mattermost|Messenger'),
      C(['Comms', 'Email'], 'Gmail|Outlook|Thunderbird|Proton Mail|Fastmail|Evolution|mutt'),
    ],
  },
  {
    id: 'media',
    label: t('categories.preset.media'),
    classes: [
      C(['Media'], null, false, '#f43f5e'),
      C(['Media', 'Video'], 'YouTube|Netflix|Twitch|Prime Video|Disney\\+|VLC|mpv|Plex'),
      C(['Media', 'Music'], 'Spotify|Deezer|Tidal|Apple Music|SoundCloud', true),
      C(['Media', 'Social Media'], 'reddit|Twitter|Mastodon|Bluesky|Facebook|Instagram|TikTok|LinkedIn', true),
    ],
  },
];

/** `classes` with the preset's categories whose names it does not have yet (existing ones
 * are left as they are, rule and colour included); `added` counts the new ones. */
export function addPreset(classes: Category[], preset: CategoryPreset): { classes: Category[]; added: number } {
  const have = new Set(classes.map((c) => c.name.join('\u0000')));
  let next = Math.max(0, ...classes.map((c) => c.id || 0)) + 1;
  const extra = preset.classes
    .filter((c) => !have.has(c.name.join('\u0000')))
    .map((c) => ({ ...c, name: [...c.name], rule: { ...c.rule }, id: next++ }));
  return { classes: [...classes, ...extra], added: extra.length };
}
