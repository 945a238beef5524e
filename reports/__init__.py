"""Reports: the official forms from the warehouse.

- reports.formdef  — form definitions (YAML, per regime) → computed, checked tables
- reports.levels   — the rows of every unit's report at every level (own, consolidated,
  remapped views), the province's included, and writing one report
- reports.render   — the official Excel layout (write_xlsx; XlsxWriter through reports.xlsx)
- reports.lineage  — where every number came from (the .nguon.csv companion)
- reports.publish  — the published tree, versions and the manifest
- reports.summary  — multi-year summaries; reports.mau02 / narrative — the narrative report
- reports.dq_workbook, verify, libreoffice — the data-quality workbook, opening checks
"""
