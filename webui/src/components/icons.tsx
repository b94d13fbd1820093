// Inline stroke icons (24×24, currentColor).
const P = (d: string) => () => (
  <svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    <path d={d} />
  </svg>
);
export const IconActivity = P('M3 12h4l3-8 4 16 3-8h4');
export const IconTimeline = P('M3 6h10M7 12h14M3 18h8M17 6h4M15 18h6');
export const IconDatabase = P('M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zm0 0v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3');
export const IconCode = P('M8 7l-5 5 5 5M16 7l5 5-5 5M14 4l-4 16');
export const IconSettings = P('M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z');
export const IconSync = P('M21 12a9 9 0 0 1-15.5 6.2L3 16m0-4a9 9 0 0 1 15.5-6.2L21 8M21 3v5h-5M3 21v-5h5');
export const IconTimer = P('M12 8v5l3 2M9 2h6M12 22a8 8 0 1 0 0-16 8 8 0 0 0 0 16z');
export const IconChevronLeft = P('M15 18l-6-6 6-6');
export const IconChevronRight = P('M9 18l6-6-6-6');
export const IconDownload = P('M12 3v12m0 0l-4-4m4 4l4-4M4 17v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2');
export const IconUpload = P('M12 21V9m0 0l-4 4m4-4l4 4M4 7V5a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2v2');
export const IconTrash = P('M3 6h18M8 6V4h8v2M6 6l1 14a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-14');
export const IconPlay = P('M7 4l13 8-13 8z');
export const IconStop = P('M6 6h12v12H6z');
export const IconPlus = P('M12 5v14M5 12h14');
export const IconMoon = P('M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z');
export const IconSun = P('M12 17a5 5 0 1 0 0-10 5 5 0 0 0 0 10zM12 1v2M12 21v2M4.2 4.2l1.4 1.4M18.4 18.4l1.4 1.4M1 12h2M21 12h2M4.2 19.8l1.4-1.4M18.4 5.6l1.4-1.4');
export const IconLock = P('M5 11h14v10H5zM8 11V7a4 4 0 0 1 8 0v4');
export const IconDevice = P('M3 5h18v11H3zM8 21h8M12 16v5');
export const IconCalendar = P('M4 5h16v16H4zM4 10h16M9 3v4M15 3v4');
export const IconSearch = P('M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16zM21 21l-4.3-4.3');
export const IconRefresh = P('M21 12a9 9 0 1 1-3-6.7L21 8M21 3v5h-5');
export const IconClock = P('M12 7v5l3 2M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z');
export const IconUndo = P('M9 14L4 9l5-5M4 9h11a5 5 0 0 1 0 10h-3');
export const IconReport = P('M6 2h9l5 5v15H6zM14 2v6h6M9 13h8M9 17h8M9 9h2');
export const IconClose = P('M6 6l12 12M18 6L6 18');
export const IconInbox = P('M3 13h5l1.5 3h5L16 13h5M5.5 5h13L21 13v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-6z');
export const IconEdit = P('M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4');
export const IconShield = P('M12 3l8 3v6c0 4.5-3.4 8.2-8 9-4.6-.8-8-4.5-8-9V6z');
