"""The month-end report: ``toekgw reconcile --month YYYY-MM`` (see docs/reconciliation.md)."""

from toekgw.adapters.monthreport.model import MonthReport, build_report, month
from toekgw.adapters.monthreport.write import write_csv, write_html, write_xlsx

__all__ = ["MonthReport", "build_report", "month", "write_csv", "write_html", "write_xlsx"]
