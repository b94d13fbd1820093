// usage: node tests/bench/webui_bench.mjs [runs]  (see webui_bench.sh)
import { yearBench } from '../ui/yearbench.mjs';

const r = await yearBench({ runs: Number(process.argv[2] || 3), log: (m) => console.error(m) });
console.log(JSON.stringify({ bench: 'webui year view, 365-day data set', target_fmp_ms: 500, ...r }));
