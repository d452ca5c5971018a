"""Provisioning health: the workbook KPIs from the catalog, the daily digest and `health`."""
