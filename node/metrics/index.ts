export { NodeMetrics, type MetricsSource, type TierCounts, type NodeMetricsInit, type HistoryPoint } from './node-metrics.js'
export { startMetricsServer, MetricsListenError, type MetricsServer, type MetricsServerInit } from './http-server.js'
export { dashboardHtml } from './dashboard.js'
