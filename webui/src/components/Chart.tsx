import { useEffect, useRef } from 'preact/hooks';
import type { ECElementEvent, EChartsCoreOption, EChartsType } from 'echarts/core';
import { isDark, themeListeners } from '../lib/store';

type EC = typeof import('./../lib/echarts').default;
let loader: Promise<EC> | null = null;
export function loadECharts(): Promise<EC> {
  if (!loader) loader = import('../lib/echarts').then((m) => m.default);
  return loader;
}

/** An ECharts option, or a function of the theme (dark or not) that makes one. */
export type ChartOption = EChartsCoreOption | ((dark: boolean) => EChartsCoreOption);

export interface ChartProps {
  option: ChartOption;
  height?: number | string;
  onClick?: (p: ECElementEvent) => void;
  class?: string;
  testId?: string;
  /** Called after every full render (new option, theme) and resize, for adjustments that
   * depend on the drawn size (e.g. how many axis labels fit). */
  afterRender?: (chart: EChartsType) => void;
  /** More ECharts events (e.g. 'datazoom'), with the chart. */
  events?: Record<string, (params: unknown, chart: EChartsType) => void>;
}

/** A chart's element, carrying its ECharts instance once rendered. */
export type ChartElement = HTMLDivElement & { awChart?: EChartsType };

/** Theme-aware ECharts wrapper: resizes with its box, re-renders on option or theme change. */
export function Chart({ option, height = 260, onClick, class: cls, testId, afterRender, events }: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const inst = useRef<EChartsType | null>(null);
  const click = useRef(onClick);
  click.current = onClick;
  const opt = useRef(option);
  opt.current = option;
  const after = useRef(afterRender);
  after.current = afterRender;
  const evs = useRef(events);
  evs.current = events;

  useEffect(() => {
    let disposed = false;
    let ro: ResizeObserver | null = null;
    const render = () => {
      const o = typeof opt.current === 'function' ? opt.current(isDark()) : opt.current;
      if (!inst.current) return;
      inst.current.setOption(o, true);
      after.current?.(inst.current);
    };
    const onTheme = () => render();
    loadECharts().then((echarts) => {
      if (disposed || !el.current) return;
      const chart = echarts.init(el.current, undefined, { renderer: 'canvas' });
      inst.current = chart;
      chart.on('click', (p) => click.current?.(p));
      for (const name of Object.keys(evs.current || {})) chart.on(name, (p) => evs.current?.[name]?.(p, chart));
      render();
      // the browser tests read what a chart shows (chart.getOption()) through this property
      (el.current as ChartElement).awChart = chart;
      el.current.dataset.ready = '1';
      ro = new ResizeObserver(() => {
        if (!inst.current) return;
        inst.current.resize();
        after.current?.(inst.current);
      });
      ro.observe(el.current);
      themeListeners.add(onTheme);
    });
    return () => {
      disposed = true;
      ro?.disconnect();
      themeListeners.delete(onTheme);
      inst.current?.dispose();
      inst.current = null;
    };
  }, []);

  useEffect(() => {
    if (!inst.current) return;
    const o = typeof option === 'function' ? option(isDark()) : option;
    inst.current.setOption(o, true);
    after.current?.(inst.current);
  }, [option]);

  return <div ref={el} class={'chart ' + (cls || '')} data-testid={testId} style={{ height: typeof height === 'number' ? `${height}px` : height }} />;
}

/** Colours of axis text and grid lines for the current theme. */
export function axisColors(dark: boolean) {
  return {
    text: dark ? '#94a3b8' : '#64748b',
    line: dark ? 'rgba(148,163,184,0.14)' : 'rgba(100,116,139,0.16)',
    tooltipBg: dark ? '#1e293b' : '#ffffff',
    tooltipText: dark ? '#e2e8f0' : '#0f172a',
    tooltipBorder: dark ? '#334155' : '#e2e8f0',
  };
}
