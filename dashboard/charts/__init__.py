"""Drawing blocks the pages compose: KPI cards, charts, the province map, tables with audited
downloads and the paged customer lists."""
