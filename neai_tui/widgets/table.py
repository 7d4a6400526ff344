"""The DataTable every screen uses."""
from __future__ import annotations

from textual.widgets import DataTable


class Table(DataTable):
    """A DataTable whose rows are drawn again once their columns are sized.

    DataTable measures new rows when idle and caches rendered rows by its update
    count only: rows drawn between add_row and that measurement keep the narrow
    header widths (seen as truncated cells when a worker fills a table). Bumping
    the count after the measurement redraws them at their width.
    """

    def _update_dimensions(self, new_rows) -> None:
        super()._update_dimensions(new_rows)
        self._update_count += 1
        self.refresh()
