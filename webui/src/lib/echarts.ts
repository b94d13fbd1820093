// Only the parts of ECharts the UI uses (tree-shaken; loaded lazily as the "charts" chunk).
import * as echarts from 'echarts/core';
import { BarChart, CustomChart, SunburstChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, CustomChart, SunburstChart, DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

export default echarts;
