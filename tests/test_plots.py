"""The terminal plots (widgets/plot.py): what a user reads off them."""
from neai_tui.widgets.plot import PlotSpec, Rule, Series, nice_ticks, render_plot


def canvas_rows(text: str) -> list[str]:
    """The rows inside the plot's frame."""
    lines = text.split("\n")
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    left = lines[top].index("┌")
    return [line[left + 1 : lines[top].index("┐")] for line in lines[top + 1 : bottom]]


def test_a_log_axis_spreads_the_curve_over_the_plot_and_labels_round_counts():
    counts = list(range(1, 21)) + [25, 33, 44, 59, 78, 104, 138, 180]
    spec = PlotSpec([Series(counts, [min(1.0, 0.5 + c / 40) for c in counts], "balanced accuracy", lines=True)],
                    rules=[Rule(19, "minimum", vertical=True)], x_label="signals learned", x_log=True)
    text = render_plot(spec, 60, 14).plain
    rows = canvas_rows(text)
    drawn = [i for row in rows for i, ch in enumerate(row) if "\u2800" < ch <= "\u28ff"]
    assert min(drawn) <= 2 and max(drawn) >= len(rows[0]) - 3  # from the left edge to the right one
    tick_line = text.split("\n")[next(i for i, line in enumerate(text.split("\n")) if "└" in line) + 1]
    assert tick_line.split() == ["1", "2", "5", "10", "20", "50", "100"]
    rule_column = {row.index("│") for row in rows if "│" in row}
    assert len(rule_column) == 1 and 0.5 < rule_column.pop() / len(rows[0]) < 0.6  # log10(19) / log10(180)


def test_round_ticks_and_an_empty_plot():
    assert nice_ticks(0, 1300, 5)[1] == ["0", "250", "500", "750", "1000", "1250"]  # not 1.3e3
    assert nice_ticks(0.0, 1.0, 3) == ([0.0, 0.5, 1.0], ["0.0", "0.5", "1.0"])
    assert render_plot(PlotSpec(empty_text="nothing yet"), 40, 10).plain == "nothing yet"
